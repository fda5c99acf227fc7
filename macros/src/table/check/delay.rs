//! The delay of `#[table(delete = scheduled(delay = "30d"))]`: a whole number and a unit.

use syn::LitStr;

use crate::diagnostics::{Result, error};
use crate::table::attr::DELAY_FORM;

/// The units of a scheduled deletion's delay, with their length in milliseconds.
const DELAY_UNITS: &[(&str, u64)] = &[
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
];

/// Unit spellings people write, and the unit they mean.
const DELAY_UNIT_ALIASES: &[(&str, &[&str])] = &[
    (
        "ms",
        &[
            "msec",
            "msecs",
            "milli",
            "millis",
            "millisecond",
            "milliseconds",
        ],
    ),
    ("s", &["sec", "secs", "second", "seconds"]),
    ("m", &["min", "mins", "minute", "minutes"]),
    ("h", &["hr", "hrs", "hour", "hours"]),
    ("d", &["day", "days"]),
    ("w", &["wk", "wks", "week", "weeks"]),
];

/// The delay written in `lit`, in milliseconds; the error underlines the string.
pub(super) fn check_delay(lit: &LitStr) -> Result<u64> {
    parse_delay(&lit.value()).map_err(|why| {
        let then = if why.ends_with('?') {
            " Write"
        } else {
            "; write"
        };
        error(
            lit,
            format!(
                "invalid delay `{:?}`: {why}{then} {DELAY_FORM}",
                lit.value()
            ),
        )
    })
}

/// `"30d"` -> 30 days in milliseconds. The error says what is wrong with the text, ending with
/// a question mark when it is a suggestion.
pub(crate) fn parse_delay(text: &str) -> std::result::Result<u64, String> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    if text.is_empty() {
        return Err("it is empty".to_string());
    }
    if digits.is_empty() {
        return Err("it does not start with a whole number".to_string());
    }
    let Some(&(_, unit_ms)) = DELAY_UNITS.iter().find(|(name, _)| *name == unit) else {
        let written = unit.trim().to_lowercase();
        let meant = DELAY_UNITS
            .iter()
            .map(|(name, _)| *name)
            .find(|name| *name == written)
            .or_else(|| {
                DELAY_UNIT_ALIASES
                    .iter()
                    .find(|(_, aliases)| aliases.contains(&written.as_str()))
                    .map(|(name, _)| *name)
            });
        return Err(match meant {
            Some(short) => format!("did you mean `\"{digits}{short}\"`?"),
            None if unit.is_empty() => "it has no unit".to_string(),
            None => format!("`{}` is not a unit", unit.trim()),
        });
    };
    let too_long = || "it is too long (more than 2^64 - 1 milliseconds)".to_string();
    let count: u64 = digits.parse().map_err(|_| too_long())?;
    if count == 0 {
        return Err("the delay must be positive".to_string());
    }
    count.checked_mul(unit_ms).ok_or_else(too_long)
}
