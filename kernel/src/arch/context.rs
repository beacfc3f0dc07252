//! Stack switching between the executor and fibers (see `task::fiber`).
//!
//! A switch saves the callee-saved registers on the current stack, stores RSP, loads the other
//! stack's RSP and restores its registers: everything else is caller-saved under the System V
//! ABI, and the kernel has no FPU/SSE state (it is built soft-float), so nothing more is needed.

/// Switches stacks: saves the current context's RSP in `*save_rsp` and resumes the context whose
/// RSP is `load_rsp`. Returns when something switches back to the saved context.
///
/// # Safety
/// 1. `save_rsp` is valid for a write.
/// 2. `load_rsp` was saved by `switch` on a stack that is still alive and not running, or was
///    made by [`prepare_stack`].
#[unsafe(naked)]
pub unsafe extern "sysv64" fn switch(save_rsp: *mut u64, load_rsp: u64) {
    core::arch::naked_asm!(
        "push rbp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov [rdi], rsp",
        "mov rsp, rsi",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
    );
}

/// Reads the stack 128 bytes below RSP, more than a [`switch`] from here pushes, so that a page
/// missing there faults now rather than inside the switch (see `task::fiber::switch_to`).
#[inline(always)]
pub fn touch_stack_below() {
    // SAFETY: a read of the current stack, below RSP but within its pages (the caller runs on a
    // fiber's stack, and not within 128 bytes of its guard page, or this read overflows onto it
    // now instead of in the switch); the value is discarded.
    unsafe {
        core::arch::asm!("mov {tmp}, qword ptr [rsp - 128]", tmp = out(reg) _,
            options(nostack, readonly, preserves_flags));
    }
}

/// The second half of [`switch`] alone: with RSP at a context `switch` saved, restores it and
/// returns into it. The fault handler resumes an abandoned fiber's task here.
///
/// # Safety
/// Only as the target of an interrupt return whose RSP is a context saved by `switch` on a
/// stack that is alive and not running.
#[unsafe(naked)]
pub unsafe extern "sysv64" fn resume_saved() {
    core::arch::naked_asm!("pop r15", "pop r14", "pop r13", "pop r12", "pop rbx", "pop rbp", "ret");
}

/// First code on a fresh stack: calls the entry function (in r13) with its argument (in r12).
#[unsafe(naked)]
unsafe extern "sysv64" fn start_trampoline() {
    core::arch::naked_asm!(
        // RBP 0 ends backtraces at the fiber's first frame.
        "xor ebp, ebp",
        "mov rdi, r12",
        "call r13",
        // The entry function never returns.
        "ud2",
    );
}

/// Lays out a fresh stack ending at `top` (16-byte aligned) so that the first [`switch`] to the
/// returned RSP calls `entry(arg)` on it; `entry` must never return.
///
/// # Safety
/// The 72 bytes below `top` must be writable and belong to a stack nothing else uses.
pub unsafe fn prepare_stack(top: u64, entry: extern "sysv64" fn(u64) -> !, arg: u64) -> u64 {
    // Six registers popped by `switch`, then its `ret` into the trampoline, whose `call` then
    // leaves RSP ≡ 8 (mod 16) at `entry`, as the ABI requires; 16 spare bytes sit at the top.
    let rsp = top - 72;
    let frame: [u64; 7] = [
        0,                                    // r15
        0,                                    // r14
        entry as *const () as u64,            // r13
        arg,                                  // r12
        0,                                    // rbx
        0,                                    // rbp
        start_trampoline as *const () as u64, // return address
    ];
    // SAFETY: the caller promises the bytes are writable and unused; `rsp` is 8-aligned.
    unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), rsp as *mut u64, frame.len()) };
    rsp
}
