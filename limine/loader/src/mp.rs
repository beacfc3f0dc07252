//! The MP request: the response (every CPU that runs, the BSP's entry included, each with a
//! `limine_mp_info` in loader memory), and starting the application processors, as Limine 8.x
//! does on x86_64.
//!
//! The CPUs are the MADT's enabled or online-capable processors. [`prepare`] builds their
//! entries and stacks and installs the trampoline (`ap_trampoline.rs`) while boot services
//! exist; [`Mp::start`] runs after ExitBootServices, which parks the firmware's own APs, and
//! takes each AP over with INIT and two startup IPIs, one AP at a time, until it reports from
//! its park loop. A CPU that does not is reset with INIT again and left out of the response.
//!
//! The local APICs stay in the mode the firmware chose; the response's x2APIC flag says which
//! (a kernel asking for x2APIC in the request's flags can tell it did not get it).

use alloc::vec::Vec;
use core::arch::x86_64::__cpuid;
use minimalos_loader::madt::{self, Processor};
use minimalos_loader::memory_map::PAGE_SIZE;
use minimalos_loader::protocol::{MP_X2APIC, MpInfo, MpResponse};

use crate::ap_trampoline::{EntryState, Trampoline};
use crate::cpu::Features;
use crate::error::Error;
use crate::handoff::GdtPointer;
use crate::lapic::Lapic;
use crate::memory::{self, Arena, hhdm};
use crate::tsc::Tsc;

/// After INIT, before the first startup IPI (the SDM's and the MP specification's 10 ms).
const INIT_DELAY_US: u64 = 10_000;
/// Between the two startup IPIs: an AP that arrives within it gets no second one.
const STARTUP_DELAY_US: u64 = 200;
/// How long an AP has, after the second startup IPI, to reach its park loop.
const ARRIVAL_TIMEOUT_US: u64 = 100_000;

/// A CPU the response may list.
struct Cpu {
    info: &'static MpInfo,
    /// The CPU running the loader, listed without being started.
    bsp: bool,
    /// An AP that reached its park loop.
    parked: bool,
}

/// The MP response under construction, and what starting the APs takes.
pub struct Mp {
    response: &'static mut MpResponse,
    /// Room for a pointer to every CPU's info; filled with those that run.
    pointers: &'static mut [u64],
    cpus: Vec<Cpu>,
    /// What starts the APs; `None` when there is nothing to start or no APIC to start it with.
    starter: Option<Starter>,
}

/// What starting the APs takes.
struct Starter {
    /// The BSP's, which sends the IPIs.
    lapic: Lapic,
    trampoline: Trampoline,
    /// The clock of the delays between the IPIs.
    tsc: Tsc,
}

/// Builds the response for the MADT's `processors`, with a `stack_size` stack for each AP,
/// and, if there are APs to start, installs the trampoline and calibrates the delays. Needs
/// boot services.
pub fn prepare(processors: &[Processor], stack_size: u64, arena: &mut Arena) -> Result<Mp, Error> {
    let lapic = Lapic::firmware();
    // Without a usable APIC the initial APIC ID is the best name for the BSP.
    let bsp_id = lapic.map_or(__cpuid(1).ebx >> 24, Lapic::id);
    let listed = madt::mp_cpus(processors, bsp_id, |id| lapic.is_some_and(|l| l.can_address(id)));
    let mut cpus = Vec::with_capacity(listed.len());
    for processor in listed {
        let bsp = processor.apic_id == bsp_id;
        // The AP's stack top, where the trampoline looks for it; the BSP's is `handoff`'s.
        let stack_top = if bsp {
            0
        } else {
            hhdm((memory::allocate(stack_size, PAGE_SIZE, "AP stacks")? + stack_size) as *const u8)
        };
        let info = arena.put(MpInfo {
            processor_id: processor.uid,
            lapic_id: processor.apic_id,
            reserved: stack_top,
            goto_address: 0,
            extra_argument: 0,
        })?;
        cpus.push(Cpu { info, bsp, parked: false });
    }
    let pointers = arena.slice(cpus.len(), 0u64)?;
    let response = arena.put(MpResponse {
        revision: 0,
        flags: if lapic.is_some_and(Lapic::x2apic) { MP_X2APIC } else { 0 },
        bsp_lapic_id: bsp_id,
        cpu_count: 0,
        cpus: hhdm(pointers.as_ptr()),
    })?;
    let starter = match lapic {
        Some(lapic) if cpus.len() > 1 => {
            Some(Starter { lapic, trampoline: Trampoline::install()?, tsc: Tsc::calibrate() })
        }
        _ => None,
    };
    let mut mp = Mp { response, pointers, cpus, starter };
    // Until the APs are started, the response lists the BSP alone.
    mp.publish();
    Ok(mp)
}

