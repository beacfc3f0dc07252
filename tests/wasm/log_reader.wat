;; Receives one message from the endpoint the manifest mirrors the kernel log to (handle 0):
;; opcode 2 (LOG_TEXT) with text, which starts with the kernel's banner "MinimalOS".
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_cap_recv" (func $recv (param i64 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "kernel log text arrived")
  (data (i32.const 32) "FAIL: no kernel log text")
  (func (export "_start")
    (if (i32.and
          (i32.and (i64.ge_s (call $recv (i64.const 0) (i32.const 1024) (i32.const 5000)) (i64.const 0))
                   (i32.eq (i32.load (i32.const 1024)) (i32.const 2)))
          (i32.eq (i32.load (i32.const 1040)) (i32.const 0x696e694d)))  ;; "Mini"
      (then (call $log (i32.const 0) (i32.const 23)))
      (else (call $log (i32.const 32) (i32.const 24))))))
