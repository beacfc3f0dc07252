//! The interface: smoltcp's `Interface` and socket set, and how it gets its address (DHCP,
//! with a fallback when no server answers).

use alloc::vec::Vec;
use core::time::Duration;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::dhcpv4;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, IpCidr, Ipv4Address, Ipv4Cidr};

use crate::link::Link;

/// How long the stack waits for a DHCP server before it takes the fallback address.
const DHCP_PATIENCE: Duration = Duration::from_secs(3);
/// The fallback address and gateway: QEMU's user-mode network's.
const FALLBACK: Ipv4Cidr = Ipv4Cidr::new(Ipv4Address::new(10, 0, 2, 15), 24);
const FALLBACK_GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
/// Longest wait between polls when smoltcp names no deadline.
const IDLE: Duration = Duration::from_secs(1);

/// smoltcp's clock: the kernel's monotonic clock.
pub fn now() -> Instant {
    Instant::from_micros((sdk::sys::sys_clock_ns() / 1000) as i64)
}

/// How the interface got its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// None yet.
    Waiting,
    /// From a DHCP server.
    Dhcp,
    /// The fallback, DHCP having stayed silent.
    Fallback,
}

/// The interface and its sockets.
pub struct Stack {
    /// The interface.
    pub iface: Interface,
    /// Its sockets.
    pub sockets: SocketSet<'static>,
    dhcp: SocketHandle,
    /// How it got its address.
    pub addressing: Addressing,
    started: Instant,
}

impl Stack {
    /// An interface on `link` with the card's address `mac`, asking DHCP for an address.
    pub fn new(link: &mut Link, mac: [u8; 6]) -> Self {
        let mut config = Config::new(EthernetAddress(mac).into());
        config.random_seed = sdk::rt::wall_clock_ns() as u64;
        let iface = Interface::new(config, link, now());
        let mut sockets = SocketSet::new(Vec::new());
        let dhcp = sockets.add(dhcpv4::Socket::new());
        Self { iface, sockets, dhcp, addressing: Addressing::Waiting, started: now() }
    }

    /// Polls the interface and follows what DHCP says.
    pub fn poll(&mut self, link: &mut Link) {
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
    pub fn delay(&mut self) -> Duration {
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
