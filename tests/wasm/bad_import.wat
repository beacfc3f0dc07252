;; Imports a host function that does not exist: the spawn must be refused, naming it.
(module
  (import "env" "nonexistent" (func))
  (memory (export "memory") 1)
  (func (export "_start")))
