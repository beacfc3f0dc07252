;; `bench path`: what the pieces of an IPC round trip cost on their own. Waits 300 ms for the
;; system to settle (the log line about its own start is still being drawn), then times, with
;; sys_clock_ns, batches of 500 iterations of:
;;   0. nothing (the loop's own cost, subtracted from the others by the shell);
;;   1. sys_tsc_hz, a host call that only returns a number (host-call dispatch);
;;   2. sys_cap_send of 8 bytes then sys_cap_try_recv of it, on an endpoint of its own
;;      (capability checks, copies and queueing, without blocking or switching);
;;   3. sys_yield alone on the CPU (a fiber switch to the executor and back).
;; Each is timed in 20 batches and the fastest batch kept, so work that other tasks do meanwhile
;; (drawing the console, a timer tick) does not count. Sends the shell (grant 0, opcode 2) five
;; u64s: the batch size, then the four fastest batches' ns in the order above.
(module
  (import "env" "sys_clock_ns" (func $clock (result i64)))
  (import "env" "sys_sleep_ns" (func $sleep (param i64) (result i32)))
  (import "env" "sys_tsc_hz" (func $tsc_hz (result i64)))
  (import "env" "sys_yield" (func $yield))
  (import "env" "sys_endpoint_create" (func $endpoint (param i32) (result i64)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (import "env" "sys_cap_try_recv" (func $try_recv (param i64 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (global $batch i32 (i32.const 500))
  (global $ep (mut i64) (i64.const -1))
  (table 4 funcref)
  (elem (i32.const 0) $empty $call $ipc $yields)
  (type $loop (func (param i32)))
  (func $empty (param $i i32)
    (loop $l (br_if $l (local.tee $i (i32.sub (local.get $i) (i32.const 1))))))
  (func $call (param $i i32)
    (loop $l
      (drop (call $tsc_hz))
      (br_if $l (local.tee $i (i32.sub (local.get $i) (i32.const 1))))))
  (func $ipc (param $i i32)
    (loop $l
      (drop (call $send (global.get $ep) (i32.const 1) (i32.const 128) (i32.const 8) (i64.const -1)))
      (drop (call $try_recv (global.get $ep) (i32.const 256) (i32.const 64)))
      (br_if $l (local.tee $i (i32.sub (local.get $i) (i32.const 1))))))
  (func $yields (param $i i32)
    (loop $l
      (call $yield)
      (br_if $l (local.tee $i (i32.sub (local.get $i) (i32.const 1))))))
  ;; The fastest of 20 timed batches of loop `op`.
  (func $best (param $op i32) (result i64)
    (local $round i32) (local $t i64) (local $best i64)
    (local.set $best (i64.const -1))
    (loop $rounds
      (local.set $t (call $clock))
      (call_indirect (type $loop) (global.get $batch) (local.get $op))
      (local.set $t (i64.sub (call $clock) (local.get $t)))
      (if (i64.lt_u (local.get $t) (local.get $best)) (then (local.set $best (local.get $t))))
      (br_if $rounds (i32.lt_u (local.tee $round (i32.add (local.get $round) (i32.const 1))) (i32.const 20))))
    (local.get $best))
  (func (export "_start")
    (local $op i32)
    (global.set $ep (call $endpoint (i32.const 1)))
    (if (i64.lt_s (global.get $ep) (i64.const 0)) (then (return)))
    (drop (call $sleep (i64.const 300000000)))
    (i64.store (i32.const 0) (i64.extend_i32_u (global.get $batch)))
    (loop $ops
      (i64.store (i32.add (i32.const 8) (i32.shl (local.get $op) (i32.const 3))) (call $best (local.get $op)))
      (br_if $ops (i32.lt_u (local.tee $op (i32.add (local.get $op) (i32.const 1))) (i32.const 4))))
    (drop (call $send (i64.const 0) (i32.const 2) (i32.const 0) (i32.const 40) (i64.const -1)))))
