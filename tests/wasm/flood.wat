;; Floods the endpoint of grant 0 (a server's request queue) with garbage: 200 rounds of
;; sending 64 bytes of junk until the queue is full, yielding between rounds so the server
;; runs. Logs "flood done: N sent, M refused full" and exits; the server must survive it.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (import "env" "sys_yield" (func $yield))
  (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "flood done: ")
  (data (i32.const 64) " sent, ")
  (data (i32.const 80) " refused full")
  (data (i32.const 128) "\ff\00\13\37garbage, not a request\de\ad\be\ef\00\00\ff\ff\ff\ff\7f\80\81\82\83\84\85\86\87\88\89\8a\8b\8c\8d")
  ;; Writes $v in decimal at $at; returns the length.
  (func $itoa (param $v i32) (param $at i32) (result i32)
    (local $len i32) (local $tmp i32) (local $i i32)
    (local.set $tmp (local.get $v))
    (loop $count
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (local.set $tmp (i32.div_u (local.get $tmp) (i32.const 10)))
      (br_if $count (i32.ne (local.get $tmp) (i32.const 0))))
    (local.set $i (local.get $len))
    (loop $digits
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (local.get $at) (local.get $i))
        (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (i32.ne (local.get $i) (i32.const 0))))
    (local.get $len))
  (func (export "_start")
    (local $round i32) (local $sent i32) (local $full i32) (local $r i32) (local $len i32)
    (loop $rounds
      (block $stop
        (loop $fill
          (local.set $r (call $send (i64.const 0) (local.get $round) (i32.const 128) (i32.const 48) (i64.const -1)))
          (br_if $stop (i32.ne (local.get $r) (i32.const 0)))
          (local.set $sent (i32.add (local.get $sent) (i32.const 1)))
          (br $fill)))
      (if (i32.eq (local.get $r) (i32.const -5))
        (then (local.set $full (i32.add (local.get $full) (i32.const 1)))))
      (call $yield)
      (br_if $rounds (i32.lt_u (local.tee $round (i32.add (local.get $round) (i32.const 1))) (i32.const 200))))
    ;; "flood done: " N " sent, " M " refused full"
    (local.set $len (i32.const 12))
    (local.set $len (i32.add (local.get $len) (call $itoa (local.get $sent) (i32.add (i32.const 256) (local.get $len)))))
    (memory.copy (i32.const 256) (i32.const 0) (i32.const 12))
    (memory.copy (i32.add (i32.const 256) (local.get $len)) (i32.const 64) (i32.const 7))
    (local.set $len (i32.add (local.get $len) (i32.const 7)))
    (local.set $len (i32.add (local.get $len) (call $itoa (local.get $full) (i32.add (i32.const 256) (local.get $len)))))
    (memory.copy (i32.add (i32.const 256) (local.get $len)) (i32.const 80) (i32.const 13))
    (call $log (i32.const 256) (i32.add (local.get $len) (i32.const 13)))))
