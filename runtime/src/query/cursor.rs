//! Pages and cursors: sealed positions in a query's results.
//!
//! A cursor is `base64url(VERSION ‖ nonce ‖ XChaCha20-Poly1305(fingerprint ‖ position) ‖ tag)`
//! under the database's key ([`SealKey`]): it shows nothing of the row it stopped at, any
//! change to it is refused, and the query fingerprint inside binds it to its query.
//! [`Cursor::seal`] and [`Cursor::open`] are the whole interface the query module uses.

use std::fmt;
use std::hash::Hasher;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::codec::seal::{OVERHEAD, SealKey};
use crate::error::{Error, Result};
use crate::model::Doc;

/// A page of rows from [`Query::paginate`](crate::Query::paginate).
#[derive(Clone)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<Doc<T>>,
    /// Where the next page starts; `None` when this is the last page (or an empty page
    /// read backwards, which has nothing to continue from).
    pub next_cursor: Option<Cursor>,
    /// Where the page before this one ends: give it to `paginate` for the rows before this
    /// page's first row. `None` on the first page (from no cursor), on an empty page, and on
    /// a page read backwards that reached the start.
    pub prev_cursor: Option<Cursor>,
    /// Whether this is the last page: `next_cursor` is `None`.
    pub is_done: bool,
}

/// An opaque position in a query's results, from [`Page::next_cursor`]. Its string form
/// ([`Display`](fmt::Display) / [`FromStr`](std::str::FromStr)) is URL-safe base64 and travels
/// through APIs as it is. It is sealed with authenticated encryption under a key kept in the
/// database file: it reveals nothing of the rows (not the sort values of the last row), any
/// altered, truncated or spliced cursor is refused with
/// [`Error::InvalidCursor`](crate::Error::InvalidCursor), and it is bound to the query it came
/// from (table, filter, order, index). Cursors work across reopenings of the file and on its
/// backups; another database refuses them.
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

    /// Seals `pos` for the query whose fingerprint is `fingerprint` (see the module docs for
    /// the layout).
    pub(crate) fn seal(fingerprint: u64, pos: &Position, key: SealKey) -> Result<Cursor> {
        let mut message = Vec::with_capacity(8 + 10 + pos.key.len());
        message.extend_from_slice(&fingerprint.to_le_bytes());
        pos.encode(&mut message);
        let sealed = key.seal(&[VERSION], &message)?;
        let mut bytes = Vec::with_capacity(1 + sealed.len());
        bytes.push(VERSION);
        bytes.extend_from_slice(&sealed);
        Ok(Cursor {
            text: URL_SAFE_NO_PAD.encode(bytes),
        })
    }

    /// The position this cursor holds, if it is genuine (sealed with `key`, unchanged) and
    /// belongs to the query whose fingerprint is `fingerprint`; [`Error::InvalidCursor`]
    /// otherwise, whatever the text.
    pub(crate) fn open(
        &self,
        table: &'static str,
        fingerprint: u64,
        key: SealKey,
    ) -> Result<Position> {
        let invalid = |reason: &str| Error::InvalidCursor {
            table,
            reason: reason.to_string(),
        };
        let not_ours = "it is not a cursor this library produced, or it was truncated";
        let bytes = URL_SAFE_NO_PAD
            .decode(self.text.as_bytes())
            .map_err(|_| invalid(not_ours))?;
        let Some((&version, sealed)) = bytes.split_first() else {
            return Err(invalid(not_ours));
        };
        if sealed.len() < OVERHEAD + 8 {
            return Err(invalid(not_ours));
        }
        if version != VERSION {
            return Err(invalid(
                "it was altered, or comes from another version of this library; start again \
                 without a cursor",
            ));
        }
        let message = key.open(&[VERSION], sealed).ok_or_else(|| {
            invalid("it was altered, or comes from another database; start again without a cursor")
        })?;
        let (fp, pos) = message
            .split_at_checked(8)
            .ok_or_else(|| invalid(not_ours))?;
        if fp != fingerprint.to_le_bytes() {
            return Err(invalid(
                "it belongs to another query (a different table, filter, order or index); \
                 start again without a cursor",
            ));
        }
        Position::decode(pos).ok_or_else(|| invalid("its position does not decode"))
    }
}

/// The first byte of every cursor: its layout. 2 is
/// `base64url(2 ‖ seal(fingerprint ‖ position))` with the version as associated data.
const VERSION: u8 = 2;

/// FNV-1a, 64 bits: stable across releases (unlike std's hasher), used for query fingerprints.
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
