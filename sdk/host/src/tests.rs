//! The shim's own rules, through its exported functions as the SDK calls them.

use std::panic::{AssertUnwindSafe, catch_unwind};

use minimalos_abi::{E_INVALID_HANDLE, E_OUT_OF_BOUNDS, NO_CAP, RECV_HEADER, RIGHT_READ, RIGHT_WRITE};

use super::imports::*;
use super::{Kernel, LENT_START};

fn lend(bytes: &mut [u8], writable: bool) -> i32 {
    // SAFETY: a live slice, used by nothing else until the call that follows returns.
    unsafe { sdk_host_lend(bytes.as_mut_ptr(), bytes.len(), writable) }
}

#[test]
fn a_writable_buffer_is_copied_back_and_a_read_only_one_is_not() {
    let _kernel = Kernel::start();
    let queue = sys_endpoint_create(1);
    let mut payload = *b"ping";
    let at = lend(&mut payload, false);
    assert_eq!(at as usize, LENT_START);
    assert_eq!(sys_cap_send(queue, 3, at, 4, NO_CAP), 0);

    let mut buffer = [0xaa_u8; RECV_HEADER + 8];
    let mut untouched = [0xbb_u8; RECV_HEADER + 8];
    let (writable, read_only) = (lend(&mut buffer, true), lend(&mut untouched, false));
    assert!(read_only >= writable + buffer.len() as i32, "lent buffers do not overlap");
    // The kernel writes the header and payload into the writable buffer.
    let sender = sys_cap_try_recv(queue, writable, buffer.len() as i32);
    assert!(sender > 0);
    assert_eq!(&buffer[RECV_HEADER..RECV_HEADER + 4], b"ping");
    assert_eq!(buffer[RECV_HEADER + 4..], [0xaa; 4], "past the message, the buffer is as it was");
    assert_eq!(untouched, [0xbb; RECV_HEADER + 8]);
}

#[test]
fn the_kernel_checks_what_it_is_given() {
    let kernel = Kernel::start();
    assert_eq!(sys_cap_close(12345), E_INVALID_HANDLE);
    // A range past the actor's memory: the kernel's guest-memory check refuses it.
    assert_eq!(sys_cap_mem_size(kernel.grant_shm(64, RIGHT_READ | RIGHT_WRITE)), 64);
    assert_eq!(sys_cap_send(sys_endpoint_create(1), 0, i32::MAX, 16, NO_CAP), E_OUT_OF_BOUNDS);
}

#[test]
fn a_call_that_nothing_can_answer_panics_instead_of_hanging() {
    let _kernel = Kernel::start();
    let queue = sys_endpoint_create(1);
    let mut buffer = [0u8; RECV_HEADER];
    let at = lend(&mut buffer, true);
    let stuck = catch_unwind(AssertUnwindSafe(|| sys_cap_recv(queue, at, RECV_HEADER as i32)));
    let message = *stuck.expect_err("the receive cannot return").downcast::<String>().unwrap();
    assert!(message.contains("waits in sys_cap_recv for what nothing can bring"), "{message}");
}

#[test]
fn exit_ends_the_actor_with_its_status() {
    let kernel = Kernel::start();
    let exit = catch_unwind(|| sys_exit(7)).expect_err("sys_exit does not return");
    assert_eq!(*exit.downcast::<String>().unwrap(), "the actor exited with status 7");
    assert_eq!(kernel.exit().map(|e| e.to_string()), Some("exited with status 7".into()));
}

#[test]
fn the_system_grant_has_the_rights_asked_for() {
    let kernel = Kernel::start();
    let reader = kernel.grant_system(RIGHT_READ);
    assert_eq!(sys_proc_kill(reader, kernel.pid() as i64), minimalos_abi::E_NO_RIGHTS);
}
