;; With the `system` capability (READ|WRITE, handle 0): first tries to kill the console service,
;; a kernel process every shell depends on, and logs "killing the console: E" (E_NO_RIGHTS, -4,
;; expected: no actor may end a kernel process). Then kills itself: learns its own pid from the
;; sender field of a message it sends itself (the ABI has no call for it), logs
;; "about to kill myself as pid P" and calls sys_proc_kill on that pid. No instruction may run
;; after that call, so "still running after killing myself" and exit status 3 must never show.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_exit" (func $exit (param i32)))
  (import "env" "sys_endpoint_create" (func $create (param i32) (result i64)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (import "env" "sys_cap_try_recv" (func $try_recv (param i64 i32 i32) (result i64)))
  (import "env" "sys_proc_list" (func $list (param i64 i32 i32) (result i32)))
  (import "env" "sys_proc_kill" (func $kill (param i64 i64) (result i32)))
  (memory (export "memory") 1)
  ;; The start of a process record's name field when the name is "console": the name, then
  ;; zeros (the first 12 of its 64 bytes are compared).
  (data (i32.const 0) "console\00\00\00\00\00")
  (data (i32.const 16) "killing the console: ")
  (data (i32.const 48) "no process named console is listed")
  (data (i32.const 96) "about to kill myself as pid ")
  (data (i32.const 128) "still running after killing myself")

  ;; Copies the $len bytes at $from to $at; returns the address after them.
  (func $text (param $at i32) (param $from i32) (param $len i32) (result i32)
    (memory.copy (local.get $at) (local.get $from) (local.get $len))
    (i32.add (local.get $at) (local.get $len)))

  ;; Writes $v (signed) in decimal at $at; returns the address after it.
  (func $number (param $at i32) (param $v i32) (result i32)
    (local $len i32) (local $tmp i32)
    (if (i32.lt_s (local.get $v) (i32.const 0))
      (then
        (i32.store8 (local.get $at) (i32.const 45))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (local.set $v (i32.sub (i32.const 0) (local.get $v)))))
    (local.set $tmp (local.get $v))
    (loop $count
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (local.set $tmp (i32.div_u (local.get $tmp) (i32.const 10)))
      (br_if $count (i32.ne (local.get $tmp) (i32.const 0))))
    (local.set $tmp (local.get $len))
    (loop $digits
      (local.set $tmp (i32.sub (local.get $tmp) (i32.const 1)))
      (i32.store8 (i32.add (local.get $at) (local.get $tmp))
        (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (i32.ne (local.get $tmp) (i32.const 0))))
    (i32.add (local.get $at) (local.get $len)))

  ;; The pid of the process named "console", or -1. The records go at 4096..61440; the name
  ;; field (at 96 of a record, the pid at 0) is looked for at every byte, so that this does not
  ;; depend on the record's length, which grows as fields are added to its end.
  (func $console (result i64)
    (local $at i32)
    (drop (call $list (i64.const 0) (i32.const 4096) (i32.const 57344)))
    (local.set $at (i32.const 4192))
    (block $none
      (loop $next
        (br_if $none (i32.gt_u (local.get $at) (i32.const 61428)))
        (if (i32.and
              (i64.eq (i64.load (local.get $at)) (i64.load (i32.const 0)))
              (i32.eq (i32.load (i32.add (local.get $at) (i32.const 8))) (i32.load (i32.const 8))))
          (then (return (i64.load (i32.sub (local.get $at) (i32.const 96))))))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $next)))
    (i64.const -1))

  (func (export "_start")
    (local $console i64) (local $mirror i64) (local $me i64) (local $at i32)
    (local.set $console (call $console))
    (if (i64.lt_s (local.get $console) (i64.const 0))
      (then (call $log (i32.const 48) (i32.const 34)))
      (else
        (local.set $at (call $text (i32.const 256) (i32.const 16) (i32.const 21)))
        (local.set $at (call $number (local.get $at) (call $kill (i64.const 0) (local.get $console))))
        (call $log (i32.const 256) (i32.sub (local.get $at) (i32.const 256)))))
    (local.set $mirror (call $create (i32.const 1)))
    (drop (call $send (local.get $mirror) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const -1)))
    (local.set $me (call $try_recv (local.get $mirror) (i32.const 512) (i32.const 64)))
    (local.set $at (call $text (i32.const 256) (i32.const 96) (i32.const 28)))
    (local.set $at (call $number (local.get $at) (i32.wrap_i64 (local.get $me))))
    (call $log (i32.const 256) (i32.sub (local.get $at) (i32.const 256)))
    (drop (call $kill (i64.const 0) (local.get $me)))
    (call $log (i32.const 128) (i32.const 34))
    (call $exit (i32.const 3))))
