//! The rest of a container's life: restart (by hand and by policy),
//! pause/unpause, rename, top, and pruning stopped containers.

use std::time::Duration;

use super::names;
use super::record::Status;
use super::{ContainerError, ContainerService};

/// Longest wait between restarts of a container that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A container that ran this long before exiting starts over at the
/// shortest backoff.
const RESET_AFTER: Duration = Duration::from_secs(10);

impl ContainerService {
    /// `docker restart`: stop (if running), then start.
    pub async fn restart(&self, name: &str, timeout: Option<i64>, signal: Option<&str>) -> Result<(), ContainerError> {
        let c = self.get(name)?;
        if c.state.status == Status::Running {
            self.stop(&c.id, timeout, signal).await?;
        }
        self.start(&c.id).await?;
        let c = self.get(&c.id)?;
        self.emit(&c, "restart", &[]);
        Ok(())
    }

    /// Freezes every process of the container (the runtime's freezer).
    pub async fn pause(&self, name: &str) -> Result<(), ContainerError> {
        let c = self.get(name)?;
        match c.state.status {
            Status::Running => {}
            Status::Paused => return Err(ContainerError::Conflict(format!("Container {} is already paused", c.id))),
            _ => return Err(ContainerError::Conflict(format!("Container {} is not running", c.id))),
        }
        self.runtime_command(&c.id, &["pause", &c.id]).await?;
        let c = self.update(&c.id, |r| r.state.status = Status::Paused)?;
        self.emit(&c, "pause", &[]);
        Ok(())
    }

    pub async fn unpause(&self, name: &str) -> Result<(), ContainerError> {
        let c = self.get(name)?;
        if c.state.status != Status::Paused {
            return Err(ContainerError::Conflict(format!("Container {} is not paused", c.id)));
        }
        self.runtime_command(&c.id, &["resume", &c.id]).await?;
        let c = self.update(&c.id, |r| r.state.status = Status::Running)?;
        self.emit(&c, "unpause", &[]);
        Ok(())
    }

    /// The OCI runtime's view of the container's status (`running`,
    /// `paused`, `stopped`…), if it knows the container.
    pub(super) async fn runtime_state(&self, id: &str) -> Option<String> {
        let out = tokio::process::Command::from(self.runtime_cmd(id)).args(["state", id]).output().await.ok()?;
        let state: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        state["status"].as_str().map(String::from)
    }

