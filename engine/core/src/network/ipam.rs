//! Address management for bridge networks, IPv4 and IPv6 alike: a subnet that collides with
//! nothing on the host, and addresses handed out from it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::NetworkError;

/// An address family, as numbers: the arithmetic of subnets is the same for
/// IPv4 and IPv6, only the width differs.
pub trait Family: Copy + Ord + std::fmt::Display + std::str::FromStr {
    const BITS: u8;
    fn to_bits(self) -> u128;
    fn from_bits(bits: u128) -> Self;
}

impl Family for Ipv4Addr {
    const BITS: u8 = 32;
    fn to_bits(self) -> u128 {
        u32::from(self).into()
    }
    fn from_bits(bits: u128) -> Self {
        Ipv4Addr::from(bits as u32)
    }
}

impl Family for Ipv6Addr {
    const BITS: u8 = 128;
    fn to_bits(self) -> u128 {
        self.into()
    }
    fn from_bits(bits: u128) -> Self {
        bits.into()
    }
}

/// A subnet of either family: its network address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cidr<A> {
    pub base: A,
    pub prefix: u8,
}

pub type Subnet = Cidr<Ipv4Addr>;
pub type Subnet6 = Cidr<Ipv6Addr>;

impl<A: Family> Cidr<A> {
    /// `ADDRESS/PREFIX`, with room for a gateway and one host at least.
    pub fn parse(s: &str) -> Option<Self> {
        let (ip, prefix) = s.split_once('/')?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= A::BITS - 2)?;
        let base = ip.parse::<A>().ok()?.to_bits() & mask::<A>(prefix);
        Some(Self { base: A::from_bits(base), prefix })
    }

    pub fn contains(&self, ip: A) -> bool {
        ip.to_bits() & mask::<A>(self.prefix) == self.base.to_bits()
    }

    pub fn overlaps(&self, other: &Self) -> bool {
        let m = mask::<A>(self.prefix.min(other.prefix));
        self.base.to_bits() & m == other.base.to_bits() & m
    }

    /// The first host address, the bridge's own.
    pub fn gateway(&self) -> A {
        A::from_bits(self.base.to_bits() + 1)
    }

    /// The last address (IPv4's broadcast address).
    fn last(&self) -> u128 {
        self.base.to_bits() | (!mask::<A>(self.prefix) & mask::<A>(A::BITS))
    }
}

impl<A: Family> std::fmt::Display for Cidr<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// The top `prefix` bits of an `A::BITS`-wide address.
fn mask<A: Family>(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        (u128::MAX << (128 - u32::from(prefix))) >> (128 - u32::from(A::BITS))
    }
}

/// A unique local /64 for an IPv6 network created without a subnet, drawn
/// from its ID as RFC 4193 draws the global ID at random.
pub fn ula_for(network_id: &str) -> Subnet6 {
    let global = u64::from_str_radix(network_id.get(..10).unwrap_or("0"), 16).unwrap_or(0);
    let base = (0xfdu128 << 120) | (u128::from(global) << 80);
    Cidr { base: base.into(), prefix: 64 }
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
pub fn pick_subnet(taken: &[Subnet], pools: &[AddressPool]) -> Option<Subnet> {
    let free = |c: &Subnet| !taken.iter().any(|t| t.overlaps(c));
    if !pools.is_empty() {
        return pools.iter().flat_map(AddressPool::subnets).find(free);
    }
    let small = (0..=255u8).map(|i| Subnet { base: Ipv4Addr::new(10, 210, i, 0), prefix: 24 });
    CANDIDATES.iter().filter_map(|c| Subnet::parse(c)).chain(small).find(free)
}

/// One of daemon.json's `default-address-pools`: networks of `size` bits carved from `base`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressPool {
    pub base: Subnet,
    pub size: u8,
}

