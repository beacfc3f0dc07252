//! COM1, the kernel's console: the log and exception reports go out through it, and typed
//! bytes come in through its receive interrupt as an asynchronous stream ([`input`]).

use core::fmt::{self, Write};
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll};
use crossbeam_queue::ArrayQueue;
use futures_util::stream::Stream;
use futures_util::task::AtomicWaker;
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
    crate::arch::cpu::without_interrupts(|| {
        // A serial write cannot fail; fmt errors come only from the caller's Display impls.
        let _ = PORT.lock().write_fmt(args);
    });
}

/// How long [`write_fmt_emergency`] waits for the port's lock: far longer than another CPU
/// takes to finish a line, far shorter than anyone would notice.
const EMERGENCY_WAIT_SPINS: u32 = 1_000_000;

/// Writes to COM1 even if the lock is held: for panics and exception reports, which may
/// interrupt a half-finished line and must never wait for the code they interrupted. The lock
/// is waited for a moment, so that a line another CPU is writing ends first; if it is still
/// held (by the interrupted code itself, perhaps), the report goes out anyway.
pub fn write_fmt_emergency(args: fmt::Arguments<'_>) {
    let mut locked = None;
    for _ in 0..EMERGENCY_WAIT_SPINS {
        locked = PORT.try_lock();
        if locked.is_some() {
            break;
        }
        core::hint::spin_loop();
    }
    match locked {
        Some(mut port) => {
            let _ = port.write_fmt(args);
        }
        None => {
            // SAFETY: a second handle to the same initialised UART; at worst its bytes
            // interleave with the holder's, which is better than a report that never appears.
            let mut port = unsafe { SerialPort::new(COM1) };
            let _ = port.write_fmt(args);
        }
    }
}

/// Bytes received but not yet read; sized for a long paste.
const INPUT_CAPACITY: usize = 4096;

static INPUT: spin::Once<ArrayQueue<u8>> = spin::Once::new();
static INPUT_WAKER: AtomicWaker = AtomicWaker::new();
/// Bytes lost because nobody read the input fast enough.
static INPUT_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Creates the input buffer (needs the heap); received bytes are kept from then on.
pub fn enable_input() {
    INPUT.call_once(|| ArrayQueue::new(INPUT_CAPACITY));
}

/// The COM1 receive interrupt: moves every waiting byte into the input buffer and wakes the
/// reader. Takes no lock a task could hold with interrupts on, and never allocates.
pub fn on_receive_interrupt() {
    let mut port = PORT.lock();
    while let Ok(byte) = port.try_receive() {
        match INPUT.get() {
            Some(input) if input.push(byte).is_ok() => {}
            _ => {
                INPUT_DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    INPUT_WAKER.wake();
}

/// Bytes dropped because the input buffer was full (or not yet created).
pub fn input_dropped() -> u64 {
    INPUT_DROPPED.load(Ordering::Relaxed)
}

/// The bytes typed on the serial console, as an asynchronous stream.
pub fn input() -> SerialInput {
    SerialInput { _private: () }
}

/// Stream of received bytes; see [`input`].
pub struct SerialInput {
    _private: (),
}

impl Stream for SerialInput {
    type Item = u8;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u8>> {
        let Some(input) = INPUT.get() else { return Poll::Ready(None) };
        if let Some(byte) = input.pop() {
            return Poll::Ready(Some(byte));
        }
        INPUT_WAKER.register(cx.waker());
        // A byte may have arrived between the pop and the registration.
        match input.pop() {
            Some(byte) => Poll::Ready(Some(byte)),
            None => Poll::Pending,
        }
    }
}

/// A byte already received, without waiting.
pub fn try_read() -> Option<u8> {
    INPUT.get()?.pop()
}

/// Writes `bytes` to COM1 as they are (console output of actors).
pub fn write_bytes(bytes: &[u8]) {
    crate::arch::cpu::without_interrupts(|| {
        let mut port = PORT.lock();
        // `send_raw`: `send` would turn backspace and DEL into erase sequences.
        for &byte in bytes {
            port.send_raw(byte);
        }
    });
}
