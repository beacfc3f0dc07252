;; memory.grow past the actor's limit (4 pages, from its manifest line) returns -1; a grow
;; within it still works.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "grow past the limit refused")
  (data (i32.const 32) "FAIL: grow past the limit allowed")
  (data (i32.const 80) "grow by one page allowed")
  (data (i32.const 112) "FAIL: grow by one page refused")
  (func (export "_start")
    (if (i32.eq (memory.grow (i32.const 4)) (i32.const -1))
      (then (call $log (i32.const 0) (i32.const 27)))
      (else (call $log (i32.const 32) (i32.const 33))))
    (if (i32.eq (memory.grow (i32.const 1)) (i32.const 1))
      (then (call $log (i32.const 80) (i32.const 24)))
      (else (call $log (i32.const 112) (i32.const 30))))))
