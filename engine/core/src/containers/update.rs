//! `docker update`: new resource limits and restart policy for a container, applied to its cgroup
//! at once when it runs and kept for its next start.

use super::record::{Container, HostSpec, Status};
use super::{ContainerError, ContainerService};

/// What `POST /containers/{id}/update` may change; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct ResourceUpdate {
    pub memory: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub memory_swap: Option<i64>,
    pub cpu_shares: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub pids_limit: Option<i64>,
    /// Name and maximum retry count.
    pub restart_policy: Option<(String, i64)>,
}

impl ResourceUpdate {
    /// `host` with this update applied.
    fn apply(&self, host: &HostSpec) -> HostSpec {
        let mut h = host.clone();
        let t = &mut h.tuning;
        let set = |dst: &mut i64, v: Option<i64>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        set(&mut h.memory, self.memory);
        set(&mut t.memory_reservation, self.memory_reservation);
        set(&mut t.memory_swap, self.memory_swap);
        set(&mut h.cpu_shares, self.cpu_shares);
        set(&mut h.nano_cpus, self.nano_cpus);
        set(&mut t.cpu_quota, self.cpu_quota);
        set(&mut t.cpu_period, self.cpu_period);
        if let Some(c) = &self.cpuset_cpus {
            t.cpuset_cpus = c.clone();
        }
        if let Some(m) = &self.cpuset_mems {
            t.cpuset_mems = m.clone();
        }
        if let Some(p) = self.pids_limit {
            h.pids_limit = Some(p);
        }
        if let Some((name, max)) = &self.restart_policy {
            h.restart_policy = name.clone();
            h.restart_max_retries = *max;
        }
        h
    }

    /// The runtime's `update` flags for a running container.
    fn runtime_args(&self, h: &HostSpec) -> Vec<String> {
        let mut args = Vec::new();
        let mut flag = |name: &str, value: String| args.extend([format!("--{name}"), value]);
        if self.memory.is_some() {
            flag("memory", h.memory.to_string());
        }
        if self.memory_reservation.is_some() {
            flag("memory-reservation", h.tuning.memory_reservation.to_string());
        }
        if self.memory_swap.is_some() || (self.memory.is_some() && h.tuning.memory_swap != 0) {
            flag("memory-swap", h.tuning.memory_swap.to_string());
        }
        if self.cpu_shares.is_some() {
            flag("cpu-share", h.cpu_shares.to_string());
        }
        if self.nano_cpus.is_some() && h.nano_cpus > 0 {
            flag("cpu-period", "100000".into());
            flag("cpu-quota", (h.nano_cpus / 10_000).to_string());
        }
        if self.cpu_period.is_some() {
            flag("cpu-period", h.tuning.cpu_period.to_string());
        }
        if self.cpu_quota.is_some() {
            flag("cpu-quota", h.tuning.cpu_quota.to_string());
        }
        if self.cpuset_cpus.is_some() {
            flag("cpuset-cpus", h.tuning.cpuset_cpus.clone());
        }
        if self.cpuset_mems.is_some() {
            flag("cpuset-mems", h.tuning.cpuset_mems.clone());
        }
        if let Some(p) = self.pids_limit {
            flag("pids-limit", if p > 0 { p.to_string() } else { "-1".into() });
        }
        args
    }
}

impl ContainerService {
    /// Applies `u` to the container `name`; answers the warnings dockerd would give.
    pub async fn update_resources(&self, name: &str, u: ResourceUpdate) -> Result<Vec<String>, ContainerError> {
        let c = self.get(name)?;
        let host = u.apply(&c.spec.host);
        check(&c, &host)?;
        if matches!(c.state.status, Status::Running | Status::Paused) {
            let args = u.runtime_args(&host);
            if !args.is_empty() {
                let mut cmd: Vec<&str> = vec!["update"];
                cmd.extend(args.iter().map(String::as_str));
                cmd.push(&c.id);
                self.runtime_command(&c.id, &cmd)
                    .await
                    .map_err(|e| ContainerError::InvalidParameter(format!("Cannot update container {}: {e}", c.id)))?;
            }
        }
        let c = self.update(&c.id, |r| {
            r.spec.host = host.clone();
            write_host_config(&mut r.host_config_json, &host);
        })?;
        self.emit(&c, "update", &[]);
        Ok(super::tuning::warnings(&c.spec.host.tuning, c.spec.host.memory))
    }
}

/// dockerd's rules for an update.
fn check(c: &Container, h: &HostSpec) -> Result<(), ContainerError> {
    let invalid = |m: &str| Err(ContainerError::InvalidParameter(m.into()));
    if c.spec.host.auto_remove
        && h.restart_policy != c.spec.host.restart_policy
        && !matches!(h.restart_policy.as_str(), "" | "no")
    {
        return invalid("Restart policy cannot be updated because AutoRemove is enabled for the container");
    }
    super::create::check_restart_policy(&h.restart_policy)?;
    if h.nano_cpus > 0 && (h.tuning.cpu_quota > 0 || h.tuning.cpu_period > 0) {
        return invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set");
    }
    if h.memory > 0 && h.memory < 6 << 20 {
        return invalid("Minimum memory limit allowed is 6MB");
    }
    if h.tuning.memory_swap > 0 && h.memory > h.tuning.memory_swap {
        return invalid(
            "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
        );
    }
    super::tuning::validate(&h.tuning, h.memory, &h.network_mode)
}

/// Keeps inspect's `HostConfig` in step with what is in force.
fn write_host_config(json: &mut serde_json::Value, h: &HostSpec) {
    if !json.is_object() {
        *json = serde_json::json!({});
    }
    let t = &h.tuning;
    for (key, value) in [
        ("Memory", serde_json::json!(h.memory)),
        ("MemoryReservation", t.memory_reservation.into()),
        ("MemorySwap", t.memory_swap.into()),
        ("CpuShares", h.cpu_shares.into()),
        ("NanoCpus", h.nano_cpus.into()),
        ("CpuQuota", t.cpu_quota.into()),
        ("CpuPeriod", t.cpu_period.into()),
        ("CpusetCpus", t.cpuset_cpus.clone().into()),
        ("CpusetMems", t.cpuset_mems.clone().into()),
        ("PidsLimit", h.pids_limit.into()),
        ("RestartPolicy", serde_json::json!({"Name": h.restart_policy, "MaximumRetryCount": h.restart_max_retries})),
    ] {
        json[key] = value;
    }
}
