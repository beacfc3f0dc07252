;; Sleeps 10 ms and logs, three times, while the spinner spins: it must still make progress.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_sleep_ns" (func $sleep (param i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "tick")
  (data (i32.const 16) "FAIL: sleep refused")
  (func (export "_start")
    (local $i i32)
    (loop $again
      (if (i32.ne (call $sleep (i64.const 10000000)) (i32.const 0))
        (then (call $log (i32.const 16) (i32.const 19))))
      (call $log (i32.const 0) (i32.const 4))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 3))))))
