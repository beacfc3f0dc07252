//! Floating-point arithmetic on the CPU's SSE unit for a kernel built soft-float.
//!
//! `x86_64-unknown-none` is a soft-float target: rustc lowers every `f32`/`f64` add, subtract,
//! multiply and divide (the interpreter's `f32.add` ... `f64.div`) to a call of
//! compiler-builtins' `__addsf3` ... `__divdf3`, 50 to 150 instructions each. Stable Rust
//! offers no hard-float variant of the target (`-soft-float` is refused as unsound for its
//! ABI), so the kernel keeps the soft-float ABI, where floats travel in integer registers, and
//! defines those symbols itself, each one SSE instruction between moves from and back to integer
//! registers. compiler-builtins defines them weak, so the linker takes these.
//!
//! Why no SSE state is saved anywhere: nothing else in the kernel touches the SSE registers
//! (the target forbids rustc to), and each function below uses them only inside one `asm!`
//! block, whose inputs and output are integer registers. An interrupt inside a block runs
//! soft-float code, which leaves them alone, and no task switch happens inside one (switches
//! are cooperative, between fuel slices). MXCSR keeps its reset value, set by [`init`]:
//! round to nearest even, every exception masked, denormals kept, so results are IEEE 754's,
//! bit for bit those of the soft-float routines (a NaN's payload may differ, which Wasm allows).

use core::arch::asm;

use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};

/// MXCSR at reset: every exception masked, round to nearest even, no flush to zero.
const MXCSR_DEFAULT: u32 = 0x1f80;

/// Lets the kernel execute SSE instructions: no x87 emulation trap, `FXSAVE`-aware OS,
/// SIMD exceptions reported as such (they stay masked), MXCSR at its reset value. Call once,
/// early, before any float arithmetic.
pub fn init() {
    // SAFETY: these bits only enable SSE instructions (no emulation trap, OS support
    // declared); they change nothing about memory or other code's behaviour.
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR | Cr0Flags::TASK_SWITCHED);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR);
        });
        Cr4::update(|f| f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE));
    }
    let mxcsr = MXCSR_DEFAULT;
    // SAFETY: CR4.OSFXSR is set, so LDMXCSR is defined; the value reserves no bits.
    unsafe { asm!("ldmxcsr [{}]", in(reg) &mxcsr, options(nostack, readonly, preserves_flags)) };
}

/// Defines `$symbol(a, b)` as the scalar SSE instruction `$insn` on `$float`, moved through
/// integer registers (`$width`: `:e` for 32 bits) with `$mov` (`movd` or `movq`).
macro_rules! sse_binary {
    ($($symbol:ident: $float:ty, $mov:literal, $width:literal, $insn:literal;)*) => {$(
        #[doc = concat!("`", $insn, "` on two `", stringify!($float), "`s (see the module's notes).")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $symbol(a: $float, b: $float) -> $float {
            let (mut a, b) = (a.to_bits(), b.to_bits());
            // SAFETY: `init` enabled SSE. The block overwrites xmm0 and xmm1 without declaring
            // them (a soft-float target cannot name them as clobbers): nothing else in the
            // kernel ever holds a value in them (see the module's notes). It touches no memory
            // and leaves the flags alone.
            unsafe {
                asm!(
                    concat!($mov, " xmm0, {a", $width, "}"),
                    concat!($mov, " xmm1, {b", $width, "}"),
                    concat!($insn, " xmm0, xmm1"),
                    concat!($mov, " {a", $width, "}, xmm0"),
                    a = inout(reg) a,
                    b = in(reg) b,
                    options(pure, nomem, nostack, preserves_flags),
                );
            }
            <$float>::from_bits(a)
        }
    )*};
}

sse_binary! {
    __addsf3: f32, "movd", ":e", "addss";
    __subsf3: f32, "movd", ":e", "subss";
    __mulsf3: f32, "movd", ":e", "mulss";
    __divsf3: f32, "movd", ":e", "divss";
    __adddf3: f64, "movq", "", "addsd";
    __subdf3: f64, "movq", "", "subsd";
    __muldf3: f64, "movq", "", "mulsd";
    __divdf3: f64, "movq", "", "divsd";
}
