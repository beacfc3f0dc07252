;; Sleeps 50 ms (so the receiver is surely blocked), logs, then sends opcode 0x2222 with "ping!"
;; on its granted endpoint (handle 0). Every argument has a distinct value, so a host reading
;; them in another order would send something else.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_sleep_ns" (func $sleep (param i64) (result i32)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "sending")
  (data (i32.const 16) "FAIL: send refused")
  (data (i32.const 100) "ping!")
  (func (export "_start")
    (drop (call $sleep (i64.const 50000000)))
    (call $log (i32.const 0) (i32.const 7))
    (if (i32.ne (call $send (i64.const 0) (i32.const 0x2222) (i32.const 100) (i32.const 5) (i64.const -1))
                (i32.const 0))
      (then (call $log (i32.const 16) (i32.const 18))))))
