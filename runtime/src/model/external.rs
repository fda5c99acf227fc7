//! Column types from other crates, each behind the cargo feature of the same name: `uuid`
//! (`uuid::Uuid`), `time` (`time::OffsetDateTime`, `time::Date`) and `chrono`
//! (`chrono::DateTime<Utc>`, `chrono::NaiveDate`).
//!
//! The two date-time crates share one stored form, so a table can move from one to the other
//! without touching its file:
//!
//! * a **timestamp** (`"Timestamp"` in the catalog) is the UTC instant as whole seconds since
//!   1970-01-01T00:00:00Z (`i64`) and nanoseconds past that second (`u32`; chrono's leap
//!   seconds use 1_000_000_000..2_000_000_000). Row form: zig-zag varint seconds, varint
//!   nanoseconds. Key form: seconds with the sign bit flipped, then nanoseconds, both
//!   big-endian (12 bytes), so keys sort as the instants do;
//! * a **date** (`"Date"`) is its Julian day number (`i32`): row form a zig-zag varint, key
//!   form sign-flipped big-endian (4 bytes).
//!
//! Decoding checks the range of the reading crate and fails with a [`CodecError`] (never a
//! panic) for a value it cannot represent: time's dates end at ±9999 years, chrono's at about
//! ±262 000, and time has no leap seconds.

#[cfg(any(feature = "time", feature = "chrono"))]
use crate::codec;
#[cfg(any(feature = "uuid", feature = "time", feature = "chrono"))]
use crate::codec::CodecError;
#[cfg(any(feature = "uuid", feature = "time", feature = "chrono"))]
use crate::model::Column;

/// Nanoseconds in a second.
#[cfg(any(feature = "time", feature = "chrono"))]
const NANOS: u32 = 1_000_000_000;

/// Appends the row form of a timestamp.
#[cfg(any(feature = "time", feature = "chrono"))]
fn put_timestamp(out: &mut Vec<u8>, secs: i64, nanos: u32) {
    codec::put_varint(out, codec::zigzag(secs));
    codec::put_varint(out, u64::from(nanos));
}

/// Reads the row form of a timestamp: seconds and nanoseconds (below 2·10⁹, leap seconds
/// included; the caller checks what its type can hold).
#[cfg(any(feature = "time", feature = "chrono"))]
fn get_timestamp(input: &mut &[u8]) -> Result<(i64, u32), CodecError> {
    let secs = codec::unzigzag(codec::get_varint(input)?);
    let nanos = codec::get_varint(input)?;
    match u32::try_from(nanos) {
        Ok(n) if n < 2 * NANOS => Ok((secs, n)),
        _ => Err(CodecError::new(format!(
            "timestamp at {secs} s has {nanos} nanoseconds, more than a (leap) second holds"
        ))),
    }
}

/// Appends the key form of a timestamp.
#[cfg(any(feature = "time", feature = "chrono"))]
fn put_timestamp_key(out: &mut Vec<u8>, secs: i64, nanos: u32) {
    out.extend_from_slice(&((secs as u64) ^ (1 << 63)).to_be_bytes());
    out.extend_from_slice(&nanos.to_be_bytes());
}

/// Appends the row form of a date (its Julian day).
#[cfg(any(feature = "time", feature = "chrono"))]
fn put_date(out: &mut Vec<u8>, julian_day: i32) {
    codec::put_varint(out, codec::zigzag(i64::from(julian_day)));
}

/// Reads the row form of a date: its Julian day.
#[cfg(any(feature = "time", feature = "chrono"))]
fn get_date(input: &mut &[u8]) -> Result<i32, CodecError> {
    let day = codec::unzigzag(codec::get_varint(input)?);
    i32::try_from(day)
        .map_err(|_| CodecError::new(format!("Julian day {day} does not fit in a date")))
}

/// Appends the key form of a date.
#[cfg(any(feature = "time", feature = "chrono"))]
fn put_date_key(out: &mut Vec<u8>, julian_day: i32) {
    out.extend_from_slice(&((julian_day as u32) ^ (1 << 31)).to_be_bytes());
}

/// `uuid::Uuid` (feature `uuid`): 16 bytes in rows and keys, so keys sort as `Uuid`'s `Ord`
/// does (byte order; time order for version 7 ids).
#[cfg(feature = "uuid")]
impl Column for uuid::Uuid {
    fn type_name() -> String {
        "Uuid".to_string()
    }
    #[inline]
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(self.as_bytes());
        Ok(())
    }
    #[inline]
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(uuid::Uuid::from_bytes(crate::codec::take_array(
            input, "a uuid",
        )?))
    }
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(self.as_bytes());
        Ok(())
    }
}

