//! x86_64 glue: everything here touches hardware registers, ports or descriptor tables.
//! The rest of the kernel reaches the machine only through these modules.

pub mod cpu;
pub mod gdt;
pub mod qemu;
pub mod serial;
