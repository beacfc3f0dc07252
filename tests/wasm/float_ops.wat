;; IEEE 754 arithmetic in the interpreter: f32 and f64 add, sub, mul and div on operands that
;; check rounding to nearest even, overflow to infinity, underflow through the subnormals
;; (none flushed to zero), signed zeros and division by zero; 0/0 must be a NaN. The kernel is
;; soft-float and does these on the SSE unit (kernel/src/arch/float.rs). Exits 0 when every
;; result has the expected bits, or the number of the first case that does not.
(module
  (import "env" "sys_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $case (mut i32) (i32.const 0))

  ;; The next case: exits with its number unless `got` is `want`.
  (func $f64 (param $got f64) (param $want i64)
    (global.set $case (i32.add (global.get $case) (i32.const 1)))
    (if (i64.ne (i64.reinterpret_f64 (local.get $got)) (local.get $want))
      (then (call $exit (global.get $case)))))
  (func $f32 (param $got f32) (param $want i32)
    (global.set $case (i32.add (global.get $case) (i32.const 1)))
    (if (i32.ne (i32.reinterpret_f32 (local.get $got)) (local.get $want))
      (then (call $exit (global.get $case)))))
  (func $d (param i64) (result f64) (f64.reinterpret_i64 (local.get 0)))
  (func $s (param i32) (result f32) (f32.reinterpret_i32 (local.get 0)))

  (func (export "_start")
    ;; 1: 0.1 + 0.2 rounds up to 0.30000000000000004.
    (call $f64 (f64.add (call $d (i64.const 0x3fb999999999999a)) (call $d (i64.const 0x3fc999999999999a)))
      (i64.const 0x3fd3333333333334))
    ;; 2: 1 / 3.
    (call $f64 (f64.div (call $d (i64.const 0x3ff0000000000000)) (call $d (i64.const 0x4008000000000000)))
      (i64.const 0x3fd5555555555555))
    ;; 3: 1e308 * 10 overflows to +inf.
    (call $f64 (f64.mul (call $d (i64.const 0x7fe1ccf385ebc8a0)) (call $d (i64.const 0x4024000000000000)))
      (i64.const 0x7ff0000000000000))
    ;; 4: the smallest subnormal halved ties to even: +0.
    (call $f64 (f64.mul (call $d (i64.const 1)) (call $d (i64.const 0x3fe0000000000000)))
      (i64.const 0))
    ;; 5: the smallest normal / 4 is a subnormal, not zero.
    (call $f64 (f64.div (call $d (i64.const 0x0010000000000000)) (call $d (i64.const 0x4010000000000000)))
      (i64.const 0x0004000000000000))
    ;; 6: 1 - (1 + ulp) = -ulp.
    (call $f64 (f64.sub (call $d (i64.const 0x3ff0000000000000)) (call $d (i64.const 0x3ff0000000000001)))
      (i64.const 0xbcb0000000000000))
    ;; 7: -0 + +0 = +0.
    (call $f64 (f64.add (call $d (i64.const 0x8000000000000000)) (call $d (i64.const 0)))
      (i64.const 0))
    ;; 8: -1 / +0 = -inf.
    (call $f64 (f64.div (call $d (i64.const 0xbff0000000000000)) (call $d (i64.const 0)))
      (i64.const 0xfff0000000000000))
    ;; 9: (1 + ulp)^2 rounds to 1 + 2 ulp.
    (call $f64 (f64.mul (call $d (i64.const 0x3ff0000000000001)) (call $d (i64.const 0x3ff0000000000001)))
      (i64.const 0x3ff0000000000002))
    ;; 10: 0.1f + 0.2f.
    (call $f32 (f32.add (call $s (i32.const 0x3dcccccd)) (call $s (i32.const 0x3e4ccccd)))
      (i32.const 0x3e99999a))
    ;; 11: 2^24 + 1 ties to even: 2^24.
    (call $f32 (f32.add (call $s (i32.const 0x4b800000)) (call $s (i32.const 0x3f800000)))
      (i32.const 0x4b800000))
    ;; 12: 1f / 3f.
    (call $f32 (f32.div (call $s (i32.const 0x3f800000)) (call $s (i32.const 0x40400000)))
      (i32.const 0x3eaaaaab))
    ;; 13: 3.4e38f * 10 overflows to +inf.
    (call $f32 (f32.mul (call $s (i32.const 0x7f7fc99e)) (call $s (i32.const 0x41200000)))
      (i32.const 0x7f800000))
    ;; 14: the smallest normal f32 / 8 is a subnormal.
    (call $f32 (f32.div (call $s (i32.const 0x00800000)) (call $s (i32.const 0x41000000)))
      (i32.const 0x00100000))
    ;; 15: 1f - (1f + ulp).
    (call $f32 (f32.sub (call $s (i32.const 0x3f800000)) (call $s (i32.const 0x3f800001)))
      (i32.const 0xb4000000))
    ;; 16: 0 / 0 is a NaN (any payload): it is not equal to itself.
    (global.set $case (i32.add (global.get $case) (i32.const 1)))
    (if (f64.eq (f64.div (call $d (i64.const 0)) (call $d (i64.const 0)))
                (f64.div (call $d (i64.const 0)) (call $d (i64.const 0))))
      (then (call $exit (global.get $case))))
    (call $exit (i32.const 0))
    unreachable))
