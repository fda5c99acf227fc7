//! Column types: how a Rust value is stored in a row and in an index key.

use std::fmt;

use serde::{Serialize, de::DeserializeOwned};

use crate::codec::{self, CodecError};

/// A type that can be a column of a [`Table`](crate::Table).
///
/// Implemented for all integer widths, `f32`/`f64`, `bool`, `String`, `Vec<C>` (so `Vec<u8>`
/// too), `Option<C>`, [`Id<T>`](crate::Id), [`Json<T>`], and unit enums through
/// `#[derive(Column)]`; with cargo features, for `uuid::Uuid` (`uuid`),
/// `time::OffsetDateTime` and `time::Date` (`time`), `chrono::DateTime<Utc>` and
/// `chrono::NaiveDate` (`chrono`). `Option` is the only nullable column type.
///
/// The date-time types of both crates share one stored form: a timestamp is its UTC instant
/// (seconds and nanoseconds since 1970; an `OffsetDateTime` reads back in UTC), a date its
/// Julian day; keys sort as the instants and days do. A table can switch crates without
/// touching its file; a stored value the reading crate cannot hold (time's dates end at year
/// ±9999, and it has no leap seconds) is a [`CodecError`], never a panic.
///
/// Two encodings are involved:
/// * [`encode_value`](Column::encode_value) writes the compact form stored in rows;
/// * [`encode_key`](Column::encode_key) writes the order-preserving form used in index keys:
///   `a < b` exactly when `encode_key(a) < encode_key(b)` as bytes, and the encoding is
///   self-delimiting so composite keys are unambiguous.
///
/// ```
/// use redorm::Column;
/// let (mut a, mut b) = (Vec::new(), Vec::new());
/// (-5i32).encode_key(&mut a).unwrap();
/// 3i32.encode_key(&mut b).unwrap();
/// assert!(a < b);
/// assert_eq!(<Option<String>>::type_name(), "Option<String>");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a redorm column",
    label = "this field's type is not a column type",
    note = "column types are integers, f32, f64, bool, String, Vec<C>, Option<C>, Id<T>, Json<T> (any serde type), unit enums with #[derive(Column)], and with redorm's features `uuid`, `time`, `chrono`: Uuid, OffsetDateTime, time::Date, DateTime<Utc>, NaiveDate"
)]
pub trait Column: fmt::Debug + Sized + Send + Sync + 'static {
    /// Whether the column accepts "no value" (`true` only for `Option<C>`).
    const NULLABLE: bool = false;

    /// The stable name of the type, stored in the schema catalog and compared when a database
    /// is reopened (e.g. `"u32"`, `"Option<String>"`).
    fn type_name() -> String;

    /// Appends the row form of the value.
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError>;

    /// Reads the row form of a value, advancing `input` past it.
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError>;

    /// Appends the order-preserving, self-delimiting key form of the value.
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError>;

    /// Whether this value is "no value" (`None`). Unique indexes ignore rows whose key has a
    /// null column unless the index is declared `nulls_not_distinct`.
    fn is_null(&self) -> bool {
        false
    }

    /// The value a row stored before this column existed reads as, when the field has no
    /// `#[default(...)]`: `None` for `Option` columns, nothing for the others.
    fn implicit_default() -> Option<Self> {
        None
    }

    /// The row id this value holds, for `Id<_>` and `Option<Id<_>>` columns.
    fn as_id(&self) -> Option<u64> {
        None
    }

    /// Sets the value to "no value"; `false` (and no change) for a column that is not an
    /// `Option`.
    fn set_null(&mut self) -> bool {
        false
    }

    /// Writes the value as filters, plans and error messages show it: its `Debug` form, but
    /// an `Option` as its value or `None` (`likes > 2`, not `likes > Some(2)`).
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

macro_rules! unsigned_column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn type_name() -> String { stringify!($t).to_string() }
            #[inline]
            fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
                codec::put_varint(out, u64::from(*self));
                Ok(())
            }
            #[inline]
            fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
                let v = codec::get_varint(input)?;
                <$t>::try_from(v).map_err(|_| CodecError::new(format!(
                    "value {v} does not fit in {}", stringify!($t))))
            }
            #[inline]
            fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
                out.extend_from_slice(&self.to_be_bytes());
                Ok(())
            }
        }
    )*};
}
unsigned_column!(u8, u16, u32, u64);

macro_rules! signed_column {
    ($($t:ty => $u:ty),*) => {$(
        impl Column for $t {
            fn type_name() -> String { stringify!($t).to_string() }
            #[inline]
            fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
                codec::put_varint(out, codec::zigzag(i64::from(*self)));
                Ok(())
            }
            #[inline]
            fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
                let v = codec::unzigzag(codec::get_varint(input)?);
                <$t>::try_from(v).map_err(|_| CodecError::new(format!(
                    "value {v} does not fit in {}", stringify!($t))))
            }
            #[inline]
            fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
                // Flipping the sign bit makes two's complement sort as unsigned big-endian.
                let flipped = (*self as $u) ^ (1 << (<$u>::BITS - 1));
                out.extend_from_slice(&flipped.to_be_bytes());
                Ok(())
            }
        }
    )*};
}
signed_column!(i8 => u8, i16 => u16, i32 => u32, i64 => u64);

