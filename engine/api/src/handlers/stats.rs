//! `GET /containers/{id}/stats`: one sample, or one a second while the
//! container runs, each carrying the previous CPU sample (`precpu_stats`)
//! so clients can compute percentages.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use berth_core::containers::stats::StatsSample;
use berth_core::containers::{ContainerService, Status};
use bytes::Bytes;
use futures_util::stream;
use http::header::CONTENT_TYPE;

use crate::error::ApiError;
use crate::query::{flag, Params};
use crate::state::AppState;
use crate::types::*;

pub async fn stats(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let c = state.containers.get(&id)?;
    let streaming = q.get("stream").is_none_or(|_| flag(&q, "stream"));
    let one_shot = flag(&q, "one-shot");
    let svc = state.containers.clone();
    let name = format!("/{}", c.name);
    let id = c.id.clone();
    let first = svc.stats(&id)?;
    if !streaming {
        let (prev, cur) = if one_shot {
            (None, first)
        } else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            (Some(first), svc.stats(&id)?)
        };
        let body = serde_json::to_vec(&response(&name, &id, prev.as_ref(), &cur)).unwrap_or_default();
        return Ok(([(CONTENT_TYPE, "application/json")], body).into_response());
    }
    let lines = stream::unfold((svc, Some(first), None::<StatsSample>, false), move |(svc, next, prev, done)| {
        let (name, id) = (name.clone(), id.clone());
        async move {
            if done {
                return None;
            }
            let cur = match next {
                Some(s) => s,
                None => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    svc.stats(&id).ok()?
                }
            };
            let mut line = serde_json::to_vec(&response(&name, &id, prev.as_ref(), &cur)).unwrap_or_default();
            line.push(b'\n');
            let stopped = !running(&svc, &id);
            Some((Ok::<_, std::convert::Infallible>(Bytes::from(line)), (svc, None, Some(cur), stopped)))
        }
    });
    Ok(([(CONTENT_TYPE, "application/json")], Body::from_stream(lines)).into_response())
}

fn running(svc: &ContainerService, id: &str) -> bool {
    svc.get(id).is_ok_and(|c| matches!(c.state.status, Status::Running | Status::Paused))
}

fn cpu(s: &StatsSample) -> CpuStats {
    CpuStats {
        cpu_usage: CpuUsage {
            total_usage: s.cpu_total,
            percpu_usage: s.cpu_percpu.clone(),
            usage_in_kernelmode: s.cpu_kernel,
            usage_in_usermode: s.cpu_user,
        },
        system_cpu_usage: Some(s.system_cpu),
        online_cpus: s.online_cpus,
        throttling_data: serde_json::json!({
            "periods": s.throttling.0,
            "throttled_periods": s.throttling.1,
            "throttled_time": s.throttling.2,
        }),
    }
}

fn response(name: &str, id: &str, prev: Option<&StatsSample>, cur: &StatsSample) -> ContainerStatsResponse {
    ContainerStatsResponse {
        name: name.into(),
        id: id.into(),
        read: cur.read.clone(),
        preread: prev.map_or_else(|| "0001-01-01T00:00:00Z".into(), |p| p.read.clone()),
        pids_stats: PidsStats { current: cur.pids_current, limit: (cur.pids_limit > 0).then_some(cur.pids_limit) },
        blkio_stats: BlkioStats {
            io_service_bytes_recursive: blkio(&cur.blkio_bytes),
            io_serviced_recursive: blkio(&cur.blkio_ios),
        },
        num_procs: 0,
        storage_stats: serde_json::json!({}),
        cpu_stats: cpu(cur),
        precpu_stats: prev.map(cpu).unwrap_or_default(),
        memory_stats: MemoryStats {
            usage: cur.memory_usage,
            max_usage: (cur.memory_max_usage > 0).then_some(cur.memory_max_usage),
            stats: cur.memory_stats.clone(),
            limit: cur.memory_limit,
        },
        networks: (!cur.networks.is_empty()).then(|| {
            cur.networks
                .iter()
                .map(|(name, n)| {
                    let stats = NetworkStats {
                        rx_bytes: n.rx_bytes,
                        rx_packets: n.rx_packets,
                        rx_errors: n.rx_errors,
                        rx_dropped: n.rx_dropped,
                        tx_bytes: n.tx_bytes,
                        tx_packets: n.tx_packets,
                        tx_errors: n.tx_errors,
                        tx_dropped: n.tx_dropped,
                    };
                    (name.clone(), stats)
                })
                .collect()
        }),
    }
}

/// dockerd sends null, not an empty list, when there is nothing.
fn blkio(entries: &[berth_core::containers::stats::BlkioEntry]) -> Option<Vec<BlkioStatEntry>> {
    let out: Vec<_> = entries
        .iter()
        .map(|e| BlkioStatEntry { major: e.major, minor: e.minor, op: e.op.clone(), value: e.value })
        .collect();
    (!out.is_empty()).then_some(out)
}
