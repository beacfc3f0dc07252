;; Tries to exhaust the kernel heap through Wasm tables, which the interpreter keeps in kernel
;; memory and the module declares without a maximum: grows each of its 8 funcref tables by
;; 1,000,000 elements while that works, then by 100,000, and so on down to 1, so each ends at
;; exactly the size the kernel allows. Logs "tables hold N elements, then refused" (N: all the
;; elements the growing got), then sleeps for ever, holding them, until it is killed.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_sleep_ns" (func $sleep (param i64) (result i32)))
  (memory (export "memory") 1)
  (table $t0 0 funcref)
  (table $t1 0 funcref)
  (table $t2 0 funcref)
  (table $t3 0 funcref)
  (table $t4 0 funcref)
  (table $t5 0 funcref)
  (table $t6 0 funcref)
  (table $t7 0 funcref)
  (data (i32.const 0) "tables hold ")
  (data (i32.const 16) " elements, then refused")

  ;; Copies the $len bytes at $from to $at; returns the address after them.
  (func $text (param $at i32) (param $from i32) (param $len i32) (result i32)
    (memory.copy (local.get $at) (local.get $from) (local.get $len))
    (i32.add (local.get $at) (local.get $len)))

  ;; Writes $v (unsigned) in decimal at $at; returns the address after it.
  (func $number (param $at i32) (param $v i32) (result i32)
    (local $len i32) (local $tmp i32)
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

  ;; table.grow of table $t by $n null elements: the old size, or -1 if refused. (The table is
  ;; an immediate of the instruction, hence one arm per table.)
  (func $grow (param $t i32) (param $n i32) (result i32)
    (block $b7
      (block $b6
        (block $b5
          (block $b4
            (block $b3
              (block $b2
                (block $b1
                  (block $b0
                    (br_table $b0 $b1 $b2 $b3 $b4 $b5 $b6 $b7 (local.get $t)))
                  (return (table.grow $t0 (ref.null func) (local.get $n))))
                (return (table.grow $t1 (ref.null func) (local.get $n))))
              (return (table.grow $t2 (ref.null func) (local.get $n))))
            (return (table.grow $t3 (ref.null func) (local.get $n))))
          (return (table.grow $t4 (ref.null func) (local.get $n))))
        (return (table.grow $t5 (ref.null func) (local.get $n))))
      (return (table.grow $t6 (ref.null func) (local.get $n))))
    (table.grow $t7 (ref.null func) (local.get $n)))

  (func (export "_start")
    (local $t i32) (local $step i32) (local $total i32) (local $at i32)
    (loop $table
      (local.set $step (i32.const 1000000))
      (loop $steps
        (block $refused
          (loop $more
            (br_if $refused (i32.eq (call $grow (local.get $t) (local.get $step)) (i32.const -1)))
            (local.set $total (i32.add (local.get $total) (local.get $step)))
            (br $more)))
        (local.set $step (i32.div_u (local.get $step) (i32.const 10)))
        (br_if $steps (local.get $step)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $table (i32.lt_u (local.get $t) (i32.const 8))))
    (local.set $at (call $text (i32.const 256) (i32.const 0) (i32.const 12)))
    (local.set $at (call $number (local.get $at) (local.get $total)))
    (local.set $at (call $text (local.get $at) (i32.const 16) (i32.const 23)))
    (call $log (i32.const 256) (i32.sub (local.get $at) (i32.const 256)))
    (loop $hold
      (drop (call $sleep (i64.const 1000000000)))
      (br $hold))))
