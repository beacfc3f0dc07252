//! The symbols the SDK's imports resolve to in a host build: one function per host function of
//! the ABI crate's list, with its Wasm signature, that passes its arguments to the hosted actor
//! ([`crate::call`]); and `sdk_host_lend`, which `sdk::sys::ptr` calls to lend a buffer.

use kernel::wasm::engine::Value;
use minimalos_abi::with_host_functions;

/// A host function's single result, as its Rust type.
trait FromResults {
    fn from_results(results: &[Value]) -> Self;
}

impl FromResults for i32 {
    fn from_results(results: &[Value]) -> Self {
        match results {
            [Value::I32(value)] => *value,
            other => panic!("a host function declared `-> i32` returned {other:?}"),
        }
    }
}

impl FromResults for i64 {
    fn from_results(results: &[Value]) -> Self {
        match results {
            [Value::I64(value)] => *value,
            other => panic!("a host function declared `-> i64` returned {other:?}"),
        }
    }
}

macro_rules! exports {
    ($($(#[doc = $doc:literal])* $safety:ident fn $name:ident($($arg:ident: $ty:ident),* $(,)?) $(-> $ret:ident)?;
        needs $needs:literal;)*) => {
        $(
            $(#[doc = $doc])*
            #[unsafe(no_mangle)]
            pub extern "C-unwind" fn $name($($arg: $ty),*) $(-> $ret)? {
                let _results = crate::call(stringify!($name), vec![$(Value::from($arg)),*]);
                $(<$ret as FromResults>::from_results(&_results))?
            }
        )*
    };
}

with_host_functions!(exports);

/// Lends the `len` bytes at `bytes` to the next host call, which may write them if `writable`;
/// returns where they are in the actor's memory (see [`crate::Kernel`]).
///
/// # Safety
/// `bytes` and `len` must describe a live slice, mutable if `writable`, that stays valid and
/// unborrowed until the next host call returns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sdk_host_lend(bytes: *mut u8, len: usize, writable: bool) -> i32 {
    // SAFETY: the caller's contract above.
    crate::lend(unsafe { std::slice::from_raw_parts(bytes, len) }, bytes, writable)
}
