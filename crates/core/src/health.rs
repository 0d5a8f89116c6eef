//! Health checks (`HEALTHCHECK`, `docker run --health-*`): the configuration as Docker stores
//! it, Go's duration syntax for its options, and the state machine moby's `daemon/health.go`
//! applies to each probe's result. Pure: the engine runs the probes.

use std::collections::VecDeque;

/// `Config.Healthcheck`: durations in nanoseconds, 0 meaning Docker's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Healthcheck {
    /// `[]` inherit, `["NONE"]` off, `["CMD", argv…]`, `["CMD-SHELL", text]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub retries: i32,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_zero_i32(n: &i32) -> bool {
    *n == 0
}

const SECOND: i64 = 1_000_000_000;
/// moby's defaults.
pub const DEFAULT_INTERVAL: i64 = 30 * SECOND;
pub const DEFAULT_TIMEOUT: i64 = 30 * SECOND;
pub const DEFAULT_START_INTERVAL: i64 = 5 * SECOND;
pub const DEFAULT_RETRIES: i32 = 3;
/// Output kept per probe, and probes kept, as moby keeps them.
pub const MAX_OUTPUT: usize = 4096;
pub const MAX_LOG: usize = 5;

impl Healthcheck {
    /// The argv a probe runs, or `None` when there is no check (`NONE`, or nothing set).
    pub fn probe_argv(&self) -> Option<Vec<String>> {
        match self.test.split_first()? {
            (kind, argv) if kind == "CMD" && !argv.is_empty() => Some(argv.to_vec()),
            (kind, [text]) if kind == "CMD-SHELL" => Some(vec!["/bin/sh".into(), "-c".into(), text.clone()]),
            _ => None,
        }
    }

    pub fn interval(&self) -> i64 {
        if self.interval > 0 { self.interval } else { DEFAULT_INTERVAL }
    }

    pub fn timeout(&self) -> i64 {
        if self.timeout > 0 { self.timeout } else { DEFAULT_TIMEOUT }
    }

    pub fn start_interval(&self) -> i64 {
        if self.start_interval > 0 { self.start_interval } else { DEFAULT_START_INTERVAL }
    }

    pub fn retries(&self) -> i32 {
        if self.retries > 0 { self.retries } else { DEFAULT_RETRIES }
    }

    /// The options of `--health-*` or the Dockerfile laid over `base` (the image's), as Docker
    /// merges them: fields left at zero are inherited.
    pub fn over(&self, base: &Healthcheck) -> Healthcheck {
        let pick = |own: i64, inherited: i64| if own != 0 { own } else { inherited };
        Healthcheck {
            test: if self.test.is_empty() { base.test.clone() } else { self.test.clone() },
            interval: pick(self.interval, base.interval),
            timeout: pick(self.timeout, base.timeout),
            start_period: pick(self.start_period, base.start_period),
            start_interval: pick(self.start_interval, base.start_interval),
            retries: if self.retries != 0 { self.retries } else { base.retries },
        }
    }
}

/// Go's `time.ParseDuration`: `1h2m3.5s`, `500ms`, `90s`; no sign, at least one unit.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let bad = || format!("time: invalid duration {text:?}");
    if text == "0" {
        return Ok(0);
    }
    let mut rest = text;
    let mut total: f64 = 0.0;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Ok(total as i64)
}

/// `State.Health.Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }

    /// What `docker ps` appends to "Up 5 seconds".
    pub fn ps_suffix(self) -> &'static str {
        match self {
            HealthStatus::Starting => " (health: starting)",
            HealthStatus::Healthy => " (healthy)",
            HealthStatus::Unhealthy => " (unhealthy)",
        }
    }
}

/// One probe, as `State.Health.Log` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Epoch nanoseconds.
    pub start: i64,
    pub end: i64,
    /// The probe's exit code; -1 when it timed out.
    pub exit_code: i32,
    pub output: String,
}

