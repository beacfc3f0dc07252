;; A WASI program that imports MinimalOS's own ABI too (docs/WASI.md, "Mixing with MinimalOS's
;; own ABI"): it writes a line to standard output with WASI's fd_write, logs one with the ABI's
;; sys_log (the console shows it as `wasi_mixed[PID]: ...`), and ends with sys_exit(3).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\10\00\00\00\0d\00\00\00")
  (data (i32.const 16) "mixed stdout\0a")
  (data (i32.const 32) "mixed log")
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $log (i32.const 32) (i32.const 9))
    (call $exit (i32.const 3)))
)
