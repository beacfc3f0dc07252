;; Calls through a table slot that holds no function.
(module
  (memory (export "memory") 1)
  (type $nothing (func))
  (table 4 funcref)
  (func (export "_start") (call_indirect (type $nothing) (i32.const 2))))
