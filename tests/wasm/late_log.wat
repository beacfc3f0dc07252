;; Sleeps two seconds, then logs one line and exits: a kernel log line that arrives while a
;; person is typing at the shell (tests/shell.rs).
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_sleep_ns" (func $sleep (param i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "late")
  (func (export "_start")
    (drop (call $sleep (i64.const 2000000000)))
    (call $log (i32.const 0) (i32.const 4))))
