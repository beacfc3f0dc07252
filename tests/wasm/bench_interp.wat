;; `bench wasm`, and `make bench`'s host runner (`tools/interp-host`): the interpreter's
;; workloads. Each exported function `W` runs the global `W_n` times its loop (or, for `calls`, is the
;; recursion's depth) and returns how many units it ran: calls made, or loop iterations. Loop
;; bodies are counted below, so a unit's Wasm instructions are known.
;;   calls       a recursive function of one compare, two calls and two adds (like fib);
;;   integer     11 integer instructions;
;;   float       11 instructions, an f64.mul and an f64.add among them (soft-float in the kernel);
;;   memory_loop 17 instructions, an i32.load and an i32.store among them, over 64 KiB;
;;   host_calls  7 instructions and a call of sys_tsc_hz, a host function that returns a number.
;; In the kernel `_start` waits 300 ms for the system to settle (the console is still drawing
;; the line about its start), runs each workload once, timed with sys_clock_ns, and sends the
;; shell (grant 0, opcode 2) ten u64s: units and ns for each workload in the order above. The host runner calls
;; the exports itself, with imports of its own.
(module
  (import "env" "sys_clock_ns" (func $clock (result i64)))
  (import "env" "sys_tsc_hz" (func $tsc_hz (result i64)))
  (import "env" "sys_sleep_ns" (func $sleep (param i64) (result i32)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (memory (export "memory") 2)
  (global (export "calls_n") i32 (i32.const 25))
  (global (export "integer_n") i32 (i32.const 2000000))
  (global (export "float_n") i32 (i32.const 1000000))
  (global (export "memory_loop_n") i32 (i32.const 1000000))
  (global (export "host_calls_n") i32 (i32.const 200000))
  ;; Where the loops leave their results, past the figures, so no work is dead.
  (global $sink i32 (i32.const 128))
  ;; The 64 KiB the memory loop walks, in the second page.
  (global $window i32 (i32.const 65536))

  (func $calls (export "calls") (param $n i32) (result i64)
    (if (result i64) (i32.lt_u (local.get $n) (i32.const 2))
      (then (i64.const 1))
      (else
        (i64.add
          (i64.add
            (call $calls (i32.sub (local.get $n) (i32.const 1)))
            (call $calls (i32.sub (local.get $n) (i32.const 2))))
          (i64.const 1)))))

  (func $integer (export "integer") (param $n i32) (result i64)
    (local $i i32) (local $acc i32)
    (local.set $i (local.get $n))
    (loop $l
      local.get $acc      ;; 1
      local.get $i        ;; 2
      i32.add             ;; 3
      i32.const 3         ;; 4
      i32.mul             ;; 5
      local.set $acc      ;; 6
      local.get $i        ;; 7
      i32.const 1         ;; 8
      i32.sub             ;; 9
      local.tee $i        ;; 10
      br_if $l)           ;; 11
    (i32.store (global.get $sink) (local.get $acc))
    (i64.extend_i32_u (local.get $n)))

  (func $float (export "float") (param $n i32) (result i64)
    (local $i i32) (local $x f64)
    (local.set $i (local.get $n))
    (local.set $x (f64.const 1))
    (loop $l
      local.get $x        ;; 1
      f64.const 1.000001  ;; 2
      f64.mul             ;; 3
      f64.const 0.5       ;; 4
      f64.add             ;; 5
      local.set $x        ;; 6
      local.get $i        ;; 7
      i32.const 1         ;; 8
      i32.sub             ;; 9
      local.tee $i        ;; 10
      br_if $l)           ;; 11
    (f64.store (i32.add (global.get $sink) (i32.const 8)) (local.get $x))
    (i64.extend_i32_u (local.get $n)))

  (func $memory (export "memory_loop") (param $n i32) (result i64)
    (local $i i32) (local $at i32)
    (local.set $i (local.get $n))
    (loop $l
      local.get $at       ;; 1  the next word: the sum of this one and the one before
      local.get $at       ;; 2
      i32.load offset=65536 ;; 3
      local.get $i        ;; 4
      i32.add             ;; 5
      i32.store offset=65540 ;; 6
      local.get $at       ;; 7  on through the window, wrapping at its end
      i32.const 4         ;; 8
      i32.add             ;; 9
      i32.const 0xfff8    ;; 10
      i32.and             ;; 11
      local.set $at       ;; 12
      local.get $i        ;; 13 the count, as in the other loops
      i32.const 1         ;; 14
      i32.sub             ;; 15
      local.tee $i        ;; 16
      br_if $l)           ;; 17
    (i64.extend_i32_u (local.get $n)))

  (func $host_calls (export "host_calls") (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (local.set $i (local.get $n))
    (loop $l
      call $tsc_hz        ;; 1
      local.get $acc      ;; 2
      i64.add             ;; 3
      local.set $acc      ;; 4
      local.get $i        ;; 5
      i32.const 1         ;; 6
      i32.sub             ;; 7
      local.tee $i        ;; 8
      br_if $l)           ;; 9
    (i64.store (i32.add (global.get $sink) (i32.const 16)) (local.get $acc))
    (i64.extend_i32_u (local.get $n)))

  ;; Runs `$workload` (its table index) with `n`, and stores its units and ns at `at`.
  (type $workload (func (param i32) (result i64)))
  (table 5 funcref)
  (elem (i32.const 0) $calls $integer $float $memory $host_calls)
  (func $time (param $workload i32) (param $n i32) (param $at i32)
    (local $t i64)
    (local.set $t (call $clock))
    (i64.store (local.get $at) (call_indirect (type $workload) (local.get $n) (local.get $workload)))
    (i64.store offset=8 (local.get $at) (i64.sub (call $clock) (local.get $t))))

  (func (export "_start")
    (drop (call $sleep (i64.const 300000000)))
    (call $time (i32.const 0) (global.get 0) (i32.const 0))
    (call $time (i32.const 1) (global.get 1) (i32.const 16))
    (call $time (i32.const 2) (global.get 2) (i32.const 32))
    (call $time (i32.const 3) (global.get 3) (i32.const 48))
    (call $time (i32.const 4) (global.get 4) (i32.const 64))
    (drop (call $send (i64.const 0) (i32.const 2) (i32.const 0) (i32.const 80) (i64.const -1)))))
