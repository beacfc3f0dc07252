;; Divides the most negative i32 by -1, whose quotient does not fit.
(module
  (memory (export "memory") 1)
  (func (export "_start") (drop (i32.div_s (i32.const 0x80000000) (i32.const -1)))))
