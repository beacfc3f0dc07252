;; Calls sys_cap_recv once on its granted endpoint (handle 0) and checks what arrives: the
;; message must be the sender's opcode 0x2222 with the 5 bytes "ping!". It logs before waiting;
;; while blocked it runs no instruction, so its next line can only follow the sender's.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_cap_recv" (func $recv (param i64 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "waiting for a message")
  (data (i32.const 32) "received opcode 0x2222 with ping!")
  (data (i32.const 80) "FAIL: wrong message")
  (func (export "_start")
    (local $sender i64)
    (call $log (i32.const 0) (i32.const 21))
    (local.set $sender (call $recv (i64.const 0) (i32.const 1024) (i32.const 256)))
    (if (i32.and
          (i32.and (i64.gt_s (local.get $sender) (i64.const 0))
                   (i32.eq (i32.load (i32.const 1024)) (i32.const 0x2222)))
          (i32.and (i32.eq (i32.load (i32.const 1028)) (i32.const 5))
                   (i32.and (i64.eq (i64.load (i32.const 1032)) (i64.const -1))
                            (i32.eq (i32.load (i32.const 1040)) (i32.const 0x676e6970)))))  ;; "ping"
      (then (call $log (i32.const 32) (i32.const 33)))
      (else (call $log (i32.const 80) (i32.const 19))))))
