;; A client of a server that never answers (attack_server.wat, which dies at once under
;; `restart`): with the server's request queue (WRITE, handle 0), it sends a request carrying a
;; WRITE|GRANT capability to a reply endpoint of its own. The request waits in the queue, which
;; the kernel keeps open while the server is down. The client keeps only a READ copy of the
;; reply endpoint, so the capability in the queued request is its only writer, and waits for
;; the answer. Once the supervisor gives up on the server, the queue must close and drop the
;; request, so the wait ends with E_CLOSED (-6) instead of lasting for ever. Logs
;; "request queued: S" (S: the send's result, 0 expected), then "answer: N" (N: what the receive
;; returned), and exits 0.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_endpoint_create" (func $create (param i32) (result i64)))
  (import "env" "sys_cap_derive" (func $derive (param i64 i32) (result i64)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (import "env" "sys_cap_recv" (func $recv (param i64 i32 i32) (result i64)))
  (import "env" "sys_cap_close" (func $close (param i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "request queued: ")
  (data (i32.const 32) "answer: ")

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

  ;; Logs the $len bytes at $label followed by $v.
  (func $report (param $label i32) (param $len i32) (param $v i64)
    (local $at i32)
    (local.set $at (call $text (i32.const 256) (local.get $label) (local.get $len)))
    (local.set $at (call $number (local.get $at) (i32.wrap_i64 (local.get $v))))
    (call $log (i32.const 256) (i32.sub (local.get $at) (i32.const 256))))

  (func (export "_start")
    (local $reply i64) (local $writer i64) (local $reader i64) (local $sent i32)
    (local.set $reply (call $create (i32.const 1)))
    (local.set $writer (call $derive (local.get $reply) (i32.const 6)))
    (local.set $sent (call $send (i64.const 0) (i32.const 1) (i32.const 0) (i32.const 0) (local.get $writer)))
    (call $report (i32.const 0) (i32.const 16) (i64.extend_i32_s (local.get $sent)))
    ;; A refused send left the writer here; without it the wait below ends at once, and the
    ;; report above says why.
    (if (local.get $sent) (then (drop (call $close (local.get $writer)))))
    (local.set $reader (call $derive (local.get $reply) (i32.const 1)))
    (drop (call $close (local.get $reply)))
    (call $report (i32.const 32) (i32.const 8) (call $recv (local.get $reader) (i32.const 1024) (i32.const 64)))))