    /// Runs `args` (which end with the container's ID) with container `id`'s runtime.
    pub(super) async fn runtime_command(&self, id: &str, args: &[&str]) -> Result<(), ContainerError> {
        let out = tokio::process::Command::from(self.runtime_cmd(id))
            .args(args)
            .output()
            .await
            .map_err(|e| ContainerError::Runtime(format!("failed to run the OCI runtime: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(ContainerError::Runtime(String::from_utf8_lossy(&out.stderr).trim().to_string()))
        }
    }

    pub fn rename(&self, name: &str, new_name: &str) -> Result<(), ContainerError> {
        let c = self.get(name)?;
        let new_name = new_name.strip_prefix('/').unwrap_or(new_name);
        if !names::valid(new_name) {
            return Err(ContainerError::InvalidParameter(format!(
                "Invalid container name ({new_name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )));
        }
        if new_name == c.name {
            return Err(ContainerError::InvalidParameter(
                "Renaming a container with the same name as its current name".into(),
            ));
        }
        if let Some(other) = self.list().into_iter().find(|o| o.name == new_name) {
            return Err(ContainerError::Conflict(format!(
                "Conflict. The container name \"/{new_name}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                other.id
            )));
        }
        let old = c.name.clone();
        let c = self.update(&c.id, |r| {
            r.name = new_name.to_string();
            // Its DNS name follows it, as in Docker.
            for ep in &mut r.endpoints {
                ep.dns_names.iter_mut().filter(|n| **n == old).for_each(|n| *n = new_name.to_string());
            }
        })?;
        for ep in &c.endpoints {
            self.inner.network.rename(ep, &c.id);
        }
        self.emit(&c, "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }

    /// The container's processes, as `ps` shows them: (titles, rows).
    pub async fn top(&self, name: &str, ps_args: &str) -> Result<(Vec<String>, Vec<Vec<String>>), ContainerError> {
        let c = self.get(name)?;
        if !matches!(c.state.status, Status::Running | Status::Paused) {
            return Err(ContainerError::Conflict(format!("Container {} is not running", c.id)));
        }
        let pids = self.pids(&c.id).await?;
        let args: Vec<&str> = if ps_args.is_empty() { vec!["-ef"] } else { ps_args.split_whitespace().collect() };
        let out = tokio::process::Command::new("ps")
            .args(&args)
            .output()
            .await
            .map_err(|e| ContainerError::Internal(format!("failed to run ps: {e}")))?;
        if !out.status.success() {
            return Err(ContainerError::InvalidParameter(format!(
                "ps: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let header = lines.next().unwrap_or("");
        let titles: Vec<String> = header.split_whitespace().map(str::to_owned).collect();
        let pid_col = titles
            .iter()
            .position(|t| t == "PID")
            .ok_or_else(|| ContainerError::InvalidParameter("Couldn't find PID field in ps output".into()))?;
        let rows = lines
            .filter_map(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                let pid: i32 = fields.get(pid_col)?.parse().ok()?;
                if !pids.contains(&pid) {
                    return None;
                }
                // The last column (the command) may contain spaces.
                let mut row: Vec<String> = fields[..titles.len() - 1].iter().map(|s| s.to_string()).collect();
                row.push(fields[titles.len() - 1..].join(" "));
                Some(row)
            })
            .collect();
        Ok((titles, rows))
    }

    /// PIDs of every process in the container (from the runtime).
    async fn pids(&self, id: &str) -> Result<Vec<i32>, ContainerError> {
        let out = tokio::process::Command::from(self.runtime_cmd(id))
            .args(["ps", "--format", "json", id])
            .output()
            .await
            .map_err(|e| ContainerError::Runtime(format!("failed to run the OCI runtime: {e}")))?;
        if !out.status.success() {
            return Err(ContainerError::Runtime(String::from_utf8_lossy(&out.stderr).trim().to_string()));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| ContainerError::Runtime(format!("runtime ps: {e}")))
    }

    /// Bytes in the container's writable layer.
    pub fn rw_size(&self, id: &str) -> u64 {
        crate::volumes::dir_size(&self.dirs(id).data.join("rw/upper"))
    }

    /// `docker container prune`: removes stopped containers; returns their
    /// IDs and the bytes their writable layers held.
    pub async fn prune(&self, filters: &crate::filters::Filters) -> Result<(Vec<String>, u64), ContainerError> {
        filters.validate(&["label", "label!", "until"]).map_err(|e| ContainerError::InvalidParameter(e.to_string()))?;
        let mut removed = Vec::new();
        let mut space = 0;
        for c in self.list() {
            if matches!(c.state.status, Status::Running | Status::Paused | Status::Restarting) {
                continue;
            }
            let excluded = filters.values("label!").any(|l| match l.split_once('=') {
                Some((k, v)) => c.spec.labels.get(k).is_some_and(|x| x == v),
                None => c.spec.labels.contains_key(l),
            });
            if excluded || !filters.labels("label", &c.spec.labels) {
                continue;
            }
            space += self.rw_size(&c.id);
            self.remove(&c.id, false, false).await?;
            removed.push(c.id);
        }
        Ok((removed, space))
    }

    /// Applies the restart policy after an exit; true if a restart is due.
    pub(super) fn schedule_restart(&self, id: &str, code: i32) -> bool {
        let Ok(c) = self.get(id) else { return false };
        let h = &c.spec.host;
        let wanted = match h.restart_policy.as_str() {
            "always" | "unless-stopped" => !c.manually_stopped,
            "on-failure" => {
                code != 0
                    && !c.manually_stopped
                    && (h.restart_max_retries <= 0 || (c.restart_count as i64) < h.restart_max_retries)
            }
            _ => false,
        };
        if !wanted {
            return false;
        }
        let ran = c
            .state
            .started_at
            .as_deref()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).to_std().unwrap_or_default())
            .unwrap_or_default();
        let attempt = if ran >= RESET_AFTER { 0 } else { c.restart_count.min(10) };
        let delay = (Duration::from_millis(100) * 2u32.pow(attempt as u32)).min(MAX_BACKOFF);
        let _ = self.update(id, |r| {
            r.state.status = Status::Restarting;
            r.restart_count += 1;
        });
        let svc = self.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            // Stopped or removed by hand meanwhile: leave it.
            let still_due = svc.get(&id).is_ok_and(|c| c.state.status == Status::Restarting && !c.manually_stopped);
            if still_due {
                let _ = svc.update(&id, |r| r.state.status = Status::Exited);
                if let Err(e) = svc.start(&id).await {
                    tracing::warn!(container = %id, error = %e, "restart by policy failed");
                }
            }
        });
        true
    }
}
