//! Raw host imports (module `"env"`), one-to-one with `docs/ABI.md`, and the ABI's constants.
//!
//! On `wasm32` these are the kernel's imports. Built for another target, the same declarations
//! link against the crate `sdk-host`, which runs them through the kernel's own handlers (the
//! SDK's and actors' host tests). Pointers are made with [`ptr`] / [`ptr_mut`], which work on
//! both. Prefer the safe types of the crate root.
//!
//! Calls that only read the actor's memory (or none) are safe: the kernel checks every range,
//! so a bad one is an error code. Calls that write into it are `unsafe`: the range must be
//! memory the caller owns, or the kernel would overwrite live Rust objects.

pub use minimalos_abi::*;

/// The imports, declared from the ABI crate's one list of host functions
/// ([`minimalos_abi::with_host_functions!`]): a function that writes into the actor's memory is
/// `unsafe`, the others are safe.
macro_rules! imports {
    ($($(#[doc = $doc:literal])* $safety:ident fn $name:ident($($arg:ident: $ty:ident),* $(,)?) $(-> $ret:ident)?;
        needs $needs:literal;)*) => {
        #[cfg(target_arch = "wasm32")]
        #[link(wasm_import_module = "env")]
        unsafe extern "C" {
            $(imports!(@declare $safety $(#[doc = $doc])* fn $name($($arg: $ty),*) $(-> $ret)?);)*
        }

        // On the host a call that ends the actor unwinds (see `sdk-host`).
        #[cfg(not(target_arch = "wasm32"))]
        unsafe extern "C-unwind" {
            $(imports!(@declare $safety $(#[doc = $doc])* fn $name($($arg: $ty),*) $(-> $ret)?);)*
        }
    };
    (@declare safe $(#[doc = $doc:literal])* fn $name:ident($($arg:ident: $ty:ident),*) $(-> $ret:ident)?) => {
        $(#[doc = $doc])* pub safe fn $name($($arg: $ty),*) $(-> $ret)?;
    };
    (@declare writes $(#[doc = $doc:literal])* fn $name:ident($($arg:ident: $ty:ident),*) $(-> $ret:ident)?) => {
        $(#[doc = $doc])*
        ///
        /// # Safety
        /// The kernel writes into the buffer the call names: it must be memory the caller owns,
        /// borrowed by nothing else during the call.
        pub fn $name($($arg: $ty),*) $(-> $ret)?;
    };
}

minimalos_abi::with_host_functions!(imports);

/// The ABI's pointer to `bytes`, for a call that only reads them.
#[cfg(target_arch = "wasm32")]
pub fn ptr(bytes: &[u8]) -> i32 {
    // Wasm32 addresses are 32-bit; the kernel reads the value back as unsigned.
    bytes.as_ptr() as i32
}

/// The ABI's pointer to `bytes`, for a call that writes them.
#[cfg(target_arch = "wasm32")]
pub fn ptr_mut(bytes: &mut [u8]) -> i32 {
    bytes.as_mut_ptr() as i32
}

#[cfg(not(target_arch = "wasm32"))]
unsafe extern "C" {
    /// Host builds: lends `len` bytes at `bytes` to the next host call and returns where the
    /// actor's memory holds them (served by `sdk-host`).
    fn sdk_host_lend(bytes: *mut u8, len: usize, writable: bool) -> i32;
}

/// The ABI's pointer to `bytes`, for a call that only reads them: on the host, the place the
/// next call finds a copy of them.
#[cfg(not(target_arch = "wasm32"))]
pub fn ptr(bytes: &[u8]) -> i32 {
    // SAFETY: a live slice; it is only read, and the host kernel keeps no pointer to it.
    unsafe { sdk_host_lend(bytes.as_ptr().cast_mut(), bytes.len(), false) }
}

/// The ABI's pointer to `bytes`, for a call that writes them: on the host, the place the next
/// call finds a copy of them, copied back when it returns.
#[cfg(not(target_arch = "wasm32"))]
pub fn ptr_mut(bytes: &mut [u8]) -> i32 {
    // SAFETY: a live, exclusively borrowed slice; the host kernel writes it back only while
    // the next host call runs, which the `unsafe` call that takes the pointer answers for.
    unsafe { sdk_host_lend(bytes.as_mut_ptr(), bytes.len(), true) }
}
