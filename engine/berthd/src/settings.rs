//! Flags and daemon.json merged into the settings berthd runs with.

use std::os::fd::RawFd;
use std::path::PathBuf;

use berth_core::config::{AddressPool, BuildInfo, EngineConfig, RuntimeConfig};
use berth_core::containers::logging::LogConfig;

use crate::cli::{Flags, DEFAULT_CONFIG_FILE};
use crate::daemon_json::{self, DaemonJson};

pub const DEFAULT_SOCKET: &str = "/run/berth/berth.sock";

/// Where the API listens (`-H`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A socket file berthd creates, and removes when it stops.
    Unix(PathBuf),
    /// `fd://`: every socket systemd passed; `fd://N`: that one.
    Activated(Option<RawFd>),
}

#[derive(Debug)]
pub struct Settings {
    pub engine: EngineConfig,
    pub hosts: Vec<Host>,
    pub pidfile: PathBuf,
    pub group: Option<String>,
    pub log_level: String,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    File(#[from] daemon_json::ConfigFileError),
    #[error("the following directives are specified both as a flag and in the configuration file: {0}")]
    Conflict(String),
    #[error("invalid host {0:?}: expected unix:///path/to/socket or fd://")]
    BadHost(String),
    #[error(
        "refusing to listen on {0}: a TCP socket without TLS gives root on this machine to anyone \
         who can reach it; pass --tlsverify with --tlscacert/--tlscert/--tlskey, or use unix://"
    )]
    TcpWithoutTls(String),
    #[error("listening on {0} with TLS is not supported by berthd yet; use a unix:// socket")]
    TlsUnsupported(String),
    #[error("invalid log level {0:?}: expected debug, info, warn, error or fatal")]
    LogLevel(String),
    #[error("storage driver {0:?} is not supported; berthd uses overlay2")]
    StorageDriver(String),
    #[error("invalid exec-opt {0:?}: expected native.cgroupdriver=cgroupfs|systemd")]
    ExecOpt(String),
    #[error("default runtime {0:?} is not among the configured runtimes")]
    UnknownRuntime(String),
    #[error("invalid default log configuration: {0}")]
    LogConfig(String),
}

/// Resolves the settings from flags and the config file they point at.
pub fn resolve(flags: &Flags) -> Result<Settings, SettingsError> {
    let named = flags.config_file.as_os_str() != DEFAULT_CONFIG_FILE;
    let loaded = daemon_json::load(&flags.config_file, named)?;
    check_conflicts(flags, &loaded.keys)?;
    let mut settings = merge(flags, loaded.config)?;
    settings.warnings.extend(loaded.warnings);
    Ok(settings)
}

fn check_conflicts(flags: &Flags, file_keys: &[String]) -> Result<(), SettingsError> {
    let set_by_flag = [
        ("hosts", !flags.hosts.is_empty()),
        ("data-root", flags.data_root.is_some()),
        ("exec-root", flags.exec_root.is_some()),
        ("pidfile", flags.pidfile.is_some()),
        ("debug", flags.debug),
        ("log-level", flags.log_level.is_some()),
        ("group", flags.group.is_some()),
        ("labels", !flags.labels.is_empty()),
        ("experimental", flags.experimental),
        ("live-restore", flags.live_restore),
        ("log-driver", flags.log_driver.is_some()),
        ("init", flags.init),
        ("init-path", flags.init_path.is_some()),
        ("log-opts", !flags.log_opts.is_empty()),
        ("registry-mirrors", !flags.registry_mirrors.is_empty()),
        ("insecure-registries", !flags.insecure_registries.is_empty()),
        ("bridge", flags.bridge.is_some()),
        ("bip", flags.bip.is_some()),
        ("ipv6", flags.ipv6),
        ("fixed-cidr-v6", flags.fixed_cidr_v6.is_some()),
    ];
    let both: Vec<&str> =
        set_by_flag.iter().filter(|(k, set)| *set && file_keys.iter().any(|f| f == k)).map(|(k, _)| *k).collect();
    if both.is_empty() {
        Ok(())
    } else {
        Err(SettingsError::Conflict(both.join(", ")))
    }
}

