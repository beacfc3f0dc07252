;; Reads the boot ramdisk through its read-only capability (handle 0): the archive starts with
;; a tar header (the `ustar` magic at byte 257, whichever file comes first); writing or widening
;; the capability is refused.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_cap_mem_size" (func $size (param i64) (result i64)))
  (import "env" "sys_cap_mem_read" (func $read (param i64 i32 i32 i32) (result i32)))
  (import "env" "sys_cap_mem_write" (func $write (param i64 i32 i32 i32) (result i32)))
  (import "env" "sys_cap_derive" (func $derive (param i64 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ramdisk read ok")
  (data (i32.const 16) "FAIL: ramdisk")
  (func (export "_start")
    (if (i32.and
          (i32.and
            (i64.gt_s (call $size (i64.const 0)) (i64.const 1024))
            (i32.eqz (call $read (i64.const 0) (i32.const 257) (i32.const 100) (i32.const 8))))
          (i32.and
            (i64.eq (i64.load (i32.const 100)) (i64.const 0x0020207261747375))  ;; "ustar  \0"
            (i32.and
              (i32.eq (call $write (i64.const 0) (i32.const 0) (i32.const 100) (i32.const 8)) (i32.const -4))
              (i64.eq (call $derive (i64.const 0) (i32.const 3)) (i64.const -4)))))
      (then (call $log (i32.const 0) (i32.const 15)))
      (else (call $log (i32.const 16) (i32.const 13))))))
