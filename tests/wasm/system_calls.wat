;; The `system` capability (handle 0, read and write): list, start and kill processes, read
;; the kernel log and memory figures. Same reporting as ipc_errors.wat: "check N ok" lines, then
;; "checks done".
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_proc_list" (func $list (param i64 i32 i32) (result i32)))
  (import "env" "sys_proc_kill" (func $kill (param i64 i64) (result i32)))
  (import "env" "sys_proc_spawn" (func $spawn (param i64 i32 i32 i32 i32 i32 i32) (result i64)))
  (import "env" "sys_kernel_log" (func $klog (param i64 i32 i32) (result i32)))
  (import "env" "sys_mem_info" (func $mem (param i64 i32 i32) (result i32)))
  (import "env" "sys_cap_derive" (func $derive (param i64 i32) (result i64)))
  (import "env" "sys_endpoint_create" (func $create (param i32) (result i64)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (import "env" "sys_cap_close" (func $close (param i64) (result i32)))
  (import "env" "sys_tsc_hz" (func $tsc_hz (result i64)))
  (memory (export "memory") 2)
  (data (i32.const 64) "test/exit7.wasm")
  (data (i32.const 80) "nope.wasm")
  (data (i32.const 96) "test/bad_import.wasm")
  (data (i32.const 128) "test/spinner.wasm")
  (data (i32.const 160) "ping!")
  (data (i32.const 176) "test/ipc_receiver.wasm")

  ;; include: checks.wat

  (func (export "_start")
    (local $pid i64) (local $weak i64) (local $chan i64) (local $moved i64)
    ;; 1: the list has processes; 2: the first record's pid is positive
    (call $check (i32.gt_s (call $list (i64.const 0) (i32.const 4096) (i32.const 4096)) (i32.const 0)) (i32.const 1))
    (call $check (i64.gt_s (i64.load (i32.const 4096)) (i64.const 0)) (i32.const 1))
    ;; 3: starting a module of the ramdisk gives a pid
    (local.set $pid (call $spawn (i64.const 0) (i32.const 64) (i32.const 15) (i32.const 0) (i32.const 0) (i32.const 8192) (i32.const 256)))
    (call $check (i64.gt_s (local.get $pid) (i64.const 0)) (i32.const 1))
    ;; 4-5: a missing file -> E_NOT_FOUND, with the reason text ("no file ...")
    (call $check (i32.wrap_i64 (call $spawn (i64.const 0) (i32.const 80) (i32.const 9) (i32.const 0) (i32.const 0) (i32.const 8192) (i32.const 256))) (i32.const -13))
    (call $check (i32.load (i32.const 8192)) (i32.const 0x66206f6e))  ;; "no f"
    ;; 6: a module the kernel refuses -> E_INVALID_ARGUMENT
    (call $check (i32.wrap_i64 (call $spawn (i64.const 0) (i32.const 96) (i32.const 20) (i32.const 0) (i32.const 0) (i32.const 8192) (i32.const 256))) (i32.const -12))
    ;; 7-8: kill a spinner; killing it again -> E_NOT_FOUND
    (local.set $pid (call $spawn (i64.const 0) (i32.const 128) (i32.const 17) (i32.const 0) (i32.const 0) (i32.const 8192) (i32.const 256)))
    (call $check (call $kill (i64.const 0) (local.get $pid)) (i32.const 0))
    (call $check (call $kill (i64.const 0) (local.get $pid)) (i32.const -13))
    ;; 9: a read-only copy cannot kill -> E_NO_RIGHTS
    (local.set $weak (call $derive (i64.const 0) (i32.const 1)))
    (call $check (call $kill (local.get $weak) (i64.const 1)) (i32.const -4))
    ;; 10: the kernel log has text
    (call $check (i32.gt_s (call $klog (i64.const 0) (i32.const 16384) (i32.const 4096)) (i32.const 0)) (i32.const 1))
    ;; 11-12: memory figures (48 bytes): success, and some memory in total
    (call $check (call $mem (i64.const 0) (i32.const 8192) (i32.const 48)) (i32.const 0))
    (call $check (i64.gt_u (i64.load (i32.const 8192)) (i64.const 0)) (i32.const 1))
    ;; 13-15: start ipc_receiver with a READ|GRANT copy of a new endpoint as its handle 0 (the
    ;; copy moves: it is gone from here), then send it the message it waits for
    (local.set $chan (call $create (i32.const 4)))
    (local.set $moved (call $derive (local.get $chan) (i32.const 5)))
    (i64.store (i32.const 200) (local.get $moved))
    (call $check (i64.gt_s (call $spawn (i64.const 0) (i32.const 176) (i32.const 22) (i32.const 200) (i32.const 1) (i32.const 8192) (i32.const 256)) (i64.const 0)) (i32.const 1))
    (call $check (call $close (local.get $moved)) (i32.const -2))
    (call $check (call $send (local.get $chan) (i32.const 0x2222) (i32.const 160) (i32.const 5) (i64.const -1)) (i32.const 0))
    ;; 16: too many grants -> E_INVALID_ARGUMENT
    (call $check (i32.wrap_i64 (call $spawn (i64.const 0) (i32.const 176) (i32.const 22) (i32.const 200) (i32.const 17) (i32.const 8192) (i32.const 256))) (i32.const -12))
    ;; 17: the kernel's measured TSC frequency is plausible (above 1 MHz)
    (call $check (i64.gt_u (call $tsc_hz) (i64.const 1000000)) (i32.const 1))
    (call $log (i32.const 48) (i32.const 11))))