fn merge(flags: &Flags, file: DaemonJson) -> Result<Settings, SettingsError> {
    let defaults = EngineConfig::default();
    let data_root = flags.data_root.clone().or(file.data_root).unwrap_or(defaults.data_root);
    let exec_root = flags.exec_root.clone().or(file.exec_root).unwrap_or(defaults.exec_root);
    let pidfile = flags.pidfile.clone().or(file.pidfile).unwrap_or_else(|| exec_root.join("berthd.pid"));

    let hosts = if flags.hosts.is_empty() { file.hosts.unwrap_or_default() } else { flags.hosts.clone() };
    let tls = flags.wants_tls() || file.tls == Some(true) || file.tlsverify == Some(true) || file.tlscert.is_some();
    let hosts = if hosts.is_empty() {
        vec![Host::Unix(DEFAULT_SOCKET.into())]
    } else {
        hosts.iter().map(|h| parse_host(h, tls)).collect::<Result<_, _>>()?
    };

    let debug = flags.debug || file.debug == Some(true);
    let log_level = match flags.log_level.clone().or(file.log_level) {
        Some(l) if ["debug", "info", "warn", "error", "fatal"].contains(&l.as_str()) => l,
        Some(l) => return Err(SettingsError::LogLevel(l)),
        None if debug => "debug".into(),
        None => "info".into(),
    };

    if let Some(driver) = file.storage_driver.filter(|d| d != "overlay2") {
        return Err(SettingsError::StorageDriver(driver));
    }
    let mut cgroup_driver = defaults.cgroup_driver;
    for opt in file.exec_opts.unwrap_or_default() {
        match opt.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            Some(("native.cgroupdriver", v @ ("cgroupfs" | "systemd"))) => cgroup_driver = v.into(),
            _ => return Err(SettingsError::ExecOpt(opt)),
        }
    }
    let mut runtimes = defaults.runtimes;
    for (name, rt) in file.runtimes.unwrap_or_default() {
        runtimes.insert(name, RuntimeConfig { path: rt.path, args: rt.runtime_args });
    }
    let default_runtime = file.default_runtime.unwrap_or(defaults.default_runtime);
    if !runtimes.contains_key(&default_runtime) {
        return Err(SettingsError::UnknownRuntime(default_runtime));
    }
    let mut log_opts = file.log_opts.unwrap_or_default();
    for opt in &flags.log_opts {
        let (k, v) =
            opt.split_once('=').ok_or_else(|| SettingsError::LogConfig(format!("{opt:?} is not KEY=VALUE")))?;
        log_opts.insert(k.into(), v.into());
    }
    let log = LogConfig {
        driver: flags.log_driver.clone().or(file.log_driver).unwrap_or(defaults.log_driver),
        options: log_opts,
    };
    log.retention().map_err(SettingsError::LogConfig)?;
    let proxies = file.proxies.unwrap_or_default();
    let env_or = |v: String, name: &str| {
        if v.is_empty() {
            std::env::var(name).or_else(|_| std::env::var(name.to_lowercase())).unwrap_or_default()
        } else {
            v
        }
    };

    let engine = EngineConfig {
        data_root,
        exec_root,
        debug,
        experimental: flags.experimental || file.experimental == Some(true),
        live_restore: flags.live_restore || file.live_restore == Some(true),
        labels: if flags.labels.is_empty() { file.labels.unwrap_or_default() } else { flags.labels.clone() },
        log_driver: log.driver,
        log_opts: log.options,
        init: flags.init || file.init == Some(true),
        init_path: flags.init_path.clone().or(file.init_path).unwrap_or_else(|| crate::beside_berthd("berth-init")),
        default_runtime,
        runtimes,
        cgroup_driver,
        registry_mirrors: pick(&flags.registry_mirrors, file.registry_mirrors),
        insecure_registries: pick(&flags.insecure_registries, file.insecure_registries),
        default_address_pools: file
            .default_address_pools
            .unwrap_or_default()
            .into_iter()
            .map(|p| AddressPool { base: p.base, size: p.size })
            .collect(),
        bridge: flags.bridge.clone().or(file.bridge).unwrap_or(defaults.bridge),
        bip: flags.bip.clone().or(file.bip),
        ipv6: flags.ipv6 || file.ipv6 == Some(true),
        fixed_cidr_v6: flags.fixed_cidr_v6.clone().or(file.fixed_cidr_v6),
        http_proxy: env_or(proxies.http_proxy, "HTTP_PROXY"),
        https_proxy: env_or(proxies.https_proxy, "HTTPS_PROXY"),
        no_proxy: env_or(proxies.no_proxy, "NO_PROXY"),
        build: BuildInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            git_commit: env!("BERTH_GIT_COMMIT").into(),
            rustc: env!("BERTH_RUSTC_VERSION").into(),
            build_time: env!("BERTH_BUILD_TIME").into(),
        },
    };
    Ok(Settings { engine, hosts, pidfile, group: flags.group.clone().or(file.group), log_level, warnings: Vec::new() })
}

fn pick(flag: &[String], file: Option<Vec<String>>) -> Vec<String> {
    if flag.is_empty() {
        file.unwrap_or_default()
    } else {
        flag.to_vec()
    }
}

