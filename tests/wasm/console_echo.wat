;; Echoes console input: each message from console.in (handle 0) goes back to console.out
;; (handle 1) as "echo: <bytes>\n", so a person typing on the serial line sees it answered.
(module
  (import "env" "sys_cap_recv" (func $recv (param i64 i32 i32) (result i64)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 1000) "echo: ")
  (func (export "_start")
    (local $len i32)
    (loop $forever
      ;; Header at 1010 (payload lands at 1026, right after "echo: " at 1020).
      (if (i64.ge_s (call $recv (i64.const 0) (i32.const 1010) (i32.const 1000)) (i64.const 0))
        (then
          (local.set $len (i32.load (i32.const 1014)))
          (memory.copy (i32.const 1020) (i32.const 1000) (i32.const 6))
          (i32.store8 (i32.add (i32.const 1026) (local.get $len)) (i32.const 10))
          (drop (call $send (i64.const 1) (i32.const 0) (i32.const 1020)
                            (i32.add (local.get $len) (i32.const 7)) (i64.const -1))))
        (else (return)))
      (br $forever))))
