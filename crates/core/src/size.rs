//! Byte sizes as Docker writes them (`10m`, `1g`, `512k`, `1.5GiB`: go-units' `RAMInBytes`,
//! binary multiples, and `FromHumanSize`, decimal ones), and the size options that become disk
//! quotas: a volume's `--opt size=` and `--storage-opt size=`.

use std::collections::BTreeMap;

/// A size in bytes, parsed from Docker's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

/// Why a size or a size option was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// go-units' text for a value it cannot read.
    #[error("invalid size: '{0}'")]
    Invalid(String),
    /// The local volume driver's text for an option it does not know.
    #[error("invalid option key: {0:?}")]
    UnknownVolumeOption(String),
}

impl ByteSize {
    /// `<number>[.<fraction>][ ][k|m|g|t|p][i][b]`, case-insensitive; a bare number is bytes.
    pub fn parse(text: &str) -> Result<ByteSize, SizeError> {
        Self::parse_in(text, 1024)
    }

    /// The same syntax in powers of 1000, as go-units' `FromHumanSize` reads it (`10m` is
    /// 10 000 000 bytes, and so is `10MiB`): what the json-file log driver's `max-size` uses.
    pub fn parse_decimal(text: &str) -> Result<ByteSize, SizeError> {
        Self::parse_in(text, 1000)
    }

    fn parse_in(text: &str, base: u64) -> Result<ByteSize, SizeError> {
        let invalid = || SizeError::Invalid(text.to_string());
        let digits_end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
        let (number, unit) = text.split_at(digits_end);
        let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
        let unit = unit.strip_suffix('b').unwrap_or(&unit);
        let unit = unit.strip_suffix('i').unwrap_or(unit);
        let power = match unit {
            "" => 0,
            "k" => 1,
            "m" => 2,
            "g" => 3,
            "t" => 4,
            "p" => 5,
            _ => return Err(invalid()),
        };
        let multiplier = base.pow(power);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
            return Err(invalid());
        }
        let whole: u64 = whole.parse().map_err(|_| invalid())?;
        let bytes = whole.checked_mul(multiplier).ok_or_else(invalid)?;
        // A fraction of the unit, truncated to whole bytes as go-units does.
        let fraction = if fraction.is_empty() {
            0
        } else {
            let f: f64 = format!("0.{fraction}").parse().map_err(|_| invalid())?;
            (f * multiplier as f64) as u64
        };
        bytes.checked_add(fraction).map(ByteSize).ok_or_else(invalid)
    }
}

/// The quota a volume's driver options ask for (`docker volume create --opt size=10m`);
/// `size` is the only option the local driver takes here.
pub fn volume_size(options: &BTreeMap<String, String>) -> Result<Option<ByteSize>, SizeError> {
    if let Some(key) = options.keys().find(|k| k.as_str() != "size") {
        return Err(SizeError::UnknownVolumeOption(key.clone()));
    }
    options.get("size").map(|s| ByteSize::parse(s)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_sizes() {
        let cases = [
            ("0", Ok(0)),
            ("512", Ok(512)),
            ("512k", Ok(512 << 10)),
            ("10m", Ok(10 << 20)),
            ("10M", Ok(10 << 20)),
            ("10mb", Ok(10 << 20)),
            ("10MiB", Ok(10 << 20)),
            ("1g", Ok(1 << 30)),
            ("1 GB", Ok(1 << 30)),
            ("1.5k", Ok(1536)),
            ("2t", Ok(2 << 40)),
            ("", Err("invalid size: ''")),
            ("m", Err("invalid size: 'm'")),
            ("10x", Err("invalid size: '10x'")),
            ("-1m", Err("invalid size: '-1m'")),
            ("1.m", Err("invalid size: '1.m'")),
            ("1.2.3m", Err("invalid size: '1.2.3m'")),
            ("99999999999p", Err("invalid size: '99999999999p'")),
        ];
        for (text, expect) in cases {
            let got = ByteSize::parse(text).map(|b| b.0).map_err(|e| e.to_string());
            assert_eq!(got, expect.map_err(str::to_string), "{text}");
        }
    }

    #[test]
    fn decimal_sizes() {
        let cases = [("100k", Ok(100_000)), ("10m", Ok(10_000_000)), ("10MiB", Ok(10_000_000)), ("1.5k", Ok(1500))];
        for (text, expect) in cases {
            let got = ByteSize::parse_decimal(text).map(|b| b.0).map_err(|e: SizeError| e.to_string());
            assert_eq!(got, expect, "{text}");
        }
        assert_eq!(ByteSize::parse_decimal("lots").unwrap_err().to_string(), "invalid size: 'lots'");
    }

    #[test]
    fn volume_options() {
        let opts = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(volume_size(&opts(&[])), Ok(None));
        assert_eq!(volume_size(&opts(&[("size", "1m")])), Ok(Some(ByteSize(1 << 20))));
        assert_eq!(volume_size(&opts(&[("size", "big")])).unwrap_err().to_string(), "invalid size: 'big'");
        assert_eq!(
            volume_size(&opts(&[("size", "1m"), ("type", "tmpfs")])).unwrap_err().to_string(),
            "invalid option key: \"type\""
        );
    }
}
