;; `bench wasm`: interpreter throughput. Runs an integer loop and a float loop of exactly 11 Wasm
;; instructions per iteration each (counted below), times both with sys_clock_ns, and sends the
;; shell (grant 0, opcode 2) four u64s: integer iterations, their ns, float iterations, their ns.
;; The kernel is soft-float, so the float loop shows what f64 arithmetic costs there.
(module
  (import "env" "sys_clock_ns" (func $clock (result i64)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $i i32) (local $acc i32) (local $x f64) (local $t i64)
    (local.set $i (i32.const 2000000))
    (local.set $t (call $clock))
    (loop $int
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
      br_if $int)         ;; 11
    (i64.store (i32.const 0) (i64.const 2000000))
    (i64.store (i32.const 8) (i64.sub (call $clock) (local.get $t)))
    (i32.store (i32.const 64) (local.get $acc))
    (local.set $i (i32.const 1000000))
    (local.set $x (f64.const 1))
    (local.set $t (call $clock))
    (loop $float
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
      br_if $float)       ;; 11
    (i64.store (i32.const 16) (i64.const 1000000))
    (i64.store (i32.const 24) (i64.sub (call $clock) (local.get $t)))
    (f64.store (i32.const 72) (local.get $x))
    (drop (call $send (i64.const 0) (i32.const 2) (i32.const 0) (i32.const 32) (i64.const -1)))))
