//! The system's policy, apart from the kernel's mechanisms: what starts at boot and how it is
//! kept running, the services the kernel offers actors, and the kernel's own checks.
//!
//! - `manifest`: the boot manifest's text, parsed.
//! - `launch`: starting one actor with its grants (for `init` and the supervisor alike).
//! - `init`: the objects and actors the manifest declares, at boot.
//! - `supervisor`: restarting the actors marked `restart`, giving up on crash loops.
//! - `requests`: serving the work host calls ask of the executor loop (spawns, the native IPC
//!   benchmark).
//! - `console`: the serial console as a service actors reach through endpoints.
//! - `interrupts`: device interrupts delivered to drivers' endpoints as messages.
//! - `log_mirror`: the kernel log copied to an endpoint the manifest names.
//! - `native_ipc`: two kernel tasks ping-ponging, timed: the floor of the Wasm figure.
//! - `ktest`: the checks boot options ask for (faults, scheduling, stack overflow).
//!
//! It may use every mechanism (`arch`, `mem`, `task`, `time`, `cap`, `ipc`, `proc`, `wasm`);
//! the mechanisms use nothing of it.

pub mod console;
pub mod init;
pub mod interrupts;
pub mod ktest;
pub mod launch;
pub mod log_mirror;
pub use minimalos_manifest as manifest;
pub mod native_ipc;
pub mod requests;
pub mod supervisor;
