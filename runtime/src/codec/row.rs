//! The row header: the system part of every stored row, before its columns.

use super::{self as codec, CodecError};

/// The system part of a stored row, before the columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowHeader {
    pub version: u32,
    pub created_at: i64,
    /// When the row was soft-deleted, and the token shared by every row that one delete
    /// soft-deleted (so `undelete` restores exactly those).
    pub deleted: Option<(i64, u64)>,
}

const ROW_FORMAT: u8 = 1;
const FLAG_DELETED: u8 = 1;

impl RowHeader {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.push(ROW_FORMAT);
        codec::put_varint(out, u64::from(self.version));
        codec::put_varint(out, codec::zigzag(self.created_at));
        match self.deleted {
            None => out.push(0),
            Some((at, token)) => {
                out.push(FLAG_DELETED);
                codec::put_varint(out, codec::zigzag(at));
                codec::put_varint(out, token);
            }
        }
    }

    pub(crate) fn read(input: &mut &[u8]) -> std::result::Result<Self, CodecError> {
        let format = codec::take(input, 1, "the row format byte")?[0];
        if format != ROW_FORMAT {
            return Err(CodecError::new(format!("unknown row format {format}")));
        }
        let version = u32::try_from(codec::get_varint(input)?)
            .map_err(|_| CodecError::new("schema version out of range"))?;
        let created_at = codec::unzigzag(codec::get_varint(input)?);
        let flags = codec::take(input, 1, "the row flags")?[0];
        let deleted = match flags {
            0 => None,
            FLAG_DELETED => {
                let at = codec::unzigzag(codec::get_varint(input)?);
                Some((at, codec::get_varint(input)?))
            }
            other => return Err(CodecError::new(format!("unknown row flags 0x{other:02x}"))),
        };
        Ok(RowHeader {
            version,
            created_at,
            deleted,
        })
    }
}
