;; Its memory starts at 8 pages, above its limit of 4 (its manifest line): the spawn fails,
;; naming the reason, and nothing of it runs.
(module
  (memory (export "memory") 8)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 1))))