impl Column for u128 {
    fn type_name() -> String {
        "u128".to_string()
    }
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.to_le_bytes());
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(u128::from_le_bytes(codec::take_array(input, "a u128")?))
    }
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.to_be_bytes());
        Ok(())
    }
}

impl Column for i128 {
    fn type_name() -> String {
        "i128".to_string()
    }
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.to_le_bytes());
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(i128::from_le_bytes(codec::take_array(input, "an i128")?))
    }
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let flipped = (*self as u128) ^ (1 << 127);
        out.extend_from_slice(&flipped.to_be_bytes());
        Ok(())
    }
}

impl Column for usize {
    fn type_name() -> String {
        // Stored as u64 so files move between 32- and 64-bit machines.
        "u64".to_string()
    }
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        codec::put_varint(out, *self as u64);
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        let v = codec::get_varint(input)?;
        usize::try_from(v).map_err(|_| CodecError::new(format!("value {v} does not fit in usize")))
    }
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&(*self as u64).to_be_bytes());
        Ok(())
    }
}

impl Column for isize {
    fn type_name() -> String {
        "i64".to_string()
    }
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        (*self as i64).encode_value(out)
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        let v = i64::decode_value(input)?;
        isize::try_from(v).map_err(|_| CodecError::new(format!("value {v} does not fit in isize")))
    }
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        (*self as i64).encode_key(out)
    }
}

impl Column for f64 {
    fn type_name() -> String {
        "f64".to_string()
    }
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.to_le_bytes());
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(f64::from_le_bytes(codec::take_array(input, "an f64")?))
    }
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&codec::f64_key_bits(*self).to_be_bytes());
        Ok(())
    }
}

impl Column for f32 {
    fn type_name() -> String {
        "f32".to_string()
    }
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.to_le_bytes());
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(f32::from_le_bytes(codec::take_array(input, "an f32")?))
    }
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&codec::f32_key_bits(*self).to_be_bytes());
        Ok(())
    }
}

impl Column for bool {
    fn type_name() -> String {
        "bool".to_string()
    }
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.push(u8::from(*self));
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        match codec::take(input, 1, "a bool")?[0] {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(CodecError::new(format!("invalid bool byte 0x{b:02x}"))),
        }
    }
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.push(u8::from(*self));
        Ok(())
    }
}

impl Column for String {
    fn type_name() -> String {
        "String".to_string()
    }
    #[inline]
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        codec::put_bytes(out, self.as_bytes());
        Ok(())
    }
    #[inline]
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        let bytes = codec::get_bytes(input, "a string")?;
        String::from_utf8(bytes.to_vec())
            .map_err(|e| CodecError::new(format!("string is not valid UTF-8: {e}")))
    }
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        codec::put_key_bytes(out, self.as_bytes());
        Ok(())
    }
}

impl<C: Column> Column for Option<C> {
    const NULLABLE: bool = true;
    fn type_name() -> String {
        format!("Option<{}>", C::type_name())
    }
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        match self {
            None => {
                out.push(0);
                Ok(())
            }
            Some(v) => {
                out.push(1);
                v.encode_value(out)
            }
        }
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        match codec::take(input, 1, "an option tag")?[0] {
            0 => Ok(None),
            1 => C::decode_value(input).map(Some),
            b => Err(CodecError::new(format!("invalid option tag 0x{b:02x}"))),
        }
    }
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        // None sorts first.
        match self {
            None => {
                out.push(0);
                Ok(())
            }
            Some(v) => {
                out.push(1);
                v.encode_key(out)
            }
        }
    }
    fn is_null(&self) -> bool {
        self.is_none()
    }
    fn implicit_default() -> Option<Self> {
        Some(None)
    }
    fn as_id(&self) -> Option<u64> {
        self.as_ref().and_then(Column::as_id)
    }
    fn set_null(&mut self) -> bool {
        *self = None;
        true
    }
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Some(v) => v.show(f),
            None => f.write_str("None"),
        }
    }
}

impl<C: Column> Column for Vec<C> {
    fn type_name() -> String {
        format!("Vec<{}>", C::type_name())
    }
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        codec::put_varint(out, self.len() as u64);
        for item in self {
            item.encode_value(out)?;
        }
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        let len = codec::get_varint(input)?;
        // Every element takes at least one byte: a length beyond the input is corrupt, and
        // refusing it here keeps a bad length from reserving huge amounts of memory.
        if len > input.len() as u64 {
            return Err(CodecError::new(format!(
                "list length {len} exceeds the {} bytes left",
                input.len()
            )));
        }
        let mut items = Vec::with_capacity(len as usize);
        for _ in 0..len {
            items.push(C::decode_value(input)?);
        }
        Ok(items)
    }
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        // Each element is preceded by 0x01 and the list ends with 0x00: lists compare
        // element by element and a prefix sorts first.
        for item in self {
            out.push(1);
            item.encode_key(out)?;
        }
        out.push(0);
        Ok(())
    }
}

