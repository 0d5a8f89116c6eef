//! The UTC calendar computed from epoch seconds (there is no time zone database in a WASI
//! guest, and containers default to UTC anyway), and a `strftime` subset for `date`, `ls -l`
//! and `stat`.

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
    /// 1–366.
    pub yday: u32,
    pub nanos: u32,
    pub epoch: i64,
}

impl DateTime {
    pub fn from_epoch(epoch: i64, nanos: u32) -> DateTime {
        let days = epoch.div_euclid(86_400);
        let secs = epoch.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        let jan1 = days_from_civil(year, 1, 1);
        DateTime {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
            yday: (days - jan1 + 1) as u32,
            nanos,
            epoch,
        }
    }

    /// The current time.
    pub fn now() -> DateTime {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        DateTime::from_epoch(d.as_secs() as i64, d.subsec_nanos())
    }

    /// Formats with `strftime` conversions: `%Y %y %m %d %e %H %M %S %N %j %a %A %b %B %h %s %T
    /// %D %F %R %Z %z %n %t %%`; anything else is copied.
    pub fn format(&self, fmt: &str) -> String {
        let mut out = String::new();
        let mut chars = fmt.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let Some(conv) = chars.next() else {
                out.push('%');
                break;
            };
            let piece = match conv {
                'Y' => self.year.to_string(),
                'y' => format!("{:02}", self.year.rem_euclid(100)),
                'm' => format!("{:02}", self.month),
                'd' => format!("{:02}", self.day),
                'e' => format!("{:2}", self.day),
                'H' => format!("{:02}", self.hour),
                'M' => format!("{:02}", self.minute),
                'S' => format!("{:02}", self.second),
                'N' => format!("{:09}", self.nanos),
                'j' => format!("{:03}", self.yday),
                'a' => WEEKDAYS[self.weekday as usize].to_string(),
                'A' => full_weekday(self.weekday).to_string(),
                'b' | 'h' => MONTHS[self.month as usize - 1].to_string(),
                'B' => full_month(self.month).to_string(),
                'u' => (if self.weekday == 0 { 7 } else { self.weekday }).to_string(),
                'w' => self.weekday.to_string(),
                's' => self.epoch.to_string(),
                'T' => self.format("%H:%M:%S"),
                'D' => self.format("%m/%d/%y"),
                'F' => self.format("%Y-%m-%d"),
                'R' => self.format("%H:%M"),
                'c' => self.format("%a %b %e %H:%M:%S %Y"),
                'Z' => "UTC".to_string(),
                'z' => "+0000".to_string(),
                'n' => "\n".to_string(),
                't' => "\t".to_string(),
                '%' => "%".to_string(),
                other => format!("%{other}"),
            };
            out.push_str(&piece);
        }
        out
    }
}

fn full_weekday(w: u32) -> &'static str {
    ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"][w as usize]
}

fn full_month(m: u32) -> &'static str {
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ][m as usize - 1]
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
