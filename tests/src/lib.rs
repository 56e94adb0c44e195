//! The end-to-end harness every suite uses: a real `berthd` on a temp socket
//! and data root, a real registry on a free loopback port with fixture
//! images built here from busybox-static, the real docker CLI, and bollard.
//! Everything started is stopped when its guard drops, also on panic.

pub mod berthd;
pub mod fixtures;
pub mod process;
pub mod raw_http;
pub mod registry;

pub use berthd::Berthd;
pub use registry::Registry;

/// The docker CLI the suites drive; `BERTH_TEST_DOCKER` overrides it.
pub fn docker_cli() -> String {
    std::env::var("BERTH_TEST_DOCKER").unwrap_or_else(|_| "/usr/local/bin/docker".into())
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
