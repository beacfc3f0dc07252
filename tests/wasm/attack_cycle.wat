;; Tries to make endpoints that keep themselves alive: a capability that can receive from an
;; endpoint, queued on that endpoint (or on a second endpoint whose own receiving capability is
;; queued on the first), would hold the queue open after every actor let go of it, and the
;; kernel could never free it. No capability with READ on an endpoint may travel, so each such
;; send is refused with E_NOT_MOVABLE (-15), sends nothing and leaves the capability with the
;; sender; a WRITE|GRANT capability still moves. Each check logs "check N ok" or
;; "check N FAILED: got X"; the last line is "checks done". Receives never block here, so a
;; kernel that lets a capability escape fails checks instead of hanging.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (import "env" "sys_cap_try_recv" (func $try_recv (param i64 i32 i32) (result i64)))
  (import "env" "sys_cap_call" (func $call (param i32 i32) (result i64)))
  (import "env" "sys_endpoint_create" (func $create (param i32) (result i64)))
  (import "env" "sys_cap_derive" (func $derive (param i64 i32) (result i64)))
  (import "env" "sys_cap_close" (func $close (param i64) (result i32)))
  (memory (export "memory") 1)

  ;; include: checks.wat

  ;; 0 if $h is a handle (not negative), else the error code.
  (func $valid (param $h i64) (result i32)
    (if (result i32) (i64.lt_s (local.get $h) (i64.const 0))
      (then (i32.wrap_i64 (local.get $h)))
      (else (i32.const 0))))

  (func (export "_start")
    (local $e i64) (local $read i64) (local $wg i64) (local $a i64) (local $b i64)
    (local $a_read i64) (local $b_read i64) (local $got i64)
    (local.set $e (call $create (i32.const 4)))
    ;; 1: a new endpoint
    (call $check (call $valid (local.get $e)) (i32.const 0))
    ;; 2: E's own full capability sent on E
    (call $check (call $send (local.get $e) (i32.const 1) (i32.const 0) (i32.const 0) (local.get $e)) (i32.const -15))
    ;; 3-4: a READ|GRANT copy of E sent on E
    (local.set $read (call $derive (local.get $e) (i32.const 5)))
    (call $check (call $valid (local.get $read)) (i32.const 0))
    (call $check (call $send (local.get $e) (i32.const 1) (i32.const 0) (i32.const 0) (local.get $read)) (i32.const -15))
    ;; 5: the same through sys_cap_call (request on E, answer awaited on E)
    (i64.store (i32.const 1024) (local.get $e))
    (i64.store (i32.const 1032) (local.get $e))
    (i32.store (i32.const 1040) (i32.const 1))
    (i32.store (i32.const 1044) (i32.const 0))
    (i64.store (i32.const 1048) (local.get $read))
    (call $check (i32.wrap_i64 (call $call (i32.const 1024) (i32.const 64))) (i32.const -15))
    ;; 6: nothing was queued on E by the refused sends -> E_EMPTY
    (call $check (i32.wrap_i64 (call $try_recv (local.get $e) (i32.const 2048) (i32.const 64))) (i32.const -9))
    ;; 7-8: two endpoints, each with a READ|GRANT copy
    (local.set $a (call $create (i32.const 4)))
    (local.set $b (call $create (i32.const 4)))
    (local.set $a_read (call $derive (local.get $a) (i32.const 5)))
    (local.set $b_read (call $derive (local.get $b) (i32.const 5)))
    (call $check (call $valid (local.get $a_read)) (i32.const 0))
    (call $check (call $valid (local.get $b_read)) (i32.const 0))
    ;; 9: A's receiving copy sent on B
    (call $check (call $send (local.get $b) (i32.const 1) (i32.const 0) (i32.const 0) (local.get $a_read)) (i32.const -15))
    ;; 10: B's receiving copy sent on A: with 9, the cycle A -> B -> A
    (call $check (call $send (local.get $a) (i32.const 1) (i32.const 0) (i32.const 0) (local.get $b_read)) (i32.const -15))
    ;; 11-12: neither queue got anything
    (call $check (i32.wrap_i64 (call $try_recv (local.get $a) (i32.const 2048) (i32.const 64))) (i32.const -9))
    (call $check (i32.wrap_i64 (call $try_recv (local.get $b) (i32.const 2048) (i32.const 64))) (i32.const -9))
    ;; 13-14: a WRITE|GRANT copy of E still moves, on E itself
    (local.set $wg (call $derive (local.get $e) (i32.const 6)))
    (call $check (call $valid (local.get $wg)) (i32.const 0))
    (call $check (call $send (local.get $e) (i32.const 2) (i32.const 0) (i32.const 0) (local.get $wg)) (i32.const 0))
    ;; 15: it left the sender's table
    (call $check (call $close (local.get $wg)) (i32.const -2))
    ;; 16-17: received back (sender: this actor), with the capability in the header
    (call $check (call $valid (call $try_recv (local.get $e) (i32.const 2048) (i32.const 64))) (i32.const 0))
    (local.set $got (i64.load (i32.const 2056)))
    (call $check (call $valid (local.get $got)) (i32.const 0))
    ;; 18-24: everything closes, the refused copies included: they stayed with the sender
    (call $check (call $close (local.get $got)) (i32.const 0))
    (call $check (call $close (local.get $read)) (i32.const 0))
    (call $check (call $close (local.get $a_read)) (i32.const 0))
    (call $check (call $close (local.get $b_read)) (i32.const 0))
    (call $check (call $close (local.get $a)) (i32.const 0))
    (call $check (call $close (local.get $b)) (i32.const 0))
    (call $check (call $close (local.get $e)) (i32.const 0))
    (call $log (i32.const 48) (i32.const 11))))
