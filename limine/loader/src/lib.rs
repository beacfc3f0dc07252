//! The loader's target-independent parts: the protocol's wire format, the request scan, the
//! memory map, the address-space layout and page tables, the MADT's entries. They are plain
//! data transformations, tested on the host with `cargo test -p minimalos-loader --lib`;
//! `main.rs` and its modules do the firmware and hardware work around them.
#![cfg_attr(not(test), no_std)]
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod layout;
pub mod madt;
pub mod memory_map;
pub mod paging;
pub mod protocol;
pub mod requests;
