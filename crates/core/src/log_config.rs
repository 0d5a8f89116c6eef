//! `--log-driver` / `--log-opt`: the json-file driver's options, checked with Docker's texts,
//! and the rotation they ask for.
//!
//! Docker's json-file driver keeps everything unless told otherwise; Porthole stands for a
//! daemon configured with `"log-opts": {"max-size": "10m", "max-file": "5"}`, and merges those
//! defaults into a container's options key by key at create, as dockerd merges its own
//! `log-opts` (so inspect shows them).

use std::collections::BTreeMap;

use crate::size::ByteSize;

/// The only driver there is.
pub const JSON_FILE: &str = "json-file";
/// Defaults merged into every container's options (`max-size`, `max-file`).
pub const DEFAULTS: [(&str, &str); 2] = [("max-size", "10m"), ("max-file", "5")];

/// Drivers Docker ships that Porthole does not implement: refused by name, where an unknown
/// name gets Docker's own refusal.
const OTHER_DOCKER_DRIVERS: [&str; 11] =
    ["none", "local", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "etwlogs", "gcplogs", "logentries"];

/// `HostConfig.LogConfig` of a container, checked, with the defaults merged in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogConfig {
    /// The options as inspect shows them (`HostConfig.LogConfig.Config`).
    pub options: BTreeMap<String, String>,
    /// The current file is rotated once it holds this many bytes.
    pub max_size: u64,
    /// Files kept, the current one included.
    pub max_file: u32,
}

/// Why `--log-driver` / `--log-opt` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogConfigError {
    /// Docker's text for a driver it does not know.
    #[error("logger: no log driver named '{0}' is registered")]
    UnknownDriver(String),
    /// A driver Docker has and Porthole does not.
    #[error("--log-driver {0} is not supported by Porthole")]
    UnsupportedDriver(String),
    /// Docker's json-file text for a key it does not know.
    #[error("unknown log opt '{0}' for json-file log driver")]
    UnknownOption(String),
    /// A json-file key Docker knows and Porthole does not implement.
    #[error("--log-opt {0} is not supported by Porthole")]
    UnsupportedOption(String),
    #[error(transparent)]
    InvalidSize(#[from] crate::size::SizeError),
    #[error("max-size must be a positive number")]
    ZeroSize,
    /// Go's `strconv.Atoi` text, which Docker passes on.
    #[error("strconv.Atoi: parsing {0:?}: invalid syntax")]
    InvalidCount(String),
    #[error("max-file cannot be less than 1")]
    ZeroFiles,
}

impl LogConfig {
    /// `HostConfig.LogConfig` as the CLI sends it (`Type` empty when `--log-driver` is not
    /// given).
    pub fn parse(driver: &str, options: &BTreeMap<String, String>) -> Result<LogConfig, LogConfigError> {
        match driver {
            "" | JSON_FILE => {}
            d if OTHER_DOCKER_DRIVERS.contains(&d) => return Err(LogConfigError::UnsupportedDriver(d.to_string())),
            d => return Err(LogConfigError::UnknownDriver(d.to_string())),
        }
        for (key, value) in options {
            match key.as_str() {
                "max-size" | "max-file" => {}
                "compress" if matches!(value.as_str(), "false" | "0") => {}
                "mode" if matches!(value.as_str(), "" | "blocking") => {}
                "compress" | "labels" | "labels-regex" | "env" | "env-regex" | "tag" | "mode" | "max-buffer-size" => {
                    return Err(LogConfigError::UnsupportedOption(key.clone()));
                }
                _ => return Err(LogConfigError::UnknownOption(key.clone())),
            }
        }
        let mut options = options.clone();
        for (key, value) in DEFAULTS {
            options.entry(key.to_string()).or_insert_with(|| value.to_string());
        }
        let max_size = ByteSize::parse_decimal(&options["max-size"])?.0;
        if max_size == 0 {
            return Err(LogConfigError::ZeroSize);
        }
        let count = &options["max-file"];
        let max_file: i64 = count.parse().map_err(|_| LogConfigError::InvalidCount(count.clone()))?;
        if max_file < 1 {
            return Err(LogConfigError::ZeroFiles);
        }
        Ok(LogConfig { max_size, max_file: u32::try_from(max_file).unwrap_or(u32::MAX), options })
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig::parse("", &BTreeMap::new()).expect("the defaults parse")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A driver and `key=value` options → the rotation, or the refusal's text.
    fn check(driver: &str, opts: &[&str]) -> String {
        let opts = opts.iter().map(|o| o.split_once('=').unwrap()).map(|(k, v)| (k.into(), v.into())).collect();
        match LogConfig::parse(driver, &opts) {
            Ok(c) => format!("max-size {} max-file {} options {:?}", c.max_size, c.max_file, c.options),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn options_with_dockers_texts() {
        let cases = [
            ("", &[][..], r#"max-size 10000000 max-file 5 options {"max-file": "5", "max-size": "10m"}"#),
            (
                "json-file",
                &["max-size=100k"],
                r#"max-size 100000 max-file 5 options {"max-file": "5", "max-size": "100k"}"#,
            ),
            (
                "",
                &["max-size=1m", "max-file=2"],
                r#"max-size 1000000 max-file 2 options {"max-file": "2", "max-size": "1m"}"#,
            ),
            (
                "",
                &["compress=false"],
                r#"max-size 10000000 max-file 5 options {"compress": "false", "max-file": "5", "max-size": "10m"}"#,
            ),
            ("foo", &[], "logger: no log driver named 'foo' is registered"),
            ("syslog", &[], "--log-driver syslog is not supported by Porthole"),
            ("", &["foo=1"], "unknown log opt 'foo' for json-file log driver"),
            ("", &["tag=x"], "--log-opt tag is not supported by Porthole"),
            ("", &["compress=true"], "--log-opt compress is not supported by Porthole"),
            ("", &["max-size=lots"], "invalid size: 'lots'"),
            ("", &["max-size=0"], "max-size must be a positive number"),
            ("", &["max-file=x"], r#"strconv.Atoi: parsing "x": invalid syntax"#),
            ("", &["max-file=0"], "max-file cannot be less than 1"),
        ];
        for (driver, opts, expect) in cases {
            assert_eq!(check(driver, opts), expect, "{driver} {opts:?}");
        }
    }
}
