;; sys_log with pointers and lengths outside memory: the kernel warns and the actor goes on.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "survived bad log buffers")
  (func (export "_start")
    (call $log (i32.const -1) (i32.const 16))          ;; pointer above 4 GiB - 1
    (call $log (i32.const 65530) (i32.const 10))       ;; runs past the end
    (call $log (i32.const 0) (i32.const 0x7fffffff))   ;; huge length
    (call $log (i32.const 0) (i32.const 24))))