impl AddressPool {
    /// `{"base": "10.10.0.0/16", "size": 24}`, checked as dockerd checks it.
    pub fn parse(base: &str, size: u8) -> Result<Self, NetworkError> {
        let bad =
            |why: &str| NetworkError::Invalid(format!("invalid default address pool {base} (size {size}): {why}"));
        let base = Subnet::parse(base).ok_or_else(|| bad("not an IPv4 subnet"))?;
        if size < base.prefix || size > 30 {
            return Err(bad("the size must be between the base's prefix and 30"));
        }
        Ok(Self { base, size })
    }

    fn subnets(&self) -> impl Iterator<Item = Subnet> + '_ {
        let step = 1u64 << (32 - self.size);
        let count = 1u64 << (self.size - self.base.prefix);
        let start = u64::from(u32::from(self.base.base));
        (0..count).map(move |i| Subnet { base: Ipv4Addr::from((start + i * step) as u32), prefix: self.size })
    }
}

/// The next host address of `subnet` in `pool` (the subnet or its
/// `--ip-range`) that is not `used`.
pub fn allocate<A: Family>(subnet: &Cidr<A>, pool: &Cidr<A>, used: &BTreeSet<A>) -> Option<A> {
    let first = pool.base.to_bits().max(subnet.base.to_bits()) + 1;
    let last = pool.last().min(subnet.last() - 1);
    (first..=last).map(A::from_bits).find(|ip| !used.contains(ip))
}

/// `--gateway`, which must be a host address of `subnet`.
pub fn gateway_in<A: Family>(subnet: &Cidr<A>, gateway: &str) -> Result<A, NetworkError> {
    let ip: A = gateway.parse().map_err(|_| NetworkError::Invalid(format!("invalid gateway address {gateway:?}")))?;
    let host = ip.to_bits();
    if !subnet.contains(ip) || host == subnet.base.to_bits() || host == subnet.last() {
        return Err(NetworkError::Invalid(format!("no matching subnet for gateway {gateway}")));
    }
    Ok(ip)
}

/// An `--aux-address`, which must be in `subnet`.
pub fn aux_in<A: Family>(subnet: &Cidr<A>, ip: &str) -> Result<A, NetworkError> {
    match ip.parse::<A>() {
        Ok(a) if subnet.contains(a) => Ok(a),
        _ => Err(NetworkError::Invalid(format!("no matching subnet for aux-address {ip}"))),
    }
}

/// `--ip-range`, which must lie within `subnet`.
pub fn range_in<A: Family>(subnet: &Cidr<A>, range: &str) -> Result<Cidr<A>, NetworkError> {
    let r = Cidr::<A>::parse(range).ok_or_else(|| NetworkError::Invalid(format!("invalid ip-range {range:?}")))?;
    if r.prefix < subnet.prefix || !subnet.contains(r.base) {
        return Err(NetworkError::Invalid(format!("no matching subnet for range {range}")));
    }
    Ok(r)
}

/// What the user asked of a network's addresses in one family (`docker
/// network create --subnet --gateway --ip-range --aux-address`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipam<A = Ipv4Addr> {
    /// The subnet was given, not picked: static addresses need that.
    #[serde(default)]
    pub user_subnet: bool,
    #[serde(default = "none")]
    pub gateway: Option<A>,
    /// Where addresses are handed out from, else the whole subnet.
    #[serde(default = "none")]
    pub ip_range: Option<Cidr<A>>,
    /// `--aux-address`: addresses kept out of allocation.
    #[serde(default = "BTreeMap::new")]
    pub aux_addresses: BTreeMap<String, A>,
}

fn none<T>() -> Option<T> {
    None
}

impl<A> Default for Ipam<A> {
    fn default() -> Self {
        Self { user_subnet: false, gateway: None, ip_range: None, aux_addresses: BTreeMap::new() }
    }
}

