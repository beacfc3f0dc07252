;; Loads past the end of its one-page memory.
(module
  (memory (export "memory") 1)
  (func (export "_start") (drop (i32.load (i32.const 65534)))))
