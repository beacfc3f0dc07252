//! QEMU's `isa-debug-exit` device: lets the kernel end a test run with an exit status.
//!
//! QEMU exits with `(value << 1) | 1`, so [`ExitCode::Success`] becomes status 33 and
//! [`ExitCode::Failure`] status 35; the host test runner maps them back. On a machine without
//! the device the port write is ignored and the caller goes on to halt.

use x86_64::instructions::port::Port;

/// I/O port the runner configures with `-device isa-debug-exit,iobase=0xf4,iosize=0x04`.
const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Status reported to the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ExitCode {
    /// The run did what it was asked (QEMU status 33).
    Success = 0x10,
    /// The kernel panicked or took a fatal exception (QEMU status 35).
    Failure = 0x11,
}

/// Asks QEMU to exit; returns only when no `isa-debug-exit` device is present.
pub fn exit(code: ExitCode) {
    let mut port = Port::<u32>::new(DEBUG_EXIT_PORT);
    // SAFETY: port 0xf4 is not used by any device this kernel drives; on QEMU with
    // isa-debug-exit the write ends the VM, elsewhere it is ignored.
    unsafe { port.write(code as u32) };
}