/// A column holding any serde type, stored as JSON.
///
/// Index keys on a `Json<T>` column order by the JSON text.
///
/// ```
/// use redorm::Json;
/// #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Settings { theme: String }
/// let s = Json(Settings { theme: "dark".into() });
/// assert_eq!(s.theme, "dark"); // derefs to the inner value
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Json<T>(pub T);

impl<T: fmt::Debug> fmt::Debug for Json<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> Column for Json<T>
where
    T: Serialize + DeserializeOwned + fmt::Debug + Send + Sync + 'static,
{
    fn type_name() -> String {
        "Json".to_string()
    }
    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let bytes = serde_json::to_vec(&self.0)
            .map_err(|e| CodecError::new(format!("value cannot be serialized as JSON: {e}")))?;
        codec::put_bytes(out, &bytes);
        Ok(())
    }
    fn decode_value(input: &mut &[u8]) -> Result<Self, CodecError> {
        let bytes = codec::get_bytes(input, "a JSON value")?;
        serde_json::from_slice(bytes)
            .map(Json)
            .map_err(|e| CodecError::new(format!("stored JSON does not match the type: {e}")))
    }
    fn encode_key(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let bytes = serde_json::to_vec(&self.0)
            .map_err(|e| CodecError::new(format!("value cannot be serialized as JSON: {e}")))?;
        codec::put_key_bytes(out, &bytes);
        Ok(())
    }
}

/// A value usable where a column of type `C` is expected: the column type itself, a reference
/// to it, `&str` for `String`, `&[u8]` for `Vec<u8>`, and a plain value for an `Option` column.
///
/// ```
/// use redorm::Arg;
/// fn takes<A: Arg<String>>(a: A) -> String { a.into_column() }
/// assert_eq!(takes("x"), "x");
/// assert_eq!(takes(String::from("y")), "y");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a value of a `{C}` column",
    label = "expected a value of type `{C}`"
)]
pub trait Arg<C: Column> {
    /// Converts into an owned column value.
    fn into_column(self) -> C;

    /// Appends the key encoding of the value, as [`Column::encode_key`] of
    /// [`into_column`](Arg::into_column) would (borrowed forms skip the conversion).
    fn encode_arg_key(self, out: &mut Vec<u8>) -> Result<(), CodecError>
    where
        Self: Sized,
    {
        self.into_column().encode_key(out)
    }
}

impl<C: Column> Arg<C> for C {
    fn into_column(self) -> C {
        self
    }
}

impl<C: Column + Clone> Arg<C> for &C {
    fn into_column(self) -> C {
        self.clone()
    }
    fn encode_arg_key(self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        self.encode_key(out)
    }
}

impl Arg<String> for &str {
    fn into_column(self) -> String {
        self.to_string()
    }
    fn encode_arg_key(self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        codec::put_key_bytes(out, self.as_bytes());
        Ok(())
    }
}

impl Arg<Option<String>> for &str {
    fn into_column(self) -> Option<String> {
        Some(self.to_string())
    }
}

impl<C: Column> Arg<Option<C>> for C {
    fn into_column(self) -> Option<C> {
        Some(self)
    }
}

impl Arg<Vec<u8>> for &[u8] {
    fn into_column(self) -> Vec<u8> {
        self.to_vec()
    }
}

/// A value for an index key: one [`Arg`] for a one-column index, a tuple of them for a
/// compound index. `K` is the tuple of the index's column types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a key for an index on columns `{K}`",
    label = "expected a value (or a tuple of values) matching the index's columns `{K}`"
)]
pub trait KeyArg<K> {
    /// Appends the key encoding of the value(s) to `out`.
    fn encode_key_arg(self, out: &mut Vec<u8>) -> Result<(), CodecError>;
}

impl<C: Column, X: Arg<C>> KeyArg<(C,)> for X {
    fn encode_key_arg(self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        self.encode_arg_key(out)
    }
}

macro_rules! tuple_key_arg {
    ($(($($c:ident $x:ident $v:ident),+))*) => {$(
        impl<$($c: Column, $x: Arg<$c>),+> KeyArg<($($c,)+)> for ($($x,)+) {
            fn encode_key_arg(self, out: &mut Vec<u8>) -> Result<(), CodecError> {
                let ($($v,)+) = self;
                $( $v.encode_arg_key(out)?; )+
                Ok(())
            }
        }
    )*};
}
tuple_key_arg! {
    (A1 X1 v1, A2 X2 v2)
    (A1 X1 v1, A2 X2 v2, A3 X3 v3)
    (A1 X1 v1, A2 X2 v2, A3 X3 v3, A4 X4 v4)
    (A1 X1 v1, A2 X2 v2, A3 X3 v3, A4 X4 v4, A5 X5 v5)
    (A1 X1 v1, A2 X2 v2, A3 X3 v3, A4 X4 v4, A5 X5 v5, A6 X6 v6)
}
