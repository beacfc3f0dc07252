;; Spawns bench_idle.wasm (which only sleeps) in a loop with its `system` grant (handle 0) until
;; the kernel refuses, logs "spawned N, then error E" (E: the refusal's code), kills them all and
;; exits. Its manifest line limits its live children, so the refusal is E_LIMIT (-14).
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_proc_spawn" (func $spawn (param i64 i32 i32 i32 i32 i32 i32) (result i64)))
  (import "env" "sys_proc_kill" (func $kill (param i64 i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "bench_idle.wasm")
  (data (i32.const 32) "spawned ")
  (data (i32.const 48) ", then error -")
  ;; Writes $v (below 100) in decimal at $at; returns the address after it.
  (func $two_digits (param $v i32) (param $at i32) (result i32)
    (if (i32.ge_u (local.get $v) (i32.const 10))
      (then
        (i32.store8 (local.get $at) (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $v) (i32.const 10)) (i32.const 10))))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))))
    (i32.store8 (local.get $at) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
    (i32.add (local.get $at) (i32.const 1)))
  (func (export "_start")
    (local $n i32) (local $r i64) (local $i i32) (local $at i32)
    (block $refused
      (loop $again
        ;; At most 100 tries, so a kernel without the limit still ends the test.
        (br_if $refused (i32.ge_u (local.get $n) (i32.const 100)))
        (local.set $r (call $spawn (i64.const 0) (i32.const 0) (i32.const 15) (i32.const 0) (i32.const 0) (i32.const 512) (i32.const 256)))
        (br_if $refused (i64.lt_s (local.get $r) (i64.const 0)))
        (i64.store (i32.add (i32.const 1024) (i32.shl (local.get $n) (i32.const 3))) (local.get $r))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $again)))
    ;; "spawned N, then error -E", N and E each below 100.
    (memory.copy (i32.const 256) (i32.const 32) (i32.const 8))
    (local.set $at (call $two_digits (local.get $n) (i32.const 264)))
    (memory.copy (local.get $at) (i32.const 48) (i32.const 14))
    (local.set $at (call $two_digits (i32.wrap_i64 (i64.sub (i64.const 0) (local.get $r))) (i32.add (local.get $at) (i32.const 14))))
    (call $log (i32.const 256) (i32.sub (local.get $at) (i32.const 256)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $kill_all
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (drop (call $kill (i64.const 0) (i64.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $kill_all)))))
