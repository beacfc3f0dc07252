;; Proves the host receives arguments in Wasm signature order: sys_log(ptr, len) with values
;; that mean something else when swapped.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "abcdef")
  (func (export "_start")
    (call $log (i32.const 100) (i32.const 3))   ;; "abc"
    (call $log (i32.const 102) (i32.const 4)))) ;; "cdef"
