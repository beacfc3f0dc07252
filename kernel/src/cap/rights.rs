//! Rights: what a capability lets its holder do with the object. The table that checks them is
//! in `table`; the objects that obey them are in `ipc`.

bitflags::bitflags! {
    /// What a capability allows.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Rights: u8 {
        /// Receive from an endpoint; read shared memory or the framebuffer.
        const READ = 1 << 0;
        /// Send to an endpoint; write shared memory or the framebuffer.
        const WRITE = 1 << 1;
        /// Pass a copy of the capability on to another process.
        const GRANT = 1 << 2;
    }
}
