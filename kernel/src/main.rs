//! The kernel binary: the entry point the loader jumps to and the panic handler.
//! Everything else lives in the library (`lib.rs`), which also builds on the host for tests.
#![no_std]
#![no_main]
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]

/// Entry point named by `linker.ld`; the loader calls it in long mode with interrupts off.
#[unsafe(no_mangle)]
extern "C" fn kmain() -> ! {
    kernel::startup::start()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    kernel::fatal::panic(info)
}
