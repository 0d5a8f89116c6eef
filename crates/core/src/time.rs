//! Timestamps as Docker prints them (RFC 3339 in UTC with nanoseconds), computed from epoch
//! nanoseconds without a calendar library.

/// `2026-11-29T14:33:45.123456789Z`
pub fn rfc3339_nanos(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let (y, m, d, hh, mm, ss) = civil(secs);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{frac:09}Z")
}

/// `2026-11-29T14:33:45Z` (volume `CreatedAt`).
pub fn rfc3339_secs(nanos: i64) -> String {
    let (y, m, d, hh, mm, ss) = civil(nanos.div_euclid(1_000_000_000));
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// A time as Docker's `until`/`since` filters take it (moby's `timetypes.GetTimestamp`), in
/// epoch nanoseconds: a Go duration before `now` (`24h`, `90m`), Unix seconds (`1700000000`,
/// `1700000000.5`), or an RFC 3339 date or date-time in UTC (`2026-11-30`,
/// `2026-11-30T12:00:00Z`).
pub fn docker_timestamp(value: &str, now: i64) -> Result<i64, String> {
    if let Ok(d) = crate::health::parse_duration(value) {
        return Ok(now - d);
    }
    if let Some((secs, frac)) = unix_seconds(value) {
        return Ok(secs * 1_000_000_000 + frac);
    }
    date_time(value).ok_or_else(|| format!("failed to parse value as time or duration: \"{value}\""))
}

fn unix_seconds(value: &str) -> Option<(i64, i64)> {
    let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac: i64 = format!("{frac:0<9}").get(..9)?.parse().ok()?;
    Some((secs.parse().ok()?, frac))
}

/// `YYYY-MM-DD`, optionally `THH:MM:SS` and a `Z`.
fn date_time(value: &str) -> Option<i64> {
    let value = value.strip_suffix('Z').unwrap_or(value);
    let (date, time) = value.split_once('T').unwrap_or((value, "00:00:00"));
    let d: Vec<i64> = date.split('-').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let t: Vec<i64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let ([y, m, day], [hh, mm, ss]) = (d.as_slice(), t.as_slice()) else { return None };
    if !(1..=12).contains(m) || !(1..=31).contains(day) || *hh > 23 || *mm > 59 || *ss > 60 {
        return None;
    }
    Some((days_from_civil(*y, *m, *day) * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000_000)
}

/// Howard Hinnant's civil-to-days algorithm (the inverse of [`civil`]'s first step).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (rem / 3600) as u32, (rem % 3600 / 60) as u32, (rem % 60) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_nanos(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339_secs(1_795_962_825_000_000_000), "2026-11-29T14:33:45Z");
        assert_eq!(rfc3339_nanos(951_782_400_000_000_001), "2000-02-29T00:00:00.000000001Z");
    }

    #[test]
    fn docker_timestamps_as_moby_reads_them() {
        let now = 1_795_962_825_000_000_000;
        assert_eq!(docker_timestamp("24h", now), Ok(now - 86_400_000_000_000));
        assert_eq!(docker_timestamp("1795962825", now), Ok(now));
        assert_eq!(docker_timestamp("1795962825.5", now), Ok(now + 500_000_000));
        assert_eq!(docker_timestamp("2026-11-29T14:33:45Z", now), Ok(now));
        assert_eq!(docker_timestamp("2000-02-29", now), Ok(951_782_400_000_000_000));
        assert!(docker_timestamp("yesterday", now).unwrap_err().contains("\"yesterday\""));
        assert!(docker_timestamp("2026-13-01", now).is_err());
    }
}
