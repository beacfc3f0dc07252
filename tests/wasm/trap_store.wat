;; Stores at address 0xfffffffc, far outside its memory.
(module
  (memory (export "memory") 1)
  (func (export "_start") (i32.store (i32.const -4) (i32.const 1))))
