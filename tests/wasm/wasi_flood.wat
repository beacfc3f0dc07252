;; A WASI program that writes to standard output without end: the shell shows what it writes
;; at the pace it can, and Ctrl-C ends it (tests/wasi.rs).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\10\00\00\00\0b\00\00\00")
  (data (i32.const 16) "flood line\0a")
  (func (export "_start")
    (loop $forever
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
      (br $forever)))
)
