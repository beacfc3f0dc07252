;; A WASI program that passes bad input to the WASI imports and checks each errno (the shell
;; starts it with `run test/wasi_errors`: descriptor 3 is `/`, read-only, and 4 is `/tmp`). Its
;; report goes to standard output through `$log`, one line per check:
;;   1-4   fd_write: I/O vectors outside memory, 100000 of them, descriptors 99 and -1
;;   5     fd_read into a vector outside memory
;;   6-9   path_open: `..` out of the preopen, an absolute path, creating in a read-only
;;         directory, a path length past the end of memory
;;   10    fd_prestat_dir_name into a buffer too short
;;   11    fd_seek on standard output
;;   12    poll_oneoff with no subscriptions
;;   13-15 args_get and random_get outside memory, random_get inside it
;;   16-19 an unknown clock, closing a descriptor never opened, sock_send, proc_raise
;;   20-21 filling /tmp until ENOSPC, then removing the file
;;   22    fd_read on a directory
;;   23-24 poll_oneoff on standard output becoming writable: ready at once, one event
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $sock_send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_raise" (func $proc_raise (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)

  ;; Past the end of the one page of memory.
  (global $outside i32 (i32.const 70000))
  ;; Rights asked for when opening: fd_read, fd_seek, fd_write.
  (global $rw i64 (i64.const 70))

  (data (i32.const 1032) "\0a")
  (data (i32.const 2048) "../escape")
  (data (i32.const 2064) "/abs")
  (data (i32.const 2080) "x")
  (data (i32.const 2096) "fill")
  ;; A vector reaching past the end of memory, and one over the 3072 bytes at 8192.
  (data (i32.const 12304) "\fa\ff\00\00\64\00\00\00")
  (data (i32.const 12288) "\00\20\00\00\00\0c\00\00")
  ;; A subscription: userdata 9, fd_write (2) on descriptor 1.
  (data (i32.const 4400) "\09\00\00\00\00\00\00\00\02\00\00\00\00\00\00\00\01\00\00\00")

  ;; include: checks.wat

  ;; Writes the `len` bytes at `ptr` and a line break to standard output.
  (func $log (param $ptr i32) (param $len i32)
    (i32.store (i32.const 1024) (local.get $ptr))
    (i32.store (i32.const 1028) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 1040)))
    (i32.store (i32.const 1024) (i32.const 1032))
    (i32.store (i32.const 1028) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 1040))))

  (func (export "_start")
    (local $fd i32) (local $errno i32) (local $writes i32)
    (call $check (call $fd_write (i32.const 1) (global.get $outside) (i32.const 1) (i32.const 1040)) (i32.const 21))
    (call $check (call $fd_write (i32.const 1) (i32.const 1024) (i32.const 100000) (i32.const 1040)) (i32.const 28))
    (call $check (call $fd_write (i32.const 99) (i32.const 1024) (i32.const 1) (i32.const 1040)) (i32.const 8))
    (call $check (call $fd_write (i32.const -1) (i32.const 1024) (i32.const 1) (i32.const 1040)) (i32.const 8))
    (call $check (call $fd_read (i32.const 0) (i32.const 12304) (i32.const 1) (i32.const 1040)) (i32.const 21))

    (call $check (call $path_open (i32.const 3) (i32.const 0) (i32.const 2048) (i32.const 9)
      (i32.const 0) (global.get $rw) (i64.const 0) (i32.const 0) (i32.const 4096)) (i32.const 63))
    (call $check (call $path_open (i32.const 4) (i32.const 0) (i32.const 2064) (i32.const 4)
      (i32.const 0) (global.get $rw) (i64.const 0) (i32.const 0) (i32.const 4096)) (i32.const 63))
    (call $check (call $path_open (i32.const 3) (i32.const 0) (i32.const 2080) (i32.const 1)
      (i32.const 1) (global.get $rw) (i64.const 0) (i32.const 0) (i32.const 4096)) (i32.const 63))
    (call $check (call $path_open (i32.const 4) (i32.const 0) (i32.const 2048) (i32.const 0x7fffffff)
      (i32.const 0) (global.get $rw) (i64.const 0) (i32.const 0) (i32.const 4096)) (i32.const 21))

    (call $check (call $dir_name (i32.const 4) (i32.const 4096) (i32.const 1)) (i32.const 37))
    (call $check (call $fd_seek (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 4104)) (i32.const 70))
    (call $check (call $poll (i32.const 4200) (i32.const 4300) (i32.const 0) (i32.const 4112)) (i32.const 28))
    (call $check (call $args_get (global.get $outside) (global.get $outside)) (i32.const 21))
    (call $check (call $random_get (i32.const 65000) (i32.const 1000)) (i32.const 21))
    (call $check (call $random_get (i32.const 4096) (i32.const 16)) (i32.const 0))
    (call $check (call $clock (i32.const 99) (i64.const 0) (i32.const 4104)) (i32.const 28))
    (call $check (call $fd_close (i32.const 77)) (i32.const 8))
    (call $check (call $sock_send (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 4104)) (i32.const 52))
    (call $check (call $proc_raise (i32.const 2)) (i32.const 58))

    ;; Fill /tmp: create-and-truncate "fill", then write 3072 bytes at a time until refused.
    (local.set $errno (call $path_open (i32.const 4) (i32.const 0) (i32.const 2096) (i32.const 4)
      (i32.const 9) (global.get $rw) (i64.const 0) (i32.const 0) (i32.const 4096)))
    (local.set $fd (i32.load (i32.const 4096)))
    (if (i32.eqz (local.get $errno))
      (then
        (loop $more
          (local.set $errno (call $fd_write (local.get $fd) (i32.const 12288) (i32.const 1) (i32.const 1040)))
          (local.set $writes (i32.add (local.get $writes) (i32.const 1)))
          (br_if $more (i32.and (i32.eqz (local.get $errno)) (i32.lt_u (local.get $writes) (i32.const 4000)))))))
    (call $check (local.get $errno) (i32.const 51))
    (call $check (call $unlink (i32.const 4) (i32.const 2096) (i32.const 4)) (i32.const 0))
    (call $check (call $fd_read (i32.const 3) (i32.const 12288) (i32.const 1) (i32.const 1040)) (i32.const 8))
    (call $check (call $poll (i32.const 4400) (i32.const 4504) (i32.const 1) (i32.const 4112)) (i32.const 0))
    (call $check (i32.load (i32.const 4112)) (i32.const 1))
    (call $log (i32.const 48) (i32.const 11))
    (call $proc_exit (i32.const 0)))
)
