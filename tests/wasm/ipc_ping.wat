;; Makes 200 round trips with ipc_pong.wat through the real kernel path (send, blocking
;; receive, fiber switches, executor) and logs "round trips: 200, mean N ns". The ABI test boot
;; also runs an endless loop, which takes its time slices in between: the mean shows that the
;; path works, it is not a latency figure (the IPC benchmark boots without the spinner).
;; Handle 0 sends to the pong, handle 1 receives its answers.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_clock_ns" (func $clock (result i64)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (import "env" "sys_cap_recv" (func $recv (param i64 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "round trips: 200, mean ")
  (data (i32.const 32) " ns")
  (data (i32.const 48) "FAIL: a round trip failed")
  (func (export "_start")
    (local $i i32) (local $start i64) (local $mean i32) (local $len i32) (local $v i32)
    (local.set $start (call $clock))
    (loop $again
      (i64.store (i32.const 128) (i64.extend_i32_u (local.get $i)))
      (if (i32.or
            (i32.ne (call $send (i64.const 0) (i32.const 1) (i32.const 128) (i32.const 8) (i64.const -1)) (i32.const 0))
            (i64.lt_s (call $recv (i64.const 1) (i32.const 256) (i32.const 64)) (i64.const 0)))
        (then (call $log (i32.const 48) (i32.const 25)) (return)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 200))))
    (local.set $mean (i32.wrap_i64 (i64.div_u (i64.sub (call $clock) (local.get $start)) (i64.const 200))))
    ;; Decimal digits of the mean, written backwards from 95.
    (local.set $v (local.get $mean))
    (loop $digits
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (i32.store8 (i32.sub (i32.const 96) (local.get $len)) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (i32.ne (local.get $v) (i32.const 0))))
    (memory.copy (i32.const 23) (i32.sub (i32.const 96) (local.get $len)) (local.get $len))
    (memory.copy (i32.add (i32.const 23) (local.get $len)) (i32.const 32) (i32.const 3))
    (call $log (i32.const 0) (i32.add (i32.const 26) (local.get $len)))))
