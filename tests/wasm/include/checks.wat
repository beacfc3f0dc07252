;; Shared by the WAT checkers (`;; include: checks.wat` in a module, expanded by build.rs):
;; `$check got want` logs "check N ok" or "check N FAILED: got X", N counting from 1, and the
;; last line a checker logs is "checks done" (48, 11 bytes). The including module imports
;; `$log` (sys_log) and keeps bytes 0..64 and 256..700 of its memory for these.
  (data (i32.const 0) "check ")
  (data (i32.const 16) " ok")
  (data (i32.const 32) " FAILED: got ")
  (data (i32.const 48) "checks done")
  (global $n (mut i32) (i32.const 0))

  ;; Writes the decimal form of $v (may be negative) at 512 and returns its length.
  (func $itoa (param $v i32) (result i32)
    (local $neg i32) (local $len i32) (local $i i32) (local $tmp i32)
    (if (i32.lt_s (local.get $v) (i32.const 0))
      (then (local.set $neg (i32.const 1)) (local.set $v (i32.sub (i32.const 0) (local.get $v)))))
    (loop $digits
      (i32.store8 (i32.add (i32.const 600) (local.get $len))
        (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (i32.ne (local.get $v) (i32.const 0))))
    (if (local.get $neg) (then (i32.store8 (i32.const 512) (i32.const 45))))
    (loop $reverse
      (local.set $len (i32.sub (local.get $len) (i32.const 1)))
      (i32.store8 (i32.add (i32.add (i32.const 512) (local.get $neg)) (local.get $i))
        (i32.load8_u (i32.add (i32.const 600) (local.get $len))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $reverse (i32.ne (local.get $len) (i32.const 0))))
    (i32.add (local.get $i) (local.get $neg)))

  ;; Logs "check N ok" or "check N FAILED: got X" (N counts from 1).
  (func $check (param $got i32) (param $want i32)
    (local $len i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (memory.copy (i32.const 256) (i32.const 0) (i32.const 6))
    (local.set $len (call $itoa (global.get $n)))
    (memory.copy (i32.const 262) (i32.const 512) (local.get $len))
    (local.set $len (i32.add (i32.const 6) (local.get $len)))
    (if (i32.eq (local.get $got) (local.get $want))
      (then
        (memory.copy (i32.add (i32.const 256) (local.get $len)) (i32.const 16) (i32.const 3))
        (call $log (i32.const 256) (i32.add (local.get $len) (i32.const 3))))
      (else
        (memory.copy (i32.add (i32.const 256) (local.get $len)) (i32.const 32) (i32.const 13))
        (local.set $len (i32.add (local.get $len) (i32.const 13)))
        (memory.copy (i32.add (i32.const 256) (local.get $len)) (i32.const 512) (call $itoa (local.get $got)))
        (call $log (i32.const 256) (i32.add (local.get $len) (call $itoa (local.get $got)))))))

