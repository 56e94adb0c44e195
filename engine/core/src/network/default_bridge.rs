//! The default network ("bridge"): its subnet is chosen on first start and kept in bridge.json
//! unless `--bip` names another; IPv6 on it follows `--ipv6` and `--fixed-cidr-v6` at every start.

use std::collections::BTreeMap;
use std::path::Path;

use super::ipam::{self, AddressPool, Ipam, PoolRequest, Subnet, Subnet6};
use super::{io, ipv6_net, now, BridgeNetwork, NetworkError};

/// How the engine's settings want the default bridge.
#[derive(Debug, Clone, Default)]
pub struct DefaultBridge<'a> {
    pub device: &'a str,
    /// `--bip`: its address and subnet.
    pub bip: Option<&'a str>,
    /// `--ipv6`.
    pub ipv6: bool,
    /// `--fixed-cidr-v6`: its IPv6 subnet; a unique local /64 of its own when unset.
    pub fixed_cidr_v6: Option<&'a str>,
    /// daemon.json `default-address-pools`: where its subnet and those of new networks come
    /// from; empty means Berth's own list.
    pub address_pools: &'a [crate::config::AddressPool],
}

/// The default bridge as `want` says, saved when it changed. `pools` are `want`'s address pools,
/// parsed. `others` are the user-defined networks, whose subnets it must not overlap.
pub(super) fn load(
    dir: &Path,
    want: &DefaultBridge,
    pools: &[AddressPool],
    others: &[BridgeNetwork],
) -> Result<BridgeNetwork, NetworkError> {
    let path = dir.join("bridge.json");
    let bip = want.bip.map(|b| Subnet::parse(b).ok_or_else(|| NetworkError::BadBip(b.into()))).transpose()?;
    let saved = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<BridgeNetwork>(&b).ok());
    let saved = saved.filter(|b| bip.is_none_or(|w| w == b.subnet));
    let mut changed = saved.is_none();
    let mut bridge = match saved {
        Some(b) => b,
        None => {
            let subnet = match bip {
                Some(w) => w,
                None => {
                    let mut taken = ipam::host_routes();
                    taken.extend(others.iter().map(|n| n.subnet));
                    ipam::pick_subnet(&taken, pools)
                }
                .ok_or_else(|| NetworkError::Exhausted("the default address pools".into()))?,
            };
            BridgeNetwork {
                id: crate::containers::names::new_id(),
                name: super::default_name(),
                subnet,
                created: now(),
                device: want.device.into(),
                internal: false,
                labels: BTreeMap::new(),
                options: BTreeMap::new(),
                ipam: Ipam::default(),
                attachable: false,
                ipv6: None,
            }
        }
    };
    bridge.device = want.device.into();

    let fixed = want
        .fixed_cidr_v6
        .map(|s| Subnet6::parse(s).ok_or_else(|| NetworkError::Invalid(format!("invalid fixed-cidr-v6 {s:?}"))))
        .transpose()?;
    let keep = match &bridge.ipv6 {
        Some(v6) => want.ipv6 && fixed.is_none_or(|f| f == v6.subnet),
        None => !want.ipv6,
    };
    if !keep {
        let pool = PoolRequest { subnet: want.fixed_cidr_v6.map(String::from), ..PoolRequest::default() };
        bridge.ipv6 = want.ipv6.then(|| ipv6_net(others, &bridge.id, &pool)).transpose()?;
        changed = true;
    }
    if changed {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec(&bridge).unwrap_or_default()).map_err(io("write", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(io("write", &path))?;
    }
    Ok(bridge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_follows_the_settings_and_keeps_its_subnet() {
        let dir = tempfile::tempdir().unwrap();
        let mut want = DefaultBridge { device: "bt-test", bip: Some("10.77.0.1/24"), ..Default::default() };
        let first = load(dir.path(), &want, &[], &[]).unwrap();
        assert!(first.ipv6.is_none());

        want.ipv6 = true;
        let ula = load(dir.path(), &want, &[], &[]).unwrap();
        assert_eq!(ula.id, first.id);
        let ula_subnet = ula.ipv6.as_ref().unwrap().subnet;
        assert!(ula_subnet.to_string().starts_with("fd"), "{ula_subnet}");
        assert_eq!(load(dir.path(), &want, &[], &[]).unwrap().ipv6.unwrap().subnet, ula_subnet);

        want.fixed_cidr_v6 = Some("fd00:77::/64");
        assert_eq!(load(dir.path(), &want, &[], &[]).unwrap().ipv6.unwrap().subnet.to_string(), "fd00:77::/64");
        want.ipv6 = false;
        assert!(load(dir.path(), &want, &[], &[]).unwrap().ipv6.is_none());

        want.ipv6 = true;
        want.fixed_cidr_v6 = Some("nonsense");
        assert!(matches!(load(dir.path(), &want, &[], &[]), Err(NetworkError::Invalid(_))));
    }
}
