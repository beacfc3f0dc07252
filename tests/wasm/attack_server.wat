;; A server that dies at once, every time: supervised with `restart`, it is given up after its
;; fifth quick end in a row, and then the request queue it was granted must close, so that a
;; client waiting for its answer (attack_client.wat) learns it will never come.
(module
  (memory (export "memory") 1)
  (func (export "_start") unreachable))
