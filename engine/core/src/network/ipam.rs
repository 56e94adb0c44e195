//! Address management for bridge networks: a subnet that collides with
//! nothing on the host, and addresses handed out from it.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub base: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    pub fn parse(s: &str) -> Option<Self> {
        let (ip, prefix) = s.split_once('/')?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 30)?;
        let base = u32::from(ip.parse::<Ipv4Addr>().ok()?) & mask(prefix);
        Some(Self { base: base.into(), prefix })
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == u32::from(self.base)
    }

    pub fn overlaps(&self, other: &Subnet) -> bool {
        let m = mask(self.prefix.min(other.prefix));
        u32::from(self.base) & m == u32::from(other.base) & m
    }

    /// The first host address, the bridge's own.
    pub fn gateway(&self) -> Ipv4Addr {
        (u32::from(self.base) + 1).into()
    }

    fn broadcast(&self) -> u32 {
        u32::from(self.base) | !mask(self.prefix)
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    }
}

/// Where Berth's default bridge looks for room, clear of Docker's
/// 172.17.0.0/16 so both engines can run side by side.
const CANDIDATES: &[&str] = &["172.30.0.0/16", "172.29.0.0/16", "10.201.0.0/16", "10.202.0.0/16", "192.168.215.0/24"];

/// Subnets already routed on the host (from /proc/net/route).
pub fn host_routes() -> Vec<Subnet> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let m = u32::from_str_radix(f.get(7)?, 16).ok()?;
            // The kernel prints the network-order bytes as a native (little-endian) number.
            let (dest, m) = (dest.swap_bytes(), m.swap_bytes());
            (m != 0).then(|| Subnet { base: dest.into(), prefix: m.count_ones() as u8 })
        })
        .collect()
}

/// The first candidate that overlaps no host route: the /16s above, then
/// /24s of 10.210.0.0/16.
pub fn pick_subnet(taken: &[Subnet]) -> Option<Subnet> {
    let small = (0..=255u8).map(|i| Subnet { base: Ipv4Addr::new(10, 210, i, 0), prefix: 24 });
    CANDIDATES.iter().filter_map(|c| Subnet::parse(c)).chain(small).find(|c| !taken.iter().any(|t| t.overlaps(c)))
}

/// Next free host address in `subnet` (skipping the gateway).
pub fn allocate(subnet: &Subnet, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let first = u32::from(subnet.gateway()) + 1;
    (first..subnet.broadcast()).map(Ipv4Addr::from).find(|ip| !used.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_and_allocation() {
        let s = Subnet::parse("172.30.5.9/16").unwrap();
        assert_eq!(s.to_string(), "172.30.0.0/16");
        assert_eq!(s.gateway(), Ipv4Addr::new(172, 30, 0, 1));
        assert!(s.contains(Ipv4Addr::new(172, 30, 200, 1)));
        assert!(!s.contains(Ipv4Addr::new(172, 31, 0, 1)));
        let docker = Subnet::parse("172.17.0.0/16").unwrap();
        assert!(!s.overlaps(&docker));
        assert!(Subnet::parse("172.16.0.0/12").unwrap().overlaps(&s));
        assert_eq!(pick_subnet(&[Subnet::parse("172.30.0.0/16").unwrap()]).unwrap().to_string(), "172.29.0.0/16");
        let mut used = BTreeSet::new();
        let a = allocate(&s, &used).unwrap();
        assert_eq!(a, Ipv4Addr::new(172, 30, 0, 2));
        used.insert(a);
        assert_eq!(allocate(&s, &used).unwrap(), Ipv4Addr::new(172, 30, 0, 3));
        let tiny = Subnet::parse("10.0.0.0/30").unwrap();
        let full: BTreeSet<_> = [Ipv4Addr::new(10, 0, 0, 2)].into();
        assert_eq!(allocate(&tiny, &full), None);
    }
}
