//! Command-line flags, named as dockerd names them so anything that starts
//! dockerd can start berthd.

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "berthd", version, about = "The Berth container engine (Docker Engine API)")]
pub struct Flags {
    /// Daemon socket(s) to listen on: unix:///run/berth/berth.sock, or fd:// for the sockets systemd passes
    #[arg(short = 'H', long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// Root directory of persistent state
    #[arg(long)]
    pub data_root: Option<PathBuf>,
    /// Root directory for execution state (sockets, shims)
    #[arg(long)]
    pub exec_root: Option<PathBuf>,
    /// Path to the daemon's PID file
    #[arg(short = 'p', long)]
    pub pidfile: Option<PathBuf>,
    /// Daemon configuration file (daemon.json)
    #[arg(long, default_value = DEFAULT_CONFIG_FILE)]
    pub config_file: PathBuf,
    /// Log level: debug, info, warn, error, fatal
    #[arg(short = 'l', long)]
    pub log_level: Option<String>,
    /// Enable debug mode
    #[arg(short = 'D', long)]
    pub debug: bool,
    /// Group owning the UNIX sockets
    #[arg(short = 'G', long)]
    pub group: Option<String>,
    /// Set key=value labels on the daemon
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Enable experimental features
    #[arg(long)]
    pub experimental: bool,
    /// Run an init inside containers that do not choose, as with --init
    #[arg(long)]
    pub init: bool,
    /// The static init binary for --init (default: berth-init beside berthd)
    #[arg(long)]
    pub init_path: Option<PathBuf>,
    /// Default log driver of containers: json-file, local or none
    #[arg(long)]
    pub log_driver: Option<String>,
    /// Default log driver option, KEY=VALUE (e.g. max-size=10m)
    #[arg(long = "log-opt", value_name = "KEY=VALUE")]
    pub log_opts: Vec<String>,
    /// Keep containers running while the daemon is down
    #[arg(long)]
    pub live_restore: bool,
    /// Preferred registry mirror
    #[arg(long = "registry-mirror")]
    pub registry_mirrors: Vec<String>,
    /// Registry reachable over plain HTTP or with unverified TLS
    #[arg(long = "insecure-registry")]
    pub insecure_registries: Vec<String>,
    /// Device name of the default bridge network
    #[arg(short = 'b', long)]
    pub bridge: Option<String>,
    /// Address and subnet of the default bridge, e.g. 172.30.0.1/16
    #[arg(long)]
    pub bip: Option<String>,
    /// Give containers on the default bridge IPv6 addresses too
    #[arg(long)]
    pub ipv6: bool,
    /// The default bridge's IPv6 subnet (with --ipv6; else a unique local /64)
    #[arg(long = "fixed-cidr-v6")]
    pub fixed_cidr_v6: Option<String>,
    /// Use TLS (implied by --tlsverify)
    #[arg(long)]
    pub tls: bool,
    /// Use TLS and verify the remote
    #[arg(long)]
    pub tlsverify: bool,
    #[arg(long)]
    pub tlscacert: Option<PathBuf>,
    #[arg(long)]
    pub tlscert: Option<PathBuf>,
    #[arg(long)]
    pub tlskey: Option<PathBuf>,
}

pub const DEFAULT_CONFIG_FILE: &str = "/etc/berth/daemon.json";

impl Flags {
    pub fn wants_tls(&self) -> bool {
        self.tls || self.tlsverify || self.tlscert.is_some() || self.tlskey.is_some()
    }
}
