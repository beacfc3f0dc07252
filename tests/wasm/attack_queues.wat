;; Tries to exhaust the kernel heap through message queues: creates endpoints of capacity 4096
;; and fills each with 4096-byte messages, which the kernel must hold until they are received,
;; until a send fails with anything but E_FULL or a create fails. At most 1023 endpoints, so a
;; kernel without a limit still sees it end (if it survives). Logs
;; "queued N messages on M endpoints, then error E" (E: the refusing code, 0 if none came), then
;; sleeps for ever, holding everything it queued, until it is killed.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_sleep_ns" (func $sleep (param i64) (result i32)))
  (import "env" "sys_endpoint_create" (func $create (param i32) (result i64)))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "queued ")
  (data (i32.const 16) " messages on ")
  (data (i32.const 32) " endpoints, then error ")

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

  (func (export "_start")
    (local $messages i32) (local $endpoints i32) (local $error i32) (local $h i64) (local $r i32)
    (local $at i32)
    ;; The payload, 4096 bytes at 4096: not zeros, so the kernel has to hold every byte of it.
    (memory.fill (i32.const 4096) (i32.const 0xa5) (i32.const 4096))
    (block $done
      (loop $endpoint
        (br_if $done (i32.ge_u (local.get $endpoints) (i32.const 1023)))
        (local.set $h (call $create (i32.const 4096)))
        (if (i64.lt_s (local.get $h) (i64.const 0))
          (then
            (local.set $error (i32.wrap_i64 (local.get $h)))
            (br $done)))
        (local.set $endpoints (i32.add (local.get $endpoints) (i32.const 1)))
        (block $full
          (loop $fill
            (local.set $r
              (call $send (local.get $h) (i32.const 1) (i32.const 4096) (i32.const 4096) (i64.const -1)))
            (if (i32.eqz (local.get $r))
              (then
                (local.set $messages (i32.add (local.get $messages) (i32.const 1)))
                (br $fill)))
            ;; E_FULL: this queue is full, on to a new endpoint.
            (br_if $full (i32.eq (local.get $r) (i32.const -5)))
            (local.set $error (local.get $r))
            (br $done)))
        (br $endpoint)))
    (local.set $at (call $text (i32.const 256) (i32.const 0) (i32.const 7)))
    (local.set $at (call $number (local.get $at) (local.get $messages)))
    (local.set $at (call $text (local.get $at) (i32.const 16) (i32.const 13)))
    (local.set $at (call $number (local.get $at) (local.get $endpoints)))
    (local.set $at (call $text (local.get $at) (i32.const 32) (i32.const 23)))
    (local.set $at (call $number (local.get $at) (local.get $error)))
    (call $log (i32.const 256) (i32.sub (local.get $at) (i32.const 256)))
    (loop $hold
      (drop (call $sleep (i64.const 1000000000)))
      (br $hold))))
