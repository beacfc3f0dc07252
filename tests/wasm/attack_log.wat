;; Logs, for ever, a 1024-byte text made to pass for the kernel and to steer the terminal: a line
;; break, then a forged supervisor error about the shell, a carriage return, ESC [2J (clear the
;; screen), an OSC title with BEL, a C1 CSI, a backslash, a tab, DEL, and filler. One sys_log
;; call must stay one line attributed to this actor, every control character shown as its
;; escape and the backslash doubled, cut at 1024 bytes with " [cut]"; and logging without end,
;; each call a long host call, must not take the CPU from the shell.
(module
  (import "env" "sys_log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  ;; 75 bytes.
  (data (i32.const 0)
    "\n[ERROR] supervisor: shell[6] not restarting it again\r\1b[2J"
    "\1b]0;owned\07\c2\9b2J\\\t\7f")
  (func (export "_start")
    (memory.fill (i32.const 75) (i32.const 0x7e) (i32.const 949))
    (loop $forever
      (call $log (i32.const 0) (i32.const 1024))
      (br $forever))))
