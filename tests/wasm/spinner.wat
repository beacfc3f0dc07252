;; Never yields, never calls the host: only fuel slices and the timer can take the CPU back.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $forever (br $forever))))
