//! The end of the line: kernel panics and unrecoverable faults report, then stop the machine.
//!
//! Reports go through the serial port's emergency path, which never waits on a lock, so a
//! fault inside the logger still gets its report out.

use crate::arch::{cpu, qemu, serial};
use crate::cmdline::{self, OnFatal};

/// Reports a kernel panic with its message and location, then stops.
pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(at) => serial::write_fmt_emergency(format_args!(
            "\nKERNEL PANIC at {}:{}:{}: {}\n",
            at.file(),
            at.line(),
            at.column(),
            info.message()
        )),
        None => serial::write_fmt_emergency(format_args!("\nKERNEL PANIC: {}\n", info.message())),
    }
    stop()
}

/// Stops the machine the way the boot options ask: halt, or end the QEMU run with a failure.
pub fn stop() -> ! {
    if cmdline::get().on_fatal == OnFatal::Exit {
        qemu::exit(qemu::ExitCode::Failure);
    }
    serial::write_fmt_emergency(format_args!("kernel halted\n"));
    cpu::halt_forever()
}
