//! `bench_pong.wasm`: the echoing half of the shell's `bench ipc`. Grants: `out:r` (the
//! requests of `bench_ping`), `back:w` (where each goes back, same opcode and payload).
//!
//! Raw `sdk::sys` calls only, no async runtime: the benchmark measures the kernel's message path
//! and the interpreter, not the SDK's scheduling. Each echo goes back with `sys_cap_call`, which
//! then waits for the next request. It ends when `out` closes (the pinger is gone).
#![no_std]

use sdk::sys;

const OUT: i64 = 0;
const BACK: i64 = 1;

/// Header the kernel writes before the payload (docs/ABI.md, `sys_cap_recv`).
const HEADER: usize = 16;

/// Room for the header and the largest payload.
static mut BUF: [u8; HEADER + 4096] = [0; HEADER + 4096];

/// The actor's entry point: echo until `out` closes or a call fails.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    // SAFETY: the actor is single-threaded and BUF is borrowed only here.
    let buf = unsafe { &mut *core::ptr::addr_of_mut!(BUF) };
    // SAFETY: the kernel writes at most `buf.len()` bytes, inside `buf`.
    let mut got = unsafe { sys::sys_cap_recv(OUT, sys::ptr_mut(buf), buf.len() as i32) };
    loop {
        if got < 0 {
            // E_CLOSED when the pinger has ended: the normal way out.
            sdk::exit(0);
        }
        let opcode = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let len = (u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize).min(4096);
        // The echo and the wait for the next request in one host call, as a server answers; the
        // kernel reads the payload before it writes the next request over it.
        let (payload, whole) = (sys::ptr(&buf[HEADER..HEADER + len]), sys::ptr_mut(buf));
        // SAFETY: as above.
        got = unsafe {
            sys::sys_cap_call(BACK, opcode as i32, payload, len as i32, -1, OUT, whole, buf.len() as i32)
        };
    }
}
