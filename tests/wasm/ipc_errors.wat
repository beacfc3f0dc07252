;; Every bad argument gets its documented code (docs/ABI.md). Handle 0 is a READ-only grant.
;; Each check logs "check N ok" or "check N FAILED: got X"; the last line is "checks done".
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_clock_ns" (func $clock (result i64)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (import "env" "sys_cap_recv" (func $recv (param i64 i32 i32) (result i64)))
  (import "env" "sys_cap_try_recv" (func $try_recv (param i64 i32 i32) (result i64)))
  (import "env" "sys_cap_wait" (func $wait (param i32 i32 i64) (result i32)))
  (import "env" "sys_cap_call" (func $call (param i32 i32) (result i64)))
  (import "env" "sys_endpoint_create" (func $create (param i32) (result i64)))
  (import "env" "sys_cap_derive" (func $derive (param i64 i32) (result i64)))
  (import "env" "sys_cap_close" (func $close (param i64) (result i32)))
  (import "env" "sys_cap_mem_read" (func $mem_read (param i64 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; include: checks.wat

  (func (export "_start")
    (local $rw i64) (local $small i64) (local $weak i64) (local $pid i64) (local $wo i64)
    ;; 1: no WRITE right on handle 0 -> E_NO_RIGHTS
    (call $check (call $send (i64.const 0) (i32.const 1) (i32.const 0) (i32.const 4) (i64.const -1)) (i32.const -4))
    ;; 2: forged handle -> E_INVALID_HANDLE
    (call $check (call $send (i64.const 12345) (i32.const 1) (i32.const 0) (i32.const 4) (i64.const -1)) (i32.const -2))
    ;; 3: negative handle -> E_INVALID_HANDLE
    (call $check (i32.wrap_i64 (call $try_recv (i64.const -7) (i32.const 0) (i32.const 64))) (i32.const -2))
    ;; 4: receive buffer outside memory -> E_OUT_OF_BOUNDS
    (call $check (i32.wrap_i64 (call $recv (i64.const 0) (i32.const -1) (i32.const 100))) (i32.const -1))
    (local.set $rw (call $create (i32.const 4)))
    ;; 5: a new endpoint handle is valid (not negative)
    (call $check (i32.wrap_i64 (i64.shr_s (local.get $rw) (i64.const 63))) (i32.const 0))
    ;; 6: payload over 4096 bytes -> E_TOO_LARGE
    (call $check (call $send (local.get $rw) (i32.const 1) (i32.const 0) (i32.const 5000) (i64.const -1)) (i32.const -7))
    ;; 7: payload running past memory -> E_OUT_OF_BOUNDS
    (call $check (call $send (local.get $rw) (i32.const 1) (i32.const 65530) (i32.const 100) (i64.const -1)) (i32.const -1))
    ;; 8: memory call on an endpoint -> E_WRONG_KIND
    (call $check (call $mem_read (local.get $rw) (i32.const 0) (i32.const 0) (i32.const 4)) (i32.const -3))
    ;; 9: nothing queued -> E_EMPTY
    (call $check (i32.wrap_i64 (call $try_recv (local.get $rw) (i32.const 1024) (i32.const 64))) (i32.const -9))
    ;; 10: widening a READ-only capability -> E_NO_RIGHTS
    (call $check (i32.wrap_i64 (call $derive (i64.const 0) (i32.const 3))) (i32.const -4))
    ;; 11: moving a capability without GRANT -> E_NO_RIGHTS (derive a READ-only copy, try to send it)
    (local.set $weak (call $derive (local.get $rw) (i32.const 1)))
    (call $check (call $send (local.get $rw) (i32.const 1) (i32.const 0) (i32.const 0) (local.get $weak)) (i32.const -4))
    ;; 12-13: a 10-byte message into a 20-byte buffer -> E_BUFFER_TOO_SMALL, header says 10
    (drop (call $send (local.get $rw) (i32.const 9) (i32.const 0) (i32.const 10) (i64.const -1)))
    (call $check (i32.wrap_i64 (call $recv (local.get $rw) (i32.const 1024) (i32.const 20))) (i32.const -11))
    (call $check (i32.load (i32.const 1028)) (i32.const 10))
    ;; 14-15: the message was not lost: a 26-byte buffer takes it, opcode 9
    (local.set $pid (call $recv (local.get $rw) (i32.const 1024) (i32.const 26)))
    (call $check (i32.wrap_i64 (i64.shr_s (local.get $pid) (i64.const 63))) (i32.const 0))
    (call $check (i32.load (i32.const 1024)) (i32.const 9))
    ;; 16-18: capacity 2: two sends succeed, the third -> E_FULL
    (local.set $small (call $create (i32.const 2)))
    (call $check (call $send (local.get $small) (i32.const 1) (i32.const 0) (i32.const 1) (i64.const -1)) (i32.const 0))
    (call $check (call $send (local.get $small) (i32.const 1) (i32.const 0) (i32.const 1) (i64.const -1)) (i32.const 0))
    (call $check (call $send (local.get $small) (i32.const 1) (i32.const 0) (i32.const 1) (i64.const -1)) (i32.const -5))
    ;; 19: bad endpoint capacity -> E_INVALID_ARGUMENT
    (call $check (i32.wrap_i64 (call $create (i32.const 0))) (i32.const -12))
    ;; 20: wait list of 0 entries -> E_INVALID_ARGUMENT
    (call $check (call $wait (i32.const 2048) (i32.const 0) (i64.const 0)) (i32.const -12))
    ;; 21-22: waiting 20 ms on an empty endpoint times out with nothing ready
    (i64.store (i32.const 2048) (local.get $rw))
    (i32.store (i32.const 2056) (i32.const 1))
    (call $check (call $wait (i32.const 2048) (i32.const 1) (i64.add (call $clock) (i64.const 20000000))) (i32.const 0))
    (call $check (i32.load (i32.const 2060)) (i32.const 0))
    ;; 23-24: a full endpoint is readable at once
    (i64.store (i32.const 2048) (local.get $small))
    (call $check (call $wait (i32.const 2048) (i32.const 1) (i64.const -1)) (i32.const 1))
    (call $check (i32.load (i32.const 2060)) (i32.const 1))
    ;; 25-26: closing works once; the handle is dead afterwards
    (call $check (call $close (local.get $small)) (i32.const 0))
    (call $check (call $close (local.get $small)) (i32.const -2))
;; 27-28: sys_cap_call with its buffer outside memory -> E_OUT_OF_BOUNDS, nothing sent
    (call $check (i32.wrap_i64 (call $call (i32.const -1) (i32.const 64))) (i32.const -1))
    (call $check (i32.wrap_i64 (call $try_recv (local.get $rw) (i32.const 1024) (i32.const 64))) (i32.const -9))
    ;; the call buffer from here on: the route at 1008, then the request at 1024: opcode 5,
    ;; 4 payload bytes, no capability
    (i32.store (i32.const 1024) (i32.const 5))
    (i32.store (i32.const 1028) (i32.const 4))
    (i64.store (i32.const 1032) (i64.const -1))
    ;; 29-30: a reply handle without READ -> E_NO_RIGHTS, nothing sent
    (local.set $wo (call $derive (local.get $rw) (i32.const 2)))
    (i64.store (i32.const 1008) (local.get $rw))
    (i64.store (i32.const 1016) (local.get $wo))
    (call $check (i32.wrap_i64 (call $call (i32.const 1008) (i32.const 80))) (i32.const -4))
    (call $check (i32.wrap_i64 (call $try_recv (local.get $rw) (i32.const 1024) (i32.const 64))) (i32.const -9))
    ;; 31: a send error comes back as is (no WRITE on handle 0)
    (i64.store (i32.const 1008) (i64.const 0))
    (i64.store (i32.const 1016) (local.get $rw))
    (call $check (i32.wrap_i64 (call $call (i32.const 1008) (i32.const 80))) (i32.const -4))
    ;; 32-33: a buffer shorter than route and header, or a payload length past the buffer's
    ;; end -> E_INVALID_ARGUMENT
    (i64.store (i32.const 1008) (local.get $rw))
    (call $check (i32.wrap_i64 (call $call (i32.const 1008) (i32.const 31))) (i32.const -12))
    (call $check (i32.wrap_i64 (call $call (i32.const 1008) (i32.const 35))) (i32.const -12))
    ;; 34: nothing was sent by any of them
    (call $check (i32.wrap_i64 (call $try_recv (local.get $rw) (i32.const 2048) (i32.const 64))) (i32.const -9))
    ;; 35-37: a call to itself sends, then receives its own message over the request: its pid,
    ;; opcode 5, 4 bytes
    (call $check (i32.wrap_i64 (i64.shr_s (call $call (i32.const 1008) (i32.const 80))
      (i64.const 63))) (i32.const 0))
    (call $check (i32.load (i32.const 1024)) (i32.const 5))
    (call $check (i32.load (i32.const 1028)) (i32.const 4))
    (call $log (i32.const 48) (i32.const 11))))