impl<A: Family> Ipam<A> {
    /// Checks a pool request against its subnet.
    pub(super) fn build(subnet: &Cidr<A>, req: &PoolRequest) -> Result<Self, NetworkError> {
        Ok(Self {
            user_subnet: req.subnet.is_some(),
            gateway: req.gateway.as_deref().map(|g| gateway_in(subnet, g)).transpose()?,
            ip_range: req.ip_range.as_deref().map(|r| range_in(subnet, r)).transpose()?,
            aux_addresses: req
                .aux_addresses
                .iter()
                .map(|(host, ip)| Ok((host.clone(), aux_in(subnet, ip)?)))
                .collect::<Result<_, NetworkError>>()?,
        })
    }

    fn is_reserved(&self, ip: A) -> bool {
        self.aux_addresses.values().any(|a| *a == ip)
    }

    /// An address for a container: `wanted` if it is free, else the next
    /// free one of the pool. `used` holds the other containers' addresses.
    pub(super) fn pick(
        &self,
        subnet: &Cidr<A>,
        gateway: A,
        wanted: Option<A>,
        mut used: BTreeSet<A>,
    ) -> Result<A, NetworkError> {
        match wanted {
            Some(_) if !self.user_subnet => Err(NetworkError::Invalid(
                "user specified IP address is supported only when connecting to networks with user configured subnets"
                    .into(),
            )),
            Some(ip) if !subnet.contains(ip) => {
                Err(NetworkError::Invalid(format!("no configured subnet contains IP address {ip}")))
            }
            Some(ip) if used.contains(&ip) || ip == gateway || self.is_reserved(ip) => {
                Err(NetworkError::Exists(format!("Address already in use: {ip}")))
            }
            Some(ip) => Ok(ip),
            None => {
                used.insert(gateway);
                used.extend(self.aux_addresses.values());
                let pool = self.ip_range.unwrap_or(*subnet);
                allocate(subnet, &pool, &used).ok_or_else(|| NetworkError::Exhausted(pool.to_string()))
            }
        }
    }
}

/// One family's addresses as `docker network create` asks for them.
#[derive(Debug, Clone, Default)]
pub struct PoolRequest {
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
    pub aux_addresses: BTreeMap<String, String>,
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
        assert_eq!(pick_subnet(&[Subnet::parse("172.30.0.0/16").unwrap()], &[]).unwrap().to_string(), "172.29.0.0/16");
        let pools = [AddressPool::parse("10.120.0.0/22", 24).unwrap()];
        let taken = [Subnet::parse("10.120.0.0/24").unwrap(), Subnet::parse("10.120.1.0/25").unwrap()];
        assert_eq!(pick_subnet(&taken, &pools).unwrap().to_string(), "10.120.2.0/24");
        assert!(pick_subnet(&[Subnet::parse("10.120.0.0/22").unwrap()], &pools).is_none());
        assert!(AddressPool::parse("10.120.0.0/22", 16).is_err());
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

    #[test]
    fn ipv6_subnets() {
        let s = Subnet6::parse("2001:389::1/64").unwrap();
        assert_eq!(s.to_string(), "2001:389::/64");
        assert_eq!(s.gateway().to_string(), "2001:389::1");
        assert!(s.contains("2001:389::f00d".parse().unwrap()));
        assert!(!s.contains("2001:388::1".parse().unwrap()));
        assert!(Subnet6::parse("2001:389::/48").unwrap().overlaps(&s));
        assert_eq!(gateway_in(&s, "2001:389::ffff").unwrap().to_string(), "2001:389::ffff");
        assert!(gateway_in(&s, "2001:389::").is_err());
        let r = range_in(&s, "2001:389::/96").unwrap();
        let used: BTreeSet<Ipv6Addr> = ["2001:389::1".parse().unwrap()].into();
        assert_eq!(allocate(&s, &r, &used).unwrap().to_string(), "2001:389::2");
        assert!(Subnet6::parse("172.30.0.0/16").is_none() && Subnet::parse("fd00::/64").is_none());
        assert_eq!(ula_for("0123456789abcdef").to_string(), "fd01:2345:6789::/64");
    }
}
