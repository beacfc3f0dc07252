;; Tries to get more through its children than it was given. Its manifest line limits its memory
;; to 2 pages and grants `system` (WRITE, handle 0) and an endpoint with GRANT (handle 1).
;; 1. Starts test/grow.wasm with no grants: a child's limits are at most its parent's, so that
;;    child logs "grew to 2 pages, then refused". Logs "started test/grow.wasm: R" (R: its pid).
;; 2. Starts bench_idle.wasm with handle 1 listed twice in its grants, which would give the
;;    child two capabilities for one; logs "duplicate grants: E" (E_INVALID_ARGUMENT, -12,
;;    expected) and kills the child should one have started anyway.
;; 3. A refused spawn leaves the grants with the caller: logs "grant kept: R", R the result of
;;    deriving a WRITE copy of handle 1 (a new handle, not negative, expected). Then exits 0.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_proc_spawn" (func $spawn (param i64 i32 i32 i32 i32 i32 i32) (result i64)))
  (import "env" "sys_proc_kill" (func $kill (param i64 i64) (result i32)))
  (import "env" "sys_cap_derive" (func $derive (param i64 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "test/grow.wasm")
  (data (i32.const 16) "bench_idle.wasm")
  ;; The grants of step 2: handle 1, twice.
  (data (i32.const 32) "\01\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00")
  (data (i32.const 64) "started test/grow.wasm: ")
  (data (i32.const 96) "duplicate grants: ")
  (data (i32.const 128) "grant kept: ")

  ;; Copies the $len bytes at $from to $at; returns the address after them.
  (func $text (param $at i32) (param $from i32) (param $len i32) (result i32)
    (memory.copy (local.get $at) (local.get $from) (local.get $len))
    (i32.add (local.get $at) (local.get $len)))

  ;; Writes $v (signed) in decimal at $at; returns the address after it.
  (func $number (param $at i32) (param $v i32) (result i32)
    (local $len i32) (local $tmp i32)
    (if (i32.lt_s (local.get $v) (i32.const 0))
      (then
        (i32.store8 (local.get $at) (i32.const 45))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (local.set $v (i32.sub (i32.const 0) (local.get $v)))))
    (local.set $tmp (local.get $v))
    (loop $count
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (local.set $tmp (i32.div_u (local.get $tmp) (i32.const 10)))
      (br_if $count (i32.ne (local.get $tmp) (i32.const 0))))
    (local.set $tmp (local.get $len))
    (loop $digits
      (local.set $tmp (i32.sub (local.get $tmp) (i32.const 1)))
      (i32.store8 (i32.add (local.get $at) (local.get $tmp))
        (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (i32.ne (local.get $tmp) (i32.const 0))))
    (i32.add (local.get $at) (local.get $len)))

  ;; Logs the $len bytes at $label followed by $v.
  (func $report (param $label i32) (param $len i32) (param $v i64)
    (local $at i32)
    (local.set $at (call $text (i32.const 256) (local.get $label) (local.get $len)))
    (local.set $at (call $number (local.get $at) (i32.wrap_i64 (local.get $v))))
    (call $log (i32.const 256) (i32.sub (local.get $at) (i32.const 256))))

  (func (export "_start")
    (local $r i64)
    ;; A refused spawn's reason goes to 512..768, unread: the codes are what the test checks.
    (call $report (i32.const 64) (i32.const 24)
      (call $spawn (i64.const 0) (i32.const 0) (i32.const 14) (i32.const 32) (i32.const 0) (i32.const 512) (i32.const 256)))
    (local.set $r
      (call $spawn (i64.const 0) (i32.const 16) (i32.const 15) (i32.const 32) (i32.const 2) (i32.const 512) (i32.const 256)))
    (call $report (i32.const 96) (i32.const 18) (local.get $r))
    (if (i64.ge_s (local.get $r) (i64.const 0))
      (then (drop (call $kill (i64.const 0) (local.get $r)))))
    (call $report (i32.const 128) (i32.const 12) (call $derive (i64.const 1) (i32.const 2)))))