/// A running container's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub status: HealthStatus,
    pub failing_streak: u32,
    pub log: VecDeque<Probe>,
}

impl Default for Health {
    fn default() -> Self {
        Health { status: HealthStatus::Starting, failing_streak: 0, log: VecDeque::new() }
    }
}

impl Health {
    /// Takes a probe's result as moby does: exit 0 is healthy at once; a failure counts toward
    /// `retries` unless it came within the start period while no probe ever passed. Returns
    /// whether the status changed (Docker then emits a `health_status` event).
    pub fn record(&mut self, mut probe: Probe, in_start_period: bool, retries: i32) -> bool {
        let before = self.status;
        if probe.exit_code == 0 {
            self.failing_streak = 0;
            self.status = HealthStatus::Healthy;
        } else if !(self.status == HealthStatus::Starting && in_start_period) {
            self.failing_streak += 1;
            if self.failing_streak >= retries.max(1) as u32 {
                self.status = HealthStatus::Unhealthy;
            }
        }
        if probe.output.len() > MAX_OUTPUT {
            let mut cut = MAX_OUTPUT;
            while !probe.output.is_char_boundary(cut) {
                cut -= 1;
            }
            probe.output.truncate(cut);
        }
        self.log.push_back(probe);
        while self.log.len() > MAX_LOG {
            self.log.pop_front();
        }
        self.status != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(code: i32) -> Probe {
        Probe { start: 1, end: 2, exit_code: code, output: String::new() }
    }

    #[test]
    fn durations_as_go_parses_them() {
        assert_eq!(parse_duration("30s"), Ok(30 * SECOND));
        assert_eq!(parse_duration("1m30s"), Ok(90 * SECOND));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("500ms"), Ok(500_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        for bad in ["", "5", "s", "5x", "-1s", "1s5"] {
            assert_eq!(parse_duration(bad), Err(format!("time: invalid duration {bad:?}")), "{bad}");
        }
    }

    #[test]
    fn the_probe_command_and_defaults() {
        let shell = Healthcheck { test: vec!["CMD-SHELL".into(), "test -f /ok".into()], ..Default::default() };
        assert_eq!(shell.probe_argv().unwrap(), ["/bin/sh", "-c", "test -f /ok"]);
        let exec = Healthcheck { test: vec!["CMD".into(), "true".into()], interval: SECOND, ..Default::default() };
        assert_eq!(exec.probe_argv().unwrap(), ["true"]);
        assert_eq!((exec.interval(), exec.timeout(), exec.retries()), (SECOND, DEFAULT_TIMEOUT, DEFAULT_RETRIES));
        assert_eq!(Healthcheck { test: vec!["NONE".into()], ..Default::default() }.probe_argv(), None);
        assert_eq!(Healthcheck::default().probe_argv(), None);
        // --health-interval over an image's check keeps its command.
        let over = Healthcheck { interval: 2 * SECOND, ..Default::default() }.over(&shell);
        assert_eq!((over.test.clone(), over.interval), (shell.test.clone(), 2 * SECOND));
    }

    #[test]
    fn failures_count_after_the_start_period_and_success_resets() {
        let mut h = Health::default();
        assert!(!h.record(probe(1), true, 2), "a failure in the start period does not count");
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Starting, 0));
        assert!(!h.record(probe(1), false, 2));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Starting, 1));
        assert!(h.record(probe(1), false, 2));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Unhealthy, 2));
        assert!(h.record(probe(0), false, 2));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Healthy, 0));
        // Once healthy, a failure in the start period counts.
        h.record(probe(1), true, 2);
        assert_eq!(h.failing_streak, 1);
        for _ in 0..10 {
            h.record(probe(0), false, 2);
        }
        assert_eq!(h.log.len(), MAX_LOG);
        let long = Probe { output: "é".repeat(MAX_OUTPUT), ..probe(0) };
        h.record(long, false, 2);
        assert!(h.log.back().unwrap().output.len() <= MAX_OUTPUT);
    }
}