fn parse_host(host: &str, tls: bool) -> Result<Host, SettingsError> {
    if let Some(path) = host.strip_prefix("unix://") {
        return Ok(Host::Unix(PathBuf::from(if path.is_empty() { DEFAULT_SOCKET } else { path })));
    }
    if let Some(fd) = host.strip_prefix("fd://") {
        if fd.is_empty() {
            return Ok(Host::Activated(None));
        }
        return fd.parse().map(|n| Host::Activated(Some(n))).map_err(|_| SettingsError::BadHost(host.into()));
    }
    if host.starts_with("tcp://") {
        return Err(if tls {
            SettingsError::TlsUnsupported(host.into())
        } else {
            SettingsError::TcpWithoutTls(host.into())
        });
    }
    Err(SettingsError::BadHost(host.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn flags(args: &[&str]) -> Flags {
        Flags::parse_from(std::iter::once("berthd").chain(args.iter().copied()))
    }

    #[test]
    fn defaults() {
        let s = merge(&flags(&[]), DaemonJson::default()).unwrap();
        assert_eq!(s.hosts, [Host::Unix(DEFAULT_SOCKET.into())]);
        assert_eq!(s.engine.data_root, PathBuf::from("/var/lib/berth"));
        assert_eq!(s.pidfile, PathBuf::from("/run/berth/berthd.pid"));
        assert_eq!(s.log_level, "info");
    }

    #[test]
    fn hosts_and_tcp_refusal() {
        let s = merge(&flags(&["-H", "unix:///tmp/a.sock", "--host", "unix:///tmp/b.sock"]), DaemonJson::default())
            .unwrap();
        assert_eq!(s.hosts, [Host::Unix("/tmp/a.sock".into()), Host::Unix("/tmp/b.sock".into())]);
        let err = merge(&flags(&["-H", "tcp://0.0.0.0:2375"]), DaemonJson::default()).unwrap_err();
        assert!(matches!(err, SettingsError::TcpWithoutTls(_)));
        let err = merge(&flags(&["-H", "tcp://0.0.0.0:2376", "--tlsverify"]), DaemonJson::default()).unwrap_err();
        assert!(matches!(err, SettingsError::TlsUnsupported(_)));
        assert!(matches!(merge(&flags(&["-H", "/x"]), DaemonJson::default()), Err(SettingsError::BadHost(_))));
    }

    #[test]
    fn socket_activation_hosts() {
        let s = merge(&flags(&["-H", "fd://", "-H", "fd://4"]), DaemonJson::default()).unwrap();
        assert_eq!(s.hosts, [Host::Activated(None), Host::Activated(Some(4))]);
        assert!(matches!(merge(&flags(&["-H", "fd://x"]), DaemonJson::default()), Err(SettingsError::BadHost(_))));
    }

    #[test]
    fn flag_and_file_conflict() {
        let err = check_conflicts(&flags(&["--debug"]), &["debug".into()]).unwrap_err();
        assert!(err.to_string().ends_with("file: debug"));
        assert!(check_conflicts(&flags(&["--debug"]), &["labels".into()]).is_ok());
    }

    #[test]
    fn file_values_apply() {
        let file: DaemonJson = serde_json::from_str(
            r#"{"exec-opts":["native.cgroupdriver=systemd"],"runtimes":{"crun":{"path":"/usr/bin/crun"}},
                "default-runtime":"crun","registry-mirrors":["http://127.0.0.1:5000"]}"#,
        )
        .unwrap();
        let s = merge(&flags(&["--data-root", "/tmp/d"]), file).unwrap();
        assert_eq!(s.engine.cgroup_driver, "systemd");
        assert_eq!(s.engine.default_runtime, "crun");
        assert_eq!(s.engine.registry_mirrors, ["http://127.0.0.1:5000"]);
        assert_eq!(s.engine.data_root, PathBuf::from("/tmp/d"));
        let bad: DaemonJson = serde_json::from_str(r#"{"default-runtime":"nope"}"#).unwrap();
        assert!(matches!(merge(&flags(&[]), bad), Err(SettingsError::UnknownRuntime(_))));
    }

    #[test]
    fn default_logging_from_flags_or_file() {
        let s = merge(&flags(&["--log-driver", "local", "--log-opt", "max-size=1m"]), DaemonJson::default()).unwrap();
        assert_eq!((s.engine.log_driver.as_str(), s.engine.log_opts["max-size"].as_str()), ("local", "1m"));
        let file: DaemonJson = serde_json::from_str(r#"{"log-opts":{"max-file":"3","max-size":"10m"}}"#).unwrap();
        let s = merge(&flags(&[]), file).unwrap();
        assert_eq!((s.engine.log_driver.as_str(), s.engine.log_opts.len()), ("json-file", 2));
        let bad: DaemonJson = serde_json::from_str(r#"{"log-opts":{"max-size":"huge"}}"#).unwrap();
        let err = merge(&flags(&[]), bad).unwrap_err().to_string();
        assert_eq!(err, "invalid default log configuration: invalid size: 'huge'");
        assert!(merge(&flags(&["--log-driver", "foo"]), DaemonJson::default()).is_err());
    }
}
