;; Executes `unreachable` at once: the trap kills it alone, named.
(module
  (memory (export "memory") 1)
  (func (export "_start") unreachable))
