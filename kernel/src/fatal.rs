//! The end of the line: kernel panics and unrecoverable faults report, then stop the machine.
//!
//! Reports go through the serial port's emergency path, which never waits on a lock, so a
//! fault inside the logger still gets its report out.

use crate::arch::{cpu, cpu_local, qemu, serial};
use crate::cmdline::{self, OnFatal};

/// Reports a kernel panic with its message, location and the task it struck, then stops.
pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if !cpu::stop_other_cpus() {
        // Another CPU is reporting its own fatal error; one report is readable, two interleaved are not.
        cpu::halt_forever();
    }
    crate::task::executor::with_current_task_name(|task| {
        serial::write_fmt_emergency(format_args!("\nKERNEL PANIC on CPU {}", cpu_local::index()));
        if let Some(task) = task {
            serial::write_fmt_emergency(format_args!(" in task `{task}`"));
        }
        if let Some(at) = info.location() {
            serial::write_fmt_emergency(format_args!(" at {}:{}:{}", at.file(), at.line(), at.column()));
        }
        serial::write_fmt_emergency(format_args!(": {}\n", info.message()));
    });
    stop()
}

/// Stops the machine the way the boot options ask: halt, or end the QEMU run with a failure.
pub fn stop() -> ! {
    cpu::stop_other_cpus();
    if cmdline::get().on_fatal == OnFatal::Exit {
        qemu::exit(qemu::ExitCode::Failure);
    }
    serial::write_fmt_emergency(format_args!("kernel halted\n"));
    cpu::halt_forever()
}
