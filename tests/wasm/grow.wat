;; Grows its memory a page at a time until the kernel refuses, then logs
;; "grew to N pages, then refused" (N: its manifest's memory= limit) and exits.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "grew to ")
  (data (i32.const 32) " pages, then refused")
  (func (export "_start")
    (local $pages i32) (local $len i32)
    (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (local.set $pages (memory.size))
    ;; The page count in decimal at 8 (at most 5 digits), then the rest of the line.
    (local.set $len (i32.const 5))
    (loop $digits
      (local.set $len (i32.sub (local.get $len) (i32.const 1)))
      (i32.store8 (i32.add (i32.const 8) (local.get $len))
        (i32.add (i32.const 48) (i32.rem_u (local.get $pages) (i32.const 10))))
      (local.set $pages (i32.div_u (local.get $pages) (i32.const 10)))
      (br_if $digits (i32.ne (local.get $pages) (i32.const 0))))
    (memory.copy (i32.const 8) (i32.add (i32.const 8) (local.get $len)) (i32.sub (i32.const 5) (local.get $len)))
    (memory.copy (i32.sub (i32.const 13) (local.get $len)) (i32.const 32) (i32.const 20))
    (call $log (i32.const 0) (i32.sub (i32.const 33) (local.get $len)))))
