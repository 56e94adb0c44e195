//! Address management for bridge networks: a subnet that collides with
//! nothing on the host, and addresses handed out from it.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::NetworkError;

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

/// The next host address of `subnet` in `pool` (the subnet or its
/// `--ip-range`) that is not `used`.
pub fn allocate(subnet: &Subnet, pool: &Subnet, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let first = u32::from(pool.base).max(u32::from(subnet.base)) + 1;
    let last = pool.broadcast().min(subnet.broadcast() - 1);
    (first..=last).map(Ipv4Addr::from).find(|ip| !used.contains(ip))
}

/// `--gateway`, which must be a host address of `subnet`.
pub fn gateway_in(subnet: &Subnet, gateway: &str) -> Result<Ipv4Addr, NetworkError> {
    let ip: Ipv4Addr =
        gateway.parse().map_err(|_| NetworkError::Invalid(format!("invalid gateway address {gateway:?}")))?;
    let host = u32::from(ip);
    if !subnet.contains(ip) || host == u32::from(subnet.base) || host == subnet.broadcast() {
        return Err(NetworkError::Invalid(format!("no matching subnet for gateway {gateway}")));
    }
    Ok(ip)
}

/// An `--aux-address`, which must be in `subnet`.
pub fn aux_in(subnet: &Subnet, ip: &str) -> Result<Ipv4Addr, NetworkError> {
    match ip.parse::<Ipv4Addr>() {
        Ok(a) if subnet.contains(a) => Ok(a),
        _ => Err(NetworkError::Invalid(format!("no matching subnet for aux-address {ip}"))),
    }
}

/// `--ip-range`, which must lie within `subnet`.
pub fn range_in(subnet: &Subnet, range: &str) -> Result<Subnet, NetworkError> {
    let r = Subnet::parse(range).ok_or_else(|| NetworkError::Invalid(format!("invalid ip-range {range:?}")))?;
    if r.prefix < subnet.prefix || !subnet.contains(r.base) {
        return Err(NetworkError::Invalid(format!("no matching subnet for range {range}")));
    }
    Ok(r)
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
        let mut used: BTreeSet<_> = [s.gateway()].into();
        let a = allocate(&s, &s, &used).unwrap();
        assert_eq!(a, Ipv4Addr::new(172, 30, 0, 2));
        used.insert(a);
        assert_eq!(allocate(&s, &s, &used).unwrap(), Ipv4Addr::new(172, 30, 0, 3));
        let tiny = Subnet::parse("10.0.0.0/30").unwrap();
        let full: BTreeSet<_> = [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)].into();
        assert_eq!(allocate(&tiny, &tiny, &full), None);
    }

    #[test]
    fn gateway_and_range() {
        let s = Subnet::parse("10.9.0.0/16").unwrap();
        assert_eq!(gateway_in(&s, "10.9.255.254").unwrap(), Ipv4Addr::new(10, 9, 255, 254));
        for bad in ["10.8.0.1", "10.9.0.0", "10.9.255.255", "nope"] {
            assert!(gateway_in(&s, bad).is_err(), "{bad}");
        }
        let r = range_in(&s, "10.9.4.0/24").unwrap();
        assert!(range_in(&s, "10.10.0.0/24").is_err());
        assert!(range_in(&s, "10.0.0.0/8").is_err());
        let used: BTreeSet<_> = [Ipv4Addr::new(10, 9, 4, 1)].into();
        assert_eq!(allocate(&s, &r, &used), Some(Ipv4Addr::new(10, 9, 4, 2)));
        let last = Subnet::parse("10.9.255.252/30").unwrap();
        assert_eq!(allocate(&s, &last, &BTreeSet::new()), Some(Ipv4Addr::new(10, 9, 255, 253)));
        let full: BTreeSet<_> = [Ipv4Addr::new(10, 9, 255, 253), Ipv4Addr::new(10, 9, 255, 254)].into();
        assert_eq!(allocate(&s, &last, &full), None);
    }
}
