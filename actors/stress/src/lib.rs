//! `stress.wasm`: checks, end to end, that messages between actors — on different CPUs when
//! there are several — are neither lost, duplicated nor reordered per sender while other actors
//! start and end. Grants: `system:rw`. `tests/smp.rs` runs it.
//!
//! It starts [`SENDERS`] copies of `stress_sender.wasm`, each with the write side of one shared
//! inbox and the read side of a control endpoint of its own, whose first message is the
//! sender's number. Each sender sends its number and a count 0, 1, 2, … as fast as the inbox
//! takes them. Meanwhile, between messages, this actor starts a copy of `bench_idle.wasm` and
//! kills it [`CHURN_LIFE`] later, again and again. After [`RUN`], it tells every sender to
//! stop; each answers with how many it sent, and the check passes if exactly the counts 0 to
//! that number arrived from each, in order. The last line it prints says `stress: ok` or
//! `stress: FAILED`, and why.
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use protocol::stress::{DATA, DONE, ID, Record, STOP};
use sdk::rt::Instant;
use sdk::{Endpoint, Error, Pid, Rights, System};

/// Senders started.
const SENDERS: usize = 8;
/// How long they send.
const RUN: Duration = Duration::from_secs(3);
/// How long an idle actor lives before it is killed.
const CHURN_LIFE: Duration = Duration::from_millis(20);
/// Messages the inbox holds: small, so senders often wait on a full queue.
const INBOX: u32 = 32;

#[sdk::main]
async fn main() -> Result<(), Error> {
    let system = System::from_grant(0);
    let inbox = Endpoint::create(INBOX)?;
    let mut controls = Vec::with_capacity(SENDERS);
    for id in 0..SENDERS as u32 {
        let control = Endpoint::create(2)?;
        control.try_send(ID, &id.to_le_bytes(), None).map_err(|e| e.error)?;
        let grants = vec![
            inbox.capability(Rights::WRITE | Rights::GRANT)?,
            control.capability(Rights::READ | Rights::GRANT)?,
        ];
        system.spawn_with("stress_sender.wasm", grants).map_err(|e| e.code)?;
        controls.push(control);
    }
    match receive(&system, &inbox, &controls).await {
        Ok((total, churned)) => {
            sdk::println!(
                "stress: ok: {SENDERS} senders, {total} messages, none lost, repeated or out of order; {churned} actors started and killed meanwhile"
            );
            Ok(())
        }
        Err(why) => {
            sdk::println!("stress: FAILED: {why}");
            sdk::exit(1)
        }
    }
}

/// Takes the senders' messages, checking each count, for [`RUN`], starting and killing idle
/// actors between them; then stops the senders and checks each one's total. The number of
/// messages and of idle actors, or what went wrong.
async fn receive(system: &System, inbox: &Endpoint, controls: &[Endpoint]) -> Result<(u64, u32), String> {
    let deadline = Instant::now() + RUN;
    let mut churn = Churn { idle: None, next: Instant::now(), done: 0 };
    let mut next = vec![0u64; controls.len()];
    let mut done = vec![false; controls.len()];
    let mut total = 0u64;
    let mut stopping = false;
    while done.iter().any(|d| !d) {
        // Asked at every message: the inbox may never run empty, so no wait would time out.
        let now = Instant::now();
        if !stopping && now >= deadline {
            for control in controls {
                control.send(STOP, &[], None).await.map_err(|e| format!("stop: {}", e.error))?;
            }
            stopping = true;
        }
        if !stopping && now >= churn.next {
            churn.step(system, now).map_err(|e| format!("starting and killing actors: {e}"))?;
        }
        let message = inbox.recv().await.map_err(|e| format!("receive: {e}"))?;
        let Record { sender, count } =
            Record::from_bytes(&message.payload).ok_or("a message of the wrong size")?;
        let id = sender as usize;
        let expected = next.get_mut(id).ok_or(format!("a message from sender {id}, which does not exist"))?;
        match message.opcode {
            DATA if count == *expected && !done[id] => {
                *expected += 1;
                total += 1;
            }
            DATA => return Err(format!("sender {id}: got count {count}, expected {expected}")),
            DONE if count == *expected => done[id] = true,
            DONE => return Err(format!("sender {id} sent {count} messages, {expected} arrived")),
            other => return Err(format!("unknown opcode {other}")),
        }
    }
    if let Some(pid) = churn.idle {
        system.kill(pid).map_err(|e| format!("killing the last idle actor: {e}"))?;
    }
    Ok((total, churn.done))
}

/// Idle actors started and killed in turn.
struct Churn {
    /// The one alive now.
    idle: Option<Pid>,
    /// When the next step is due.
    next: Instant,
    /// How many were started and killed.
    done: u32,
}

impl Churn {
    /// Kills the idle actor alive, or starts one.
    fn step(&mut self, system: &System, now: Instant) -> Result<(), Error> {
        match self.idle.take() {
            Some(pid) => {
                system.kill(pid)?;
                self.done += 1;
            }
            None => self.idle = Some(system.spawn("bench_idle.wasm").map_err(|e| e.code)?),
        }
        self.next = now + CHURN_LIFE;
        Ok(())
    }
}
