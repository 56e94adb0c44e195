//! Log drivers (`--log-driver`, `--log-opt`, daemon.json `log-driver` and
//! `log-opts`): `json-file`, Docker's default, and `local` keep a container's
//! output in its log file, rotated by size; `none` keeps nothing. Berth
//! writes both kept kinds as json-file lines, which `docker logs` reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A container's logging: the driver and its options, as inspect shows
/// them (`HostConfig.LogConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    pub driver: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { driver: "json-file".into(), options: BTreeMap::new() }
    }
}

/// How much of a kept log survives: the live file up to `max_size` bytes
/// (then it rotates), and `max_files` files in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// `None`: the file grows without bound.
    pub max_size: Option<u64>,
    pub max_files: u32,
}

/// Options each driver takes; Docker's metadata options (`tag`, `labels`,
/// `env`...) only shape what other drivers send elsewhere, so they are
/// accepted and have nothing to do here.
const KEPT_OPTIONS: &[&str] =
    &["max-size", "max-file", "compress", "labels", "labels-regex", "env", "env-regex", "tag"];

impl LogConfig {
    /// The container's request over the engine's default, as dockerd
    /// merges them: no driver means the default one, and the default's
    /// options fill in what the same driver was not given.
    pub fn resolve(driver: &str, options: BTreeMap<String, String>, default: &LogConfig) -> Result<Self, String> {
        let mut cfg =
            LogConfig { driver: if driver.is_empty() { default.driver.clone() } else { driver.to_string() }, options };
        if cfg.driver == default.driver {
            for (k, v) in &default.options {
                cfg.options.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        cfg.retention()?;
        Ok(cfg)
    }

    /// What to keep, or `None` for the `none` driver; an error names the
    /// unknown driver or the bad option.
    pub fn retention(&self) -> Result<Option<Retention>, String> {
        // `local` keeps 100 MB by default; json-file everything.
        let (mut max_size, mut max_files) = match self.driver.as_str() {
            "none" if self.options.is_empty() => return Ok(None),
            "none" => return Err(format!("unknown log opt '{}' for none log driver", self.first_option())),
            "json-file" => (None, 1),
            "local" => (Some(20 << 20), 5),
            "syslog" | "journald" | "gelf" | "fluentd" | "awslogs" | "splunk" | "etwlogs" | "gcplogs"
            | "logentries" => {
                return Err(format!(
                    "log driver {} is not supported by Berth: use json-file, local or none",
                    self.driver
                ))
            }
            other => return Err(format!("error looking up logging plugin {other}: plugin \"{other}\" not found")),
        };
        for (key, value) in &self.options {
            if !KEPT_OPTIONS.contains(&key.as_str()) {
                return Err(format!("unknown log opt '{key}' for {} log driver", self.driver));
            }
            match key.as_str() {
                "max-size" => max_size = parse_size(value)?,
                "max-file" => {
                    let n: i64 = value.parse().map_err(|_| format!("invalid max-file {value:?}: not a number"))?;
                    if n < 1 {
                        return Err("max-file cannot be less than 1".into());
                    }
                    max_files = u32::try_from(n).map_err(|_| format!("max-file {n} is too large"))?;
                }
                "compress" => match value.as_str() {
                    "false" | "0" => {}
                    "true" | "1" => {
                        return Err("compressed log files are not supported by Berth: use compress=false".into())
                    }
                    other => return Err(format!("invalid compress value {other:?}: expected true or false")),
                },
                _ => {}
            }
        }
        Ok(Some(Retention { max_size, max_files }))
    }

    fn first_option(&self) -> &str {
        self.options.keys().next().map(String::as_str).unwrap_or_default()
    }
}

/// `10m`, `1.5k`, `2g`, `123` bytes; `-1` is unlimited.
fn parse_size(text: &str) -> Result<Option<u64>, String> {
    let invalid = || format!("invalid size: '{text}'");
    let t = text.trim().to_ascii_lowercase();
    if t == "-1" {
        return Ok(None);
    }
    let t = t.strip_suffix('b').unwrap_or(&t);
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().map_err(|_| invalid())?;
    let scale: u64 = match unit.trim() {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return Err(invalid()),
    };
    let bytes = (number * scale as f64) as u64;
    if bytes == 0 {
        return Err(invalid());
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(driver: &str, opts: &[(&str, &str)]) -> LogConfig {
        LogConfig { driver: driver.into(), options: opts.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    #[test]
    fn drivers_and_options() {
        assert_eq!(cfg("json-file", &[]).retention().unwrap(), Some(Retention { max_size: None, max_files: 1 }));
        let r = cfg("json-file", &[("max-size", "10m"), ("max-file", "3")]).retention().unwrap().unwrap();
        assert_eq!(r, Retention { max_size: Some(10 << 20), max_files: 3 });
        assert_eq!(cfg("local", &[]).retention().unwrap().unwrap().max_files, 5);
        assert_eq!(cfg("none", &[]).retention().unwrap(), None);
        assert!(cfg("foo", &[]).retention().unwrap_err().contains("plugin \"foo\" not found"));
        assert_eq!(
            cfg("json-file", &[("x", "y")]).retention().unwrap_err(),
            "unknown log opt 'x' for json-file log driver"
        );
        assert_eq!(cfg("json-file", &[("max-size", "abc")]).retention().unwrap_err(), "invalid size: 'abc'");
        assert_eq!(cfg("json-file", &[("max-file", "0")]).retention().unwrap_err(), "max-file cannot be less than 1");
        assert!(cfg("json-file", &[("tag", "{{.Name}}")]).retention().is_ok());
        let none = cfg("none", &[("max-size", "1k")]).retention().unwrap_err();
        assert_eq!(none, "unknown log opt 'max-size' for none log driver");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1k").unwrap(), Some(1024));
        assert_eq!(parse_size("1.5m").unwrap(), Some(1536 * 1024));
        assert_eq!(parse_size("2GB").unwrap(), Some(2 << 30));
        assert_eq!(parse_size("123").unwrap(), Some(123));
        assert_eq!(parse_size("-1").unwrap(), None);
        assert!(parse_size("0").is_err() && parse_size("10x").is_err() && parse_size("").is_err());
    }

    #[test]
    fn defaults_merge_into_the_same_driver_only() {
        let default = cfg("json-file", &[("max-size", "1m")]);
        let own = LogConfig::resolve("", BTreeMap::new(), &default).unwrap();
        assert_eq!(own, default);
        let mut opts = BTreeMap::new();
        opts.insert("max-size".to_string(), "5k".to_string());
        assert_eq!(LogConfig::resolve("json-file", opts, &default).unwrap().options["max-size"], "5k");
        assert!(LogConfig::resolve("local", BTreeMap::new(), &default).unwrap().options.is_empty());
    }
}
