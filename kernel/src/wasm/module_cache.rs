//! Parsed ramdisk modules, kept across spawns: running a program again does not parse it again,
//! and parsing is most of a spawn (`docs/BENCHMARKS.md`, "WASI programs"). Only the ramdisk's
//! modules are kept: their bytes never change or move, so their address names them. What the
//! cache holds is the kernel's, bounded by [`ENTRIES`] modules of at most [`BYTES`] of module
//! bytes together, the least recently used dropped first; an actor started from a kept module
//! is charged for its own instance, not for the code it shares.

use alloc::collections::VecDeque;

use super::SpawnError;
use super::engine::{self, Module};
use super::limits::Limits;

/// Most modules kept.
const ENTRIES: usize = 16;
/// Most module bytes kept, all entries together (a parsed module takes a few times its size).
const BYTES: usize = 4 * 1024 * 1024;

/// What a parse depends on: the bytes, and the limits an engine builds into the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    addr: usize,
    len: usize,
    call_depth: usize,
    value_slots: usize,
}

/// The kept modules, the most recently used first.
static CACHE: spin::Mutex<VecDeque<(Key, Module)>> = spin::Mutex::new(VecDeque::new());

/// The ramdisk module `bytes` parsed for `limits`: kept from an earlier spawn, or parsed now
/// (outside the cache's lock) and kept.
pub fn parse(bytes: &'static [u8], limits: &Limits) -> Result<Module, SpawnError> {
    let key = Key {
        addr: bytes.as_ptr() as usize,
        len: bytes.len(),
        call_depth: limits.call_depth,
        value_slots: limits.value_slots,
    };
    {
        let mut cache = CACHE.lock();
        if let Some(at) = cache.iter().position(|(k, _)| *k == key) {
            let entry = cache.remove(at);
            if let Some((_, module)) = entry {
                let kept = module.clone();
                cache.push_front((key, module));
                return Ok(kept);
            }
        }
    }
    let module = engine::parse(bytes, limits)?;
    if bytes.len() <= BYTES {
        let mut cache = CACHE.lock();
        if !cache.iter().any(|(k, _)| *k == key) && cache.try_reserve(1).is_ok() {
            cache.push_front((key, module.clone()));
            while cache.len() > ENTRIES || cache.iter().map(|(k, _)| k.len).sum::<usize>() > BYTES {
                cache.pop_back();
            }
        }
    }
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with one function, its body `nops` nops long: different bytes, different code.
    fn module(nops: usize) -> &'static [u8] {
        let body = alloc::format!(
            "(module (memory (export \"memory\") 1) (func (export \"_start\") {}))",
            "nop ".repeat(nops)
        );
        alloc::boxed::Box::leak(wat::parse_str(body).unwrap().into_boxed_slice())
    }

    fn kept(bytes: &[u8]) -> bool {
        CACHE.lock().iter().any(|(k, _)| k.addr == bytes.as_ptr() as usize)
    }

    #[test]
    fn a_module_is_parsed_once_and_the_least_recently_used_go_first() {
        let limits = Limits::default();
        let first = module(1);
        parse(first, &limits).unwrap();
        assert!(kept(first));
        // A second parse finds it, and makes it the most recently used.
        parse(first, &limits).unwrap();
        assert_eq!(CACHE.lock().front().map(|(k, _)| k.addr), Some(first.as_ptr() as usize));
        let others: alloc::vec::Vec<_> = (2..2 + ENTRIES).map(module).collect();
        for bytes in &others {
            parse(bytes, &limits).unwrap();
        }
        assert!(!kept(first), "the oldest is dropped once more than {ENTRIES} are kept");
        assert!(others.iter().all(|bytes| kept(bytes)));
        assert!(CACHE.lock().len() <= ENTRIES);
        // Bytes that are not a module are refused every time, and never kept.
        let junk: &'static [u8] = b"\0asm\x01\0\0\0\x0f";
        assert!(parse(junk, &limits).is_err());
        assert!(!kept(junk));
    }
}