impl Mp {
    /// HHDM address of the response.
    pub fn response(&self) -> u64 {
        hhdm(&*self.response)
    }

    /// The trampoline page, which the kernel's page tables must identity-map; `None` when no
    /// AP will be started.
    pub fn trampoline_page(&self) -> Option<u64> {
        self.starter.as_ref().map(|s| s.trampoline.page())
    }

    /// Gives the trampoline the APs' entry state: the kernel's page tables at `page_tables`
    /// (which must be below 4 GiB, as real mode loads CR3), the CPU `features` the BSP's entry
    /// uses, the protocol GDT.
    pub fn configure(
        &mut self,
        page_tables: u64,
        features: Features,
        gdt: &'static GdtPointer,
    ) -> Result<(), Error> {
        let Some(starter) = &mut self.starter else { return Ok(()) };
        let page_tables =
            u32::try_from(page_tables).map_err(|_| Error::PageTablesAbove4GiB { root: page_tables })?;
        starter.trampoline.configure(&EntryState {
            page_tables,
            no_execute: features.no_execute,
            pat: features.pat,
            gdt,
        });
        Ok(())
    }

    /// Starts the APs one by one and lists the BSP and every AP that parked.
    ///
    /// # Safety
    /// Boot services must have exited (the firmware has parked its APs and lets go of them)
    /// and interrupts be off; [`Mp::configure`] must have run, with page tables that
    /// identity-map [`Mp::trampoline_page`] and map the HHDM, the kernel and the GDT. (It takes
    /// `&mut self` because dropping `self` would free memory through boot services.)
    pub unsafe fn start(&mut self) {
        if let Some(starter) = &mut self.starter {
            for cpu in self.cpus.iter_mut().filter(|cpu| !cpu.bsp) {
                // SAFETY: per the caller; `cpu` is not the BSP.
                cpu.parked = unsafe { starter.start(cpu.info) };
            }
        }
        self.publish();
    }

    /// Lists the BSP and the parked APs, in MADT order.
    fn publish(&mut self) {
        let mut count = 0;
        for cpu in self.cpus.iter().filter(|cpu| cpu.bsp || cpu.parked) {
            self.pointers[count] = hhdm(cpu.info);
            count += 1;
        }
        self.response.cpu_count = count as u64;
    }
}

impl Starter {
    /// INIT, then up to two startup IPIs, and a wait for the AP to park; an AP that does not
    /// gets INIT again, so it cannot run the trampoline later, while the BSP prepares it for
    /// another AP or the lower half is gone. Returns whether it parked.
    ///
    /// # Safety
    /// As for [`Mp::start`]; `info` must not be the BSP's.
    unsafe fn start(&mut self, info: &MpInfo) -> bool {
        let Self { lapic, trampoline, tsc } = self;
        let id = info.lapic_id;
        trampoline.prepare(info);
        // SAFETY: per the caller, boot services have exited and `id` is another CPU; the page
        // at the vector holds the trampoline, configured.
        unsafe {
            if !lapic.init(id, tsc) {
                return false;
            }
            tsc.delay(INIT_DELAY_US);
            for wait in [STARTUP_DELAY_US, ARRIVAL_TIMEOUT_US] {
                if !lapic.startup(id, trampoline.vector(), tsc) {
                    break;
                }
                if tsc.wait(wait, || trampoline.arrived()) {
                    return true;
                }
            }
            lapic.init(id, tsc);
        }
        false
    }
}
