//! Docker's JSON shapes and their conversions from and to engine types. Field names are
//! Docker's (PascalCase mostly), so the docker CLI's Go structs and `--format` templates see
//! what they expect.

pub mod archive;
pub mod containers;
pub mod create;
pub mod events;
pub mod exec;
pub mod images;
pub mod networks;
pub mod registry;
pub mod system;
pub mod volumes;

use porthole_core::time::rfc3339_nanos;

/// Docker's zero time, shown for "never" (`StartedAt` of a created container).
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// An RFC 3339 time, or Docker's zero time for 0.
pub fn time(nanos: i64) -> String {
    if nanos == 0 { ZERO_TIME.to_string() } else { rfc3339_nanos(nanos) }
}

/// Go's `units.HumanDuration`, as `docker ps` shows ages ("Up 5 seconds", "3 minutes ago").
pub fn human_duration(nanos: i64) -> String {
    let secs = (nanos / 1_000_000_000).max(0);
    let (mins, hours) = (secs / 60, secs / 3600);
    match secs {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        _ if mins == 1 => "About a minute".into(),
        _ if mins < 60 => format!("{mins} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        let s = 1_000_000_000;
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(5 * s), "5 seconds");
        assert_eq!(human_duration(61 * s), "About a minute");
        assert_eq!(human_duration(3 * 3600 * s), "3 hours");
        assert_eq!(time(0), "0001-01-01T00:00:00Z");
    }
}
