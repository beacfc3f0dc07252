;; Answers every message on handle 0 with the same payload on handle 1, until the ping is gone.
(module
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (import "env" "sys_cap_recv" (func $recv (param i64 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $again
      (if (i64.ge_s (call $recv (i64.const 0) (i32.const 256) (i32.const 64)) (i64.const 0))
        (then
          (drop (call $send (i64.const 1) (i32.const 2) (i32.const 272) (i32.load (i32.const 260)) (i64.const -1)))
          (br $again))))))
