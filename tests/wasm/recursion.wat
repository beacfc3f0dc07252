;; Unbounded recursion: the interpreter's call-depth limit traps it.
(module
  (memory (export "memory") 1)
  (func $down (call $down))
  (func (export "_start") (call $down)))
