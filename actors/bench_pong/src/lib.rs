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

/// Room for the call's route, the header and the largest payload.
static mut BUF: [u8; BUF_LEN] = [0; BUF_LEN];
const BUF_LEN: usize = sys::CALL_ROUTE + sys::RECV_HEADER + 4096;

/// The actor's entry point: echo until `out` closes or a call fails.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    // SAFETY: the actor is single-threaded and BUF is borrowed only here.
    let buf = unsafe { &mut *core::ptr::addr_of_mut!(BUF) };
    // Echoes go out on `back`, and the next request is awaited on `out`.
    buf[..sys::CALL_ROUTE].copy_from_slice(&sys::CallRoute { handle: BACK, reply: OUT }.to_bytes());
    let message = &mut buf[sys::CALL_ROUTE..];
    // SAFETY: the kernel writes at most `message.len()` bytes, inside `message`.
    let mut got = unsafe { sys::sys_cap_recv(OUT, sys::ptr_mut(message), message.len() as i32) };
    // The request arrives after the route in the layout `sys_cap_call` sends from, so the echo
    // is the buffer as it is: no decoding, and the next request is written over it.
    while got >= 0 {
        // SAFETY: the kernel reads and writes at most `buf.len()` bytes, inside `buf`.
        got = unsafe { sys::sys_cap_call(sys::ptr_mut(buf), buf.len() as i32) };
    }
    // E_CLOSED when the pinger has ended: the normal way out.
    sdk::exit(0);
}
