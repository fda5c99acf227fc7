//! Pages and cursors: opaque, signed positions in a query's results.

use std::fmt;
use std::hash::Hasher;

use crate::error::{Error, Result};
use crate::model::Doc;

/// A page of rows from [`Query::paginate`](crate::Query::paginate).
#[derive(Clone)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<Doc<T>>,
    /// Where the next page starts; `None` when this is the last page.
    pub next_cursor: Option<Cursor>,
    /// Whether this is the last page.
    pub is_done: bool,
}

/// An opaque position in a query's results, from [`Page::next_cursor`]. Its string form
/// ([`Display`](fmt::Display) / [`FromStr`](std::str::FromStr)) travels through APIs; it is
/// tamper-evident (a per-database key signs it) and bound to the query it came from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub(crate) text: String,
}

impl<T: crate::model::Table + fmt::Debug> fmt::Debug for Page<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Page")
            .field("items", &self.items)
            .field("next_cursor", &self.next_cursor)
            .field("is_done", &self.is_done)
            .finish()
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({})", self.text)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Cursor {
    type Err = std::convert::Infallible;
    /// Accepts any string; a malformed one is refused when it is used.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Cursor {
            text: s.to_string(),
        })
    }
}

impl Cursor {
    /// The cursor's string form.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn seal(fingerprint: u64, pos: &Position, secret: u64) -> Cursor {
        let mut bytes = vec![1u8];
        bytes.extend_from_slice(&fingerprint.to_le_bytes());
        pos.encode(&mut bytes);
        let mac = mac(secret, &bytes);
        bytes.extend_from_slice(&mac.to_le_bytes());
        Cursor {
            text: hex_encode(&bytes),
        }
    }

    pub(crate) fn open(
        &self,
        table: &'static str,
        fingerprint: u64,
        secret: u64,
    ) -> Result<Position> {
        let invalid = |reason: &str| Error::InvalidCursor {
            table,
            reason: reason.to_string(),
        };
        let bytes = hex_decode(&self.text).ok_or_else(|| {
            invalid("it is not a cursor this library produced (bad characters or length)")
        })?;
        if bytes.len() < 1 + 8 + 8 {
            return Err(invalid("it is truncated"));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let mut tag = [0u8; 8];
        tag.copy_from_slice(tail);
        if u64::from_le_bytes(tag) != mac(secret, body) {
            return Err(invalid("it was altered or comes from another database"));
        }
        if body[0] != 1 {
            return Err(invalid("unknown cursor version"));
        }
        let mut fp = [0u8; 8];
        fp.copy_from_slice(&body[1..9]);
        if u64::from_le_bytes(fp) != fingerprint {
            return Err(invalid(
                "it belongs to another query (a different table, filter, order or index); \
                 start again without a cursor",
            ));
        }
        Position::decode(&body[9..]).ok_or_else(|| invalid("its position does not decode"))
    }
}

pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// FNV-1a, 64 bits: stable across releases (unlike std's hasher), used for query fingerprints
/// and, keyed with the database's secret, for cursor tags.
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new(seed: u64) -> Self {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.write(&seed.to_le_bytes());
        h
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

pub(crate) fn mac(secret: u64, bytes: &[u8]) -> u64 {
    let mut h = Fnv::new(secret);
    h.write(bytes);
    h.write(&secret.rotate_left(17).to_le_bytes());
    h.finish()
}

/// Where a scan stopped: which probe, and the key suffix (index plans), id (table plans) or
/// sort key (sorted plans) of the last row returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) probe: u32,
    pub(crate) key: Vec<u8>,
}

impl Position {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        crate::codec::put_varint(out, u64::from(self.probe));
        out.extend_from_slice(&self.key);
    }
    pub(crate) fn decode(mut bytes: &[u8]) -> Option<Position> {
        let probe = u32::try_from(crate::codec::get_varint(&mut bytes).ok()?).ok()?;
        Some(Position {
            probe,
            key: bytes.to_vec(),
        })
    }
}
