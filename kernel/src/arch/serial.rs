//! COM1, the kernel's console: the log, exception reports and (later) the shell all use it.

use core::fmt::{self, Write};
use spin::Mutex;
use uart_16550::SerialPort;

/// Base I/O port of COM1.
const COM1: u16 = 0x3f8;

// SAFETY: 0x3f8 is COM1 on every PC-compatible machine and QEMU; nothing else drives it.
static PORT: Mutex<SerialPort> = Mutex::new(unsafe { SerialPort::new(COM1) });

/// Programs the UART: 38400 8N1, FIFOs on, receive interrupt enabled (the IRQ stays masked
/// until the I/O APIC routes it).
pub fn init() {
    PORT.lock().init();
}

/// Writes formatted text to COM1 with interrupts off, so a handler cannot deadlock on the lock.
pub fn write_fmt(args: fmt::Arguments<'_>) {
    x86_64::instructions::interrupts::without_interrupts(|| {
        // A serial write cannot fail; fmt errors come only from the caller's Display impls.
        let _ = PORT.lock().write_fmt(args);
    });
}

/// Writes to COM1 even if the lock is held: for panics and exception reports, which may
/// interrupt a half-finished line and must never wait for the code they interrupted.
pub fn write_fmt_emergency(args: fmt::Arguments<'_>) {
    // SAFETY: a second handle to the same initialised UART; at worst its bytes interleave with
    // the interrupted writer's, which is better than a report that never appears.
    let mut port = unsafe { SerialPort::new(COM1) };
    let _ = port.write_fmt(args);
}
