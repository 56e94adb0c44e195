//! Block I/O: `--blkio-weight`, `--blkio-weight-device` and the `--device-{read,write}-{bps,iops}`
//! throttles. Checked at create with dockerd's messages; what the host's cgroups cannot do is
//! discarded with dockerd's warning, as dockerd does; the rest goes into the OCI spec at start.

use std::os::unix::fs::{FileTypeExt, MetadataExt};

use oci_spec::runtime::{LinuxBlockIo, LinuxBlockIoBuilder, LinuxThrottleDeviceBuilder, LinuxWeightDeviceBuilder};
use serde::{Deserialize, Serialize};

use super::ContainerError;
use crate::system::Cgroups;

/// A block device and a number for it: a weight, bytes or operations per second.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceValue {
    pub path: String,
    pub value: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Blkio {
    /// 10–1000; 0 is unset.
    pub weight: u16,
    pub weight_device: Vec<DeviceValue>,
    pub read_bps: Vec<DeviceValue>,
    pub write_bps: Vec<DeviceValue>,
    pub read_iops: Vec<DeviceValue>,
    pub write_iops: Vec<DeviceValue>,
}

impl Blkio {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Checks the values (a 400 for nonsense) and drops what this host cannot enforce, returning
    /// dockerd's warnings for it.
    pub fn checked(mut self, cgroups: &Cgroups) -> Result<(Self, Vec<String>), ContainerError> {
        let invalid = |m: String| Err(ContainerError::InvalidParameter(m));
        if self.weight > 0 && !(10..=1000).contains(&self.weight) {
            return invalid("Range of blkio weight is from 10 to 1000".into());
        }
        if let Some(d) = self.weight_device.iter().find(|d| !(10..=1000).contains(&d.value)) {
            return invalid(format!("invalid weight for device {}: Range of blkio weight is from 10 to 1000", d.path));
        }
        for d in self.devices() {
            device_number(&d.path)?;
        }
        let mut warnings = Vec::new();
        let mut discard = |cond: bool, what: &str, gone: &str| {
            if cond {
                warnings.push(format!(
                    "Your kernel does not support {what} or the cgroup is not mounted. {gone} discarded."
                ));
            }
            cond
        };
        if discard(self.weight > 0 && !cgroups.blkio_weight, "Block I/O weight", "Weight") {
            self.weight = 0;
        }
        if discard(
            !self.weight_device.is_empty() && !cgroups.blkio_weight_device,
            "Block I/O weight_device",
            "Weight-device",
        ) {
            self.weight_device.clear();
        }
        let throttles = cgroups.blkio_throttle;
        for (list, what, gone) in [
            (&mut self.read_bps, "BPS Block I/O read limit", "Block I/O BPS read limit"),
            (&mut self.write_bps, "BPS Block I/O write limit", "Block I/O BPS write limit"),
            (&mut self.read_iops, "IOPS Block read limit", "Block I/O IOPS read limit"),
            (&mut self.write_iops, "IOPS Block write limit", "Block I/O IOPS write limit"),
        ] {
            if discard(!list.is_empty() && !throttles, what, gone) {
                list.clear();
            }
        }
        Ok((self, warnings))
    }

    fn devices(&self) -> impl Iterator<Item = &DeviceValue> {
        [&self.weight_device, &self.read_bps, &self.write_bps, &self.read_iops, &self.write_iops].into_iter().flatten()
    }

    /// The OCI block I/O section, devices resolved to their numbers now (they may have changed).
    pub fn oci(&self) -> Result<Option<LinuxBlockIo>, ContainerError> {
        if self.is_empty() {
            return Ok(None);
        }
        let err =
            |e: oci_spec::OciSpecError| ContainerError::Internal(format!("failed to build the runtime spec: {e}"));
        let throttle = |list: &[DeviceValue]| {
            list.iter()
                .map(|d| {
                    let (major, minor) = device_number(&d.path)?;
                    LinuxThrottleDeviceBuilder::default().major(major).minor(minor).rate(d.value).build().map_err(err)
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let weights = self
            .weight_device
            .iter()
            .map(|d| {
                let (major, minor) = device_number(&d.path)?;
                LinuxWeightDeviceBuilder::default()
                    .major(major)
                    .minor(minor)
                    .weight(d.value as u16)
                    .build()
                    .map_err(err)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut b = LinuxBlockIoBuilder::default()
            .weight_device(weights)
            .throttle_read_bps_device(throttle(&self.read_bps)?)
            .throttle_write_bps_device(throttle(&self.write_bps)?)
            .throttle_read_iops_device(throttle(&self.read_iops)?)
            .throttle_write_iops_device(throttle(&self.write_iops)?);
        if self.weight > 0 {
            b = b.weight(self.weight);
        }
        b.build().map(Some).map_err(err)
    }
}

/// A block device's major and minor numbers.
fn device_number(path: &str) -> Result<(i64, i64), ContainerError> {
    let meta = std::fs::metadata(path).map_err(|e| ContainerError::InvalidParameter(format!("stat {path}: {e}")))?;
    if !meta.file_type().is_block_device() {
        return Err(ContainerError::InvalidParameter(format!("{path} is not a block device")));
    }
    let rdev = meta.rdev();
    Ok((nix::sys::stat::major(rdev) as i64, nix::sys::stat::minor(rdev) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked() {
        let cgroups = Cgroups::probe();
        let msg = |b: Blkio| b.checked(&cgroups).unwrap_err().to_string();
        assert_eq!(msg(Blkio { weight: 5, ..Default::default() }), "Range of blkio weight is from 10 to 1000");
        let not_a_device = vec![DeviceValue { path: "/etc/hostname".into(), value: 1 }];
        assert_eq!(msg(Blkio { read_bps: not_a_device, ..Default::default() }), "/etc/hostname is not a block device");
        let (b, warnings) = Blkio::default().checked(&cgroups).unwrap();
        assert!(b.is_empty() && warnings.is_empty());
        assert!(b.oci().unwrap().is_none());
    }
}
