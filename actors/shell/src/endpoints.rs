//! The endpoints the shell makes and names (`endpoint NAME`), holds, and grants to the actors
//! it starts (`run --grant NAME:RIGHTS PROG`), with whom it granted each to: what `eps` lists.
//! An endpoint lives as long as the shell holds it or an actor holds a grant of it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use sdk::{Capability, Endpoint, Pid, ProcessInfo, Rights};

/// Most endpoints the shell names at once.
pub const MAX_ENDPOINTS: usize = 32;
/// Longest endpoint name, in bytes.
pub const MAX_NAME: usize = 32;
/// Messages an endpoint queues when `endpoint` is given no capacity (the boot manifest's default).
pub const DEFAULT_CAPACITY: u32 = 64;
/// Grants remembered per endpoint for `eps`, the newest kept.
const GRANTS_SHOWN: usize = 16;

/// One named endpoint.
#[derive(Debug)]
struct Named {
    name: String,
    capacity: u32,
    endpoint: Endpoint,
    /// Who was granted it, with which rights, oldest first.
    granted: Vec<(Pid, Rights)>,
}

/// The shell's named endpoints.
#[derive(Debug, Default)]
pub struct Endpoints(Vec<Named>);

impl Endpoints {
    /// No endpoints.
    pub const fn new() -> Endpoints {
        Endpoints(Vec::new())
    }

    /// Makes an endpoint of `capacity` messages named `name`; returns what to print.
    pub fn create(&mut self, name: &str, capacity: u32) -> String {
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(valid) {
            return format!(
                "endpoint: a name is 1 to {MAX_NAME} letters, digits, `.`, `_` or `-`: {name} is not one\n"
            );
        }
        if self.0.iter().any(|named| named.name == name) {
            return format!("endpoint: {name} exists already (eps lists them)\n");
        }
        if self.0.len() == MAX_ENDPOINTS {
            return format!("endpoint: this shell names {MAX_ENDPOINTS} endpoints already\n");
        }
        match Endpoint::create(capacity) {
            Ok(endpoint) => {
                self.0.push(Named { name: name.into(), capacity, endpoint, granted: Vec::new() });
                format!(
                    "endpoint {name}: {capacity} messages; grant it with run --grant {name}:RIGHTS PROG\n"
                )
            }
            Err(error) => format!("endpoint: {error}\n"),
        }
    }

    /// A capability for a new actor on the endpoint `name` with `rights`, and GRANT, which a
    /// capability needs to move to it (so the actor may pass it on too).
    pub fn grant(&self, name: &str, rights: Rights) -> Result<Capability, String> {
        let named = self.find(name)?;
        named.endpoint.capability(rights | Rights::GRANT).map_err(|e| format!("{e}"))
    }

    /// Notes that `pid` was granted `name` with `rights`.
    pub fn granted(&mut self, name: &str, pid: Pid, rights: Rights) {
        if let Some(named) = self.0.iter_mut().find(|named| named.name == name) {
            if named.granted.len() == GRANTS_SHOWN {
                named.granted.remove(0);
            }
            named.granted.push((pid, rights));
        }
    }

    /// The table `eps` prints, naming the holders among the live `processes`.
    pub fn list(&self, processes: &[ProcessInfo]) -> String {
        if self.0.is_empty() {
            return String::from("no endpoints yet: `endpoint NAME` makes one\n");
        }
        let mut text = String::from("ENDPOINT                          MESSAGES  GRANTED TO\n");
        for named in &self.0 {
            let holders: Vec<String> = named
                .granted
                .iter()
                .map(|&(pid, rights)| {
                    let live = processes.iter().find(|p| p.pid == pid && p.state.is_live());
                    let name = live.map_or("ended", |p| p.name.as_str());
                    format!("{pid} {name} ({})", letters(rights))
                })
                .collect();
            let holders = if holders.is_empty() { String::from("-") } else { holders.join(", ") };
            let _ = writeln!(text, "{:<33} {:>8}  {holders}", named.name, named.capacity);
        }
        text
    }

    fn find(&self, name: &str) -> Result<&Named, String> {
        self.0
            .iter()
            .find(|named| named.name == name)
            .ok_or_else(|| format!("no endpoint named {name} (make one with `endpoint {name}`)"))
    }
}

/// `rights` as the letters `--grant` takes, GRANT left out (every grant the shell makes has it).
pub fn letters(rights: Rights) -> String {
    format!("{}", sdk::sys::RightsLetters(rights.bits() as i32 & !sdk::sys::RIGHT_GRANT))
}
