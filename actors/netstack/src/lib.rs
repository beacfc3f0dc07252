//! `netstack.wasm`: the network stack. TCP/IP is `smoltcp` over the card's driver: frames
//! arrive on `net.up` (grant 1) and go out on `net.dev` (grant 0), one per message
//! (`protocol::net`). The interface takes its address by DHCP from the network it is on; when
//! no server answers within [`DHCP_PATIENCE`] it falls back to the address QEMU's user-mode
//! network gives (10.0.2.15/24, gateway 10.0.2.2) and keeps asking.
//!
//! One loop does everything: it polls the interface, hands what it made to the driver, then
//! waits for a frame or for the moment smoltcp next needs the clock.
#![no_std]

extern crate alloc;

mod link;

use core::time::Duration;
use protocol::net::{LINK_UP, QUERY, RECEIVED};
use sdk::Endpoint;
use sdk::rt::{TimedOut, with_timeout};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::dhcpv4;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, IpCidr, Ipv4Address, Ipv4Cidr};

use link::Link;

/// How long the stack waits for a DHCP server before it takes the fallback address.
const DHCP_PATIENCE: Duration = Duration::from_secs(3);
/// The fallback address and gateway: QEMU's user-mode network's.
const FALLBACK: Ipv4Cidr = Ipv4Cidr::new(Ipv4Address::new(10, 0, 2, 15), 24);
const FALLBACK_GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
/// Longest wait between polls when smoltcp names no deadline.
const IDLE: Duration = Duration::from_secs(1);

/// smoltcp's clock: the kernel's monotonic clock.
fn now() -> Instant {
    Instant::from_micros((sdk::sys::sys_clock_ns() / 1000) as i64)
}

/// How the interface got its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Addressing {
    /// None yet.
    Waiting,
    /// From a DHCP server.
    Dhcp,
    /// The fallback, DHCP having stayed silent.
    Fallback,
}

/// The interface and its sockets.
struct Stack {
    iface: Interface,
    sockets: SocketSet<'static>,
    dhcp: SocketHandle,
    addressing: Addressing,
    started: Instant,
}

impl Stack {
    fn new(link: &mut Link, mac: [u8; 6]) -> Self {
        let mut config = Config::new(EthernetAddress(mac).into());
        config.random_seed = sdk::rt::wall_clock_ns() as u64;
        let iface = Interface::new(config, link, now());
        let mut sockets = SocketSet::new(alloc::vec::Vec::new());
        let dhcp = sockets.add(dhcpv4::Socket::new());
        Self { iface, sockets, dhcp, addressing: Addressing::Waiting, started: now() }
    }

    /// Polls the interface and follows what DHCP says.
    fn poll(&mut self, link: &mut Link) {
        self.iface.poll(now(), link, &mut self.sockets);
        let event = match self.sockets.get_mut::<dhcpv4::Socket>(self.dhcp).poll() {
            Some(dhcpv4::Event::Configured(config)) => Some((config.address, config.router)),
            Some(dhcpv4::Event::Deconfigured) => None,
            None => return self.fall_back(),
        };
        match event {
            Some((address, router)) => {
                self.configure(address, router);
                self.addressing = Addressing::Dhcp;
                match router {
                    Some(router) => sdk::info!("netstack: {address} by DHCP, gateway {router}"),
                    None => sdk::info!("netstack: {address} by DHCP, no gateway"),
                }
            }
            // The socket says so once at its start, when there was nothing to lose.
            None if self.addressing != Addressing::Dhcp => {}
            None => {
                self.iface.update_ip_addrs(|addrs| addrs.clear());
                self.iface.routes_mut().remove_default_ipv4_route();
                self.addressing = Addressing::Waiting;
                self.started = now();
                sdk::warn!("netstack: the DHCP lease ended");
            }
        }
    }

    /// Takes the fallback address once DHCP has been silent for [`DHCP_PATIENCE`].
    fn fall_back(&mut self) {
        if self.addressing == Addressing::Waiting && now() - self.started > DHCP_PATIENCE.into() {
            self.configure(FALLBACK, Some(FALLBACK_GATEWAY));
            self.addressing = Addressing::Fallback;
            sdk::warn!(
                "netstack: no DHCP answer in {DHCP_PATIENCE:?}; using {FALLBACK}, gateway {FALLBACK_GATEWAY}"
            );
        }
    }

    fn configure(&mut self, address: Ipv4Cidr, router: Option<Ipv4Address>) {
        self.iface.update_ip_addrs(|addrs| {
            addrs.clear();
            // One address: the list has room for it.
            let _ = addrs.push(IpCidr::Ipv4(address));
        });
        match router {
            Some(router) => {
                let _ = self.iface.routes_mut().add_default_ipv4_route(router);
            }
            None => {
                self.iface.routes_mut().remove_default_ipv4_route();
            }
        }
    }

    /// How long until smoltcp needs to be polled again, at most [`IDLE`].
    fn delay(&mut self) -> Duration {
        let patience = match self.addressing {
            Addressing::Waiting => DHCP_PATIENCE,
            _ => IDLE,
        };
        let delay = self
            .iface
            .poll_delay(now(), &self.sockets)
            .map_or(IDLE, |d| Duration::from_micros(d.total_micros()));
        delay.min(patience).min(IDLE)
    }
}

#[sdk::main]
async fn main() -> Result<(), sdk::Error> {
    let driver = Endpoint::from_grant(0);
    let frames = Endpoint::from_grant(1);
    // The driver announces the card when it starts; if it started first, ask again.
    let _ = driver.try_send(QUERY, &[], None);
    let mut link = Link::new(driver);
    let mac = loop {
        let message = frames.recv().await?;
        if message.opcode == LINK_UP && message.payload.len() == 6 {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&message.payload);
            break mac;
        }
    };
    let mut stack = Stack::new(&mut link, mac);
    loop {
        stack.poll(&mut link);
        link.flush();
        if link.has_incoming() {
            continue;
        }
        let first = match with_timeout(stack.delay(), frames.recv()).await {
            Ok(message) => message?,
            Err(TimedOut) => continue,
        };
        let mut next = Some(first);
        while let Some(message) = next {
            match message.opcode {
                RECEIVED => link.arrived(message.payload),
                // The driver came back (a restart): same card, same address.
                LINK_UP => sdk::debug!("netstack: the card's driver is up again"),
                _ => {}
            }
            next = frames.try_recv().ok();
        }
    }
}
