//! Low-level byte helpers shared by the row codec and the index-key codec.
//!
//! Two encodings live in this crate:
//!
//! * the **row encoding** ([`Column::encode_value`](crate::Column::encode_value)) is compact:
//!   LEB128 varints (zig-zag for signed integers), little-endian floats, length-prefixed bytes;
//! * the **key encoding** ([`Column::encode_key`](crate::Column::encode_key)) is
//!   order-preserving and self-delimiting: for any two values `a` and `b` of one column type,
//!   `a < b` exactly when `encode_key(a) < encode_key(b)` compared as bytes, and a key made of
//!   several columns never reads the same as another split of the same bytes.

pub(crate) mod row;
pub(crate) mod seal;

use std::fmt;

/// Why bytes could not be decoded into a value. Wrapped into [`Error::Corrupt`](crate::Error::Corrupt)
/// with the table, row and column it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError {
    /// What was wrong with the bytes.
    pub detail: String,
}

impl CodecError {
    /// A decoding error with a description of what was wrong.
    pub fn new(detail: impl Into<String>) -> Self {
        CodecError {
            detail: detail.into(),
        }
    }

    pub(crate) fn eof(what: &str) -> Self {
        CodecError::new(format!("unexpected end of data while reading {what}"))
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for CodecError {}

/// Appends `v` as an unsigned LEB128 varint.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads an unsigned LEB128 varint, advancing `input`.
#[inline]
pub fn get_varint(input: &mut &[u8]) -> Result<u64, CodecError> {
    let mut result: u64 = 0;
    let mut shift = 0u32;
    loop {
        let Some((&byte, rest)) = input.split_first() else {
            return Err(CodecError::eof("a varint"));
        };
        *input = rest;
        if shift == 63 && byte > 1 {
            return Err(CodecError::new("varint overflows 64 bits"));
        }
        result |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(result);
        }
        shift += 7;
        if shift > 63 {
            return Err(CodecError::new("varint longer than 10 bytes"));
        }
    }
}

/// Zig-zag maps signed integers to unsigned so small magnitudes stay small.
#[inline]
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Takes exactly `n` bytes from `input`.
#[inline]
pub fn take<'a>(input: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], CodecError> {
    if input.len() < n {
        return Err(CodecError::eof(what));
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

/// Takes a fixed-size array from `input`.
#[inline]
pub fn take_array<const N: usize>(input: &mut &[u8], what: &str) -> Result<[u8; N], CodecError> {
    let bytes = take(input, N, what)?;
    let mut arr = [0u8; N];
    arr.copy_from_slice(bytes);
    Ok(arr)
}

/// Writes a length-prefixed byte string (row encoding).
#[inline]
pub fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Reads a length-prefixed byte string (row encoding).
#[inline]
pub fn get_bytes<'a>(input: &mut &'a [u8], what: &str) -> Result<&'a [u8], CodecError> {
    let len = get_varint(input)?;
    let len =
        usize::try_from(len).map_err(|_| CodecError::new(format!("{what} length overflows")))?;
    take(input, len, what)
}

/// Writes bytes in the order-preserving, self-delimiting key form: every `0x00` byte becomes
/// `0x00 0xFF` and the string ends with `0x00 0x00`, so a shorter string sorts before any
/// longer string it is a prefix of, and a zero byte inside a string is never mistaken for its end.
#[inline]
pub fn put_key_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Reads bytes written by [`put_key_bytes`].
pub fn get_key_bytes(input: &mut &[u8]) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    let mut i = 0;
    let data = *input;
    loop {
        let Some(&b) = data.get(i) else {
            return Err(CodecError::eof("an escaped key string"));
        };
        if b == 0 {
            match data.get(i + 1) {
                Some(0) => {
                    *input = &data[i + 2..];
                    return Ok(out);
                }
                Some(0xFF) => {
                    out.push(0);
                    i += 2;
                }
                Some(other) => {
                    return Err(CodecError::new(format!(
                        "invalid escape 0x00 0x{other:02x} in a key string"
                    )));
                }
                None => return Err(CodecError::eof("an escaped key string")),
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
}

/// Order-preserving bits of an `f64`: total order as [`f64::total_cmp`]
/// (`-NaN < -inf < … < -0.0 < 0.0 < … < inf < NaN`).
#[inline]
pub fn f64_key_bits(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits ^ (1 << 63)
    }
}

/// Inverse of [`f64_key_bits`].
#[inline]
pub fn f64_from_key_bits(bits: u64) -> f64 {
    if bits >> 63 == 1 {
        f64::from_bits(bits ^ (1 << 63))
    } else {
        f64::from_bits(!bits)
    }
}

/// Order-preserving bits of an `f32`, as [`f64_key_bits`].
#[inline]
pub fn f32_key_bits(v: f32) -> u32 {
    let bits = v.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits ^ (1 << 31)
    }
}

/// Inverse of [`f32_key_bits`].
#[inline]
pub fn f32_from_key_bits(bits: u32) -> f32 {
    if bits >> 31 == 1 {
        f32::from_bits(bits ^ (1 << 31))
    } else {
        f32::from_bits(!bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_roundtrip_edges() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            u32::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut input = out.as_slice();
            assert_eq!(get_varint(&mut input), Ok(v));
            assert!(input.is_empty());
        }
    }

    #[test]
    fn varint_rejects_overlong_and_truncated() {
        let mut input: &[u8] = &[0xff; 11];
        assert!(get_varint(&mut input).is_err());
        let mut input: &[u8] = &[0x80];
        assert!(get_varint(&mut input).is_err());
        let mut input: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(get_varint(&mut input).is_err());
    }

    #[test]
    fn zigzag_roundtrip() {
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -64, 63] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn key_bytes_reject_bad_escape() {
        let mut input: &[u8] = &[b'a', 0, 7];
        assert!(get_key_bytes(&mut input).is_err());
        let mut input: &[u8] = &[b'a', 0];
        assert!(get_key_bytes(&mut input).is_err());
    }
}
