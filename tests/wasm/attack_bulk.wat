;; Spends its time inside single bulk-memory instructions: a memory.fill of all its 16 MiB, then
;; a memory.copy of one half over the other, for ever. Each is one instruction, so fuel counted
;; per instruction would let it run millions of cycles between two checks of its time slice;
;; the kernel must preempt it inside them, or the shell stops answering.
(module
  (memory (export "memory") 256)
  (func (export "_start")
    (local $byte i32)
    (loop $forever
      (memory.fill (i32.const 0) (local.get $byte) (i32.const 0x1000000))
      (memory.copy (i32.const 0x800000) (i32.const 0) (i32.const 0x800000))
      (local.set $byte (i32.add (local.get $byte) (i32.const 1)))
      (br $forever))))
