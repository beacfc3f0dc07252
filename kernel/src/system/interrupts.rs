//! The interrupt service: a kernel process that turns device interrupts into messages on the
//! endpoints drivers bound them to (`dev::irq::deliver`). It starts when the manifest first
//! grants a device, and runs for the rest of the boot.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::dev;
use crate::error::Error;
use crate::proc::{Exit, ProcessTable};
use crate::task::Executor;

/// Whether the service runs.
static STARTED: AtomicBool = AtomicBool::new(false);

/// Starts the service unless it runs already.
pub fn start(executor: &mut Executor, processes: &mut ProcessTable) -> Result<(), Error> {
    if STARTED.load(Ordering::Acquire) {
        return Ok(());
    }
    let process = processes.create("interrupts");
    let pid = process.pid();
    process.start(executor, async move {
        dev::irq::deliver(pid).await;
        Exit::Exited(0)
    })?;
    STARTED.store(true, Ordering::Release);
    crate::arch::irq::on_message(dev::irq::on_message);
    log::debug!("init: started interrupt service as pid {pid}");
    Ok(())
}