/// `time::OffsetDateTime` (feature `time`), stored as its UTC instant: the offset is not kept
/// and a value reads back in UTC (equal to the one written, as `OffsetDateTime` compares
/// instants). Keys sort by instant whatever the offsets.
#[cfg(feature = "time")]
impl Column for time::OffsetDateTime {
    fn type_name() -> String {
        "Timestamp".to_string()
    }
    #[inline]
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        put_timestamp(out, self.unix_timestamp(), self.nanosecond());
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        let (secs, nanos) = get_timestamp(input)?;
        if nanos >= NANOS {
            return Err(CodecError::new(format!(
                "timestamp at {secs} s is in a leap second, which time::OffsetDateTime cannot hold"
            )));
        }
        let total = i128::from(secs) * i128::from(NANOS) + i128::from(nanos);
        time::OffsetDateTime::from_unix_timestamp_nanos(total).map_err(|e| {
            CodecError::new(format!(
                "timestamp at {secs} s is out of time::OffsetDateTime's range: {e}"
            ))
        })
    }
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        put_timestamp_key(out, self.unix_timestamp(), self.nanosecond());
        Ok(())
    }
}

/// `time::Date` (feature `time`), stored as its Julian day.
#[cfg(feature = "time")]
impl Column for time::Date {
    fn type_name() -> String {
        "Date".to_string()
    }
    #[inline]
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        put_date(out, self.to_julian_day());
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        let day = get_date(input)?;
        time::Date::from_julian_day(day).map_err(|e| {
            CodecError::new(format!(
                "Julian day {day} is out of time::Date's range: {e}"
            ))
        })
    }
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        put_date_key(out, self.to_julian_day());
        Ok(())
    }
}

/// `chrono::DateTime<Utc>` (feature `chrono`), stored as its instant (leap seconds
/// included); keys sort as `DateTime`'s `Ord` does.
#[cfg(feature = "chrono")]
impl Column for chrono::DateTime<chrono::Utc> {
    fn type_name() -> String {
        "Timestamp".to_string()
    }
    #[inline]
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        put_timestamp(out, self.timestamp(), self.timestamp_subsec_nanos());
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        let (secs, nanos) = get_timestamp(input)?;
        chrono::DateTime::from_timestamp(secs, nanos).ok_or_else(|| {
            CodecError::new(format!(
                "timestamp at {secs} s and {nanos} ns is not a chrono::DateTime<Utc> \
                 (out of range, or a leap second not at the end of a minute)"
            ))
        })
    }
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        put_timestamp_key(out, self.timestamp(), self.timestamp_subsec_nanos());
        Ok(())
    }
}

/// Days from the Julian day number to chrono's count of days from 0001-01-01 (day 1).
#[cfg(feature = "chrono")]
const CHRONO_CE_TO_JULIAN: i32 = 1_721_425;

/// `chrono::NaiveDate` (feature `chrono`), stored as its Julian day, as `time::Date` is.
#[cfg(feature = "chrono")]
impl Column for chrono::NaiveDate {
    fn type_name() -> String {
        "Date".to_string()
    }
    #[inline]
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        put_date(out, chrono_julian_day(self)?);
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        let day = get_date(input)?;
        day.checked_sub(CHRONO_CE_TO_JULIAN)
            .and_then(chrono::NaiveDate::from_num_days_from_ce_opt)
            .ok_or_else(|| {
                CodecError::new(format!(
                    "Julian day {day} is out of chrono::NaiveDate's range"
                ))
            })
    }
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        put_date_key(out, chrono_julian_day(self)?);
        Ok(())
    }
}

#[cfg(feature = "chrono")]
fn chrono_julian_day(date: &chrono::NaiveDate) -> Result<i32, CodecError> {
    use chrono::Datelike;
    // chrono's dates span about ±262 000 years, some 9.6·10⁷ days: the sum always fits, but
    // it is checked rather than assumed.
    date.num_days_from_ce()
        .checked_add(CHRONO_CE_TO_JULIAN)
        .ok_or_else(|| CodecError::new(format!("date {date} has no Julian day number in i32")))
}
