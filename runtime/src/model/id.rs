//! Typed row ids.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::str::FromStr;

use super::column::Column;
use super::schema::{Table, TableName};
use crate::codec::{self, CodecError};
use crate::error::Error;

/// The id of a row of table `T`.
///
/// Ids are assigned by the database on insert, per table, counting up from 1; an id is never
/// given out again, even after its row is deleted. The type parameter keeps the ids of
/// different tables apart at compile time: a function that takes an `Id<User>` cannot be given
/// an `Id<Post>`.
///
/// The string form is `table:number` (`users:42`); it parses back with [`str::parse`], which
/// accepts exactly that form: the id of another table is refused, and so is any other
/// spelling of the number (`users:+42`, `users:042`, `users:0`), so one row has one string.
///
/// ```
/// use redorm::prelude::*;
/// #[derive(Table, Debug)]
/// #[table(name = "users")]
/// struct User { name: String }
///
/// let id: Id<User> = "users:42".parse().unwrap();
/// assert_eq!(id.get(), 42);
/// assert_eq!(id.to_string(), "users:42");
/// assert!("posts:42".parse::<Id<User>>().is_err());
/// assert!("users:+42".parse::<Id<User>>().is_err());
/// assert!("users:042".parse::<Id<User>>().is_err());
/// ```
pub struct Id<T> {
    raw: u64,
    _table: PhantomData<fn() -> T>,
}

impl<T> Id<T> {
    /// Builds an id from its number. Reading a row with an id that was never assigned simply
    /// finds nothing.
    pub const fn from_raw(raw: u64) -> Self {
        Id {
            raw,
            _table: PhantomData,
        }
    }

    /// The id's number.
    pub const fn get(self) -> u64 {
        self.raw
    }
}

impl<T> Clone for Id<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Id<T> {}
impl<T> PartialEq for Id<T> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}
impl<T> Eq for Id<T> {}
impl<T> PartialOrd for Id<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Id<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}
impl<T> Hash for Id<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state)
    }
}

impl<T> fmt::Debug for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.raw)
    }
}

impl<T: Table> fmt::Display for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", T::NAME, self.raw)
    }
}

impl<T: Table> FromStr for Id<T> {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidId {
            table: T::NAME,
            input: s.to_string(),
            reason,
        };
        let Some((table, number)) = s.rsplit_once(':') else {
            return Err(invalid(format!("expected the form `{}:<number>`", T::NAME)));
        };
        if table != T::NAME {
            return Err(invalid(format!(
                "it is an id of table `{table}`, not of `{}`",
                T::NAME
            )));
        }
        // Only the form `Display` writes: digits, no sign, no leading zero, not 0.
        let canonical = number.bytes().all(|b| b.is_ascii_digit()) && !number.starts_with('0');
        match number.parse::<u64>() {
            Ok(raw) if canonical => Ok(Id::from_raw(raw)),
            _ => Err(invalid(format!(
                "`{number}` is not a row number (a positive integer written without sign or leading zeros)"
            ))),
        }
    }
}

impl<T: TableName> Column for Id<T> {
    fn type_name() -> String {
        // The target table is checked by the compiler; the stored form is a u64.
        "Id".to_string()
    }
    #[inline]
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        codec::put_varint(out, self.raw);
        Ok(())
    }
    #[inline]
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(Id::from_raw(codec::get_varint(input)?))
    }
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.raw.to_be_bytes());
        Ok(())
    }
    fn as_id(&self) -> Option<u64> {
        Some(self.raw)
    }
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", T::TABLE_NAME, self.raw)
    }
}

/// A column that can point at a row of `P`: `Id<P>` or `Option<Id<P>>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a reference to a row of `{P}`",
    label = "a foreign key to `{P}` must be `Id<{P}>` or `Option<Id<{P}>>`",
    note = "relations point through a field of type `Id<{P}>` (required) or `Option<Id<{P}>>` (optional)"
)]
pub trait ForeignKey<P>: Column {}

impl<P: TableName> ForeignKey<P> for Id<P> {}
impl<P: TableName> ForeignKey<P> for Option<Id<P>> {}

/// A column that can be set to `None`: `Option<C>`. Required by `on_delete = set_null`.
#[diagnostic::on_unimplemented(
    message = "`on_delete = set_null` needs an `Option` field, but this field is `{Self}`",
    label = "not an `Option`",
    note = "make the field `Option<Id<...>>`, or use `on_delete = cascade`, `restrict` or `set_default`"
)]
pub trait Nullable: Column {}

impl<C: Column> Nullable for Option<C> {}
