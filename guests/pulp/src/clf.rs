//! Access log lines in the common log format, `host ident user [time] "request" status bytes`.
//! WASI preview 1 has no way to ask a socket for its peer, so the host field is `-`.

use std::time::SystemTime;

/// `[10/Oct/2000:13:55:36 +0000]` without the brackets, in UTC.
pub fn time(t: SystemTime) -> String {
    // httpdate's IMF-fixdate, `Tue, 10 Oct 2000 13:55:36 GMT`, holds every field in fixed places.
    let imf = httpdate::fmt_http_date(t);
    let (day, month, year, clock) = (&imf[5..7], &imf[8..11], &imf[12..16], &imf[17..25]);
    format!("{day}/{month}/{year}:{clock} +0000")
}

/// One access log line. `request` is the raw request line as received (it may be garbage), shown
/// escaped and cut at 200 bytes; `bytes` is the body length sent, `-` if none.
pub fn line(request: &[u8], status: u16, bytes: u64, t: SystemTime) -> String {
    let shown = &request[..request.len().min(200)];
    let mut req: String = shown.iter().flat_map(|b| std::ascii::escape_default(*b)).map(char::from).collect();
    if request.len() > shown.len() {
        req.push_str("...");
    }
    let bytes = if bytes == 0 { "-".to_string() } else { bytes.to_string() };
    format!("- - - [{}] \"{req}\" {status} {bytes}", time(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn common_log_format_lines() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(971_186_136);
        assert_eq!(time(t), "10/Oct/2000:13:55:36 +0000");
        assert_eq!(
            line(b"GET /a HTTP/1.1", 200, 12, t),
            "- - - [10/Oct/2000:13:55:36 +0000] \"GET /a HTTP/1.1\" 200 12"
        );
        assert_eq!(line(b"\x16\x03\"x", 400, 0, t), "- - - [10/Oct/2000:13:55:36 +0000] \"\\x16\\x03\\\"x\" 400 -");
        let long = line(&[b'a'; 300], 414, 0, t);
        assert!(long.ends_with(&format!("\"{}...\" 414 -", "a".repeat(200))), "{long}");
    }
}
