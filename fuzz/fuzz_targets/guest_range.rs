//! `GuestRange`, the one check between an actor's pointer and length and the kernel touching
//! its memory: whatever the three numbers, an accepted range lies inside the memory, and the
//! pieces cut from it stay inside it.
#![no_main]

use kernel::wasm::guest::GuestRange;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (i32, i32, u32, usize, usize)| {
    let (ptr, len, memory_len, offset, sub_len) = input;
    let memory_len = memory_len as usize;
    let Ok(range) = GuestRange::new(ptr, len, memory_len) else {
        assert!(u64::from(ptr as u32) + u64::from(len as u32) > memory_len as u64, "a fitting range refused");
        return;
    };
    let end = u64::from(ptr as u32) + range.len() as u64;
    assert!(end <= memory_len as u64 && range.len() == len as u32 as usize);
    if let Some(sub) = range.sub(offset, sub_len) {
        assert!(offset + sub.len() <= range.len());
    }
    let (head, tail) = range.split_at(offset);
    assert_eq!(head.len() + tail.len(), range.len());
    assert!(range.prefix(sub_len).len() <= range.len());
});
