//! The end-to-end harness every suite uses: a real `berthd` on a temp socket
//! and data root, a real registry on a free loopback port with fixture
//! images built here from busybox-static, the real docker CLI, and bollard.
//! Everything started is stopped when its guard drops, also on panic.

pub mod berthd;
pub mod fixtures;
pub mod gui;
pub mod outside;
pub mod process;
pub mod raw_http;
pub mod registry;
pub mod secret_service;
pub mod token_issuer;

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

/// A registry with the fixtures, and an engine that has pulled the
/// single-layer busybox image, whose name comes third.
pub async fn engine_with_busybox() -> (Registry, Berthd, String) {
    let reg = Registry::start().await;
    let fx = fixtures::push_all(&reg).await;
    let d = Berthd::start();
    d.docker_ok(&["pull", "-q", &fx.single]);
    (reg, d, fx.single)
}

/// A port free on every host address, for `-p PORT:...` (which binds them all).
pub fn free_host_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0").unwrap().local_addr().unwrap().port()
}

/// Command output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
