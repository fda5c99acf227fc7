//! Column values without the application's types: the stored type name parsed into a
//! [`ColumnType`], and the row and key encodings of `model/column.rs` applied to a dynamic
//! [`Value`].

use std::fmt;

use crate::codec::{self, CodecError};

/// The type of a stored column, parsed from the type name the catalog keeps
/// ([`Column::type_name`](crate::Column::type_name)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    /// `u8`, `u16`, `u32`, `u64` (and `usize`, stored as `u64`): the width in bits.
    Unsigned(u32),
    /// `i8`, `i16`, `i32`, `i64` (and `isize`, stored as `i64`): the width in bits.
    Signed(u32),
    /// `u128`.
    U128,
    /// `i128`.
    I128,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `bool`.
    Bool,
    /// `String`.
    String,
    /// `Id<T>` (the target table is not part of the stored type; a foreign key names it).
    Id,
    /// `Json<T>`: any serde value, stored as JSON text.
    Json,
    /// A unit enum with `#[derive(Column)]`: its variants in declaration order.
    Enum(Vec<String>),
    /// `Option<C>`.
    Option(Box<ColumnType>),
    /// `Vec<C>`.
    Vec(Box<ColumnType>),
}

impl ColumnType {
    /// Parses a stored type name; `None` for a type this version of the inspector does not
    /// know (a column type implemented outside redorm).
    ///
    /// ```
    /// use redorm::inspect::ColumnType;
    /// assert_eq!(ColumnType::parse("Option<u32>"), Some(ColumnType::Option(Box::new(ColumnType::Unsigned(32)))));
    /// assert_eq!(ColumnType::parse("enum(A,B)"), Some(ColumnType::Enum(vec!["A".into(), "B".into()])));
    /// assert_eq!(ColumnType::parse("Uuid"), None);
    /// ```
    pub fn parse(name: &str) -> Option<ColumnType> {
        let inner = |prefix: &str| {
            name.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix('>'))
                .and_then(ColumnType::parse)
                .map(Box::new)
        };
        Some(match name {
            "u8" => ColumnType::Unsigned(8),
            "u16" => ColumnType::Unsigned(16),
            "u32" => ColumnType::Unsigned(32),
            "u64" => ColumnType::Unsigned(64),
            "i8" => ColumnType::Signed(8),
            "i16" => ColumnType::Signed(16),
            "i32" => ColumnType::Signed(32),
            "i64" => ColumnType::Signed(64),
            "u128" => ColumnType::U128,
            "i128" => ColumnType::I128,
            "f32" => ColumnType::F32,
            "f64" => ColumnType::F64,
            "bool" => ColumnType::Bool,
            "String" => ColumnType::String,
            "Id" => ColumnType::Id,
            "Json" => ColumnType::Json,
            _ if name.starts_with("Option<") => ColumnType::Option(inner("Option<")?),
            _ if name.starts_with("Vec<") => ColumnType::Vec(inner("Vec<")?),
            _ => {
                let list = name.strip_prefix("enum(")?.strip_suffix(')')?;
                ColumnType::Enum(list.split(',').map(str::to_string).collect())
            }
        })
    }

    /// Reads the row form of a value of this type, advancing `input`.
    pub(crate) fn decode(&self, input: &mut &[u8]) -> Result<Value, CodecError> {
        Ok(match self {
            ColumnType::Unsigned(bits) => {
                let v = codec::get_varint(input)?;
                if *bits < 64 && v >> bits != 0 {
                    return Err(CodecError::new(format!(
                        "value {v} does not fit in u{bits}"
                    )));
                }
                Value::UInt(u128::from(v))
            }
            ColumnType::Signed(bits) => {
                let v = codec::unzigzag(codec::get_varint(input)?);
                let (min, max) = signed_range(*bits);
                if v < min || v > max {
                    return Err(CodecError::new(format!(
                        "value {v} does not fit in i{bits}"
                    )));
                }
                Value::Int(i128::from(v))
            }
            ColumnType::U128 => {
                Value::UInt(u128::from_le_bytes(codec::take_array(input, "a u128")?))
            }
            ColumnType::I128 => {
                Value::Int(i128::from_le_bytes(codec::take_array(input, "an i128")?))
            }
            ColumnType::F32 => Value::Float(f64::from(f32::from_le_bytes(codec::take_array(
                input, "an f32",
            )?))),
            ColumnType::F64 => {
                Value::Float(f64::from_le_bytes(codec::take_array(input, "an f64")?))
            }
            ColumnType::Bool => match codec::take(input, 1, "a bool")?.first() {
                Some(0) => Value::Bool(false),
                Some(1) => Value::Bool(true),
                b => {
                    return Err(CodecError::new(format!(
                        "invalid bool byte 0x{:02x}",
                        b.copied().unwrap_or_default()
                    )));
                }
            },
            ColumnType::String => {
                let bytes = codec::get_bytes(input, "a string")?;
                Value::Text(
                    String::from_utf8(bytes.to_vec())
                        .map_err(|e| CodecError::new(format!("string is not valid UTF-8: {e}")))?,
                )
            }
            ColumnType::Id => Value::Id(codec::get_varint(input)?),
            ColumnType::Json => {
                let bytes = codec::get_bytes(input, "a JSON value")?;
                let text = std::str::from_utf8(bytes)
                    .map_err(|e| CodecError::new(format!("stored JSON is not UTF-8: {e}")))?;
                serde_json::from_str::<serde_json::Value>(text)
                    .map_err(|e| CodecError::new(format!("stored JSON does not parse: {e}")))?;
                Value::Json(text.to_string())
            }
            ColumnType::Enum(variants) => {
                let n = codec::get_varint(input)?;
                let name = usize::try_from(n).ok().and_then(|i| variants.get(i));
                match name {
                    Some(name) => Value::Enum(name.clone()),
                    None => {
                        return Err(CodecError::new(format!(
                            "enum `{}` has no variant number {n}",
                            self
                        )));
                    }
                }
            }
            ColumnType::Option(inner) => match codec::take(input, 1, "an option tag")?.first() {
                Some(0) => Value::Null,
                Some(1) => inner.decode(input)?,
                b => {
                    return Err(CodecError::new(format!(
                        "invalid option tag 0x{:02x}",
                        b.copied().unwrap_or_default()
                    )));
                }
            },
            ColumnType::Vec(inner) => {
                let len = codec::get_varint(input)?;
                if len > input.len() as u64 {
                    return Err(CodecError::new(format!(
                        "list length {len} exceeds the {} bytes left",
                        input.len()
                    )));
                }
                let mut items = Vec::new();
                for _ in 0..len {
                    items.push(inner.decode(input)?);
                }
                Value::List(items)
            }
        })
    }

    /// Appends the row form of `value` as [`Column::encode_value`](crate::Column::encode_value)
    /// of this type writes it; an error when the value is not of this type.
    pub(crate) fn encode_value(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let mismatch = || CodecError::new(format!("{value} is not a value of type `{self}`"));
        match (self, value) {
            (ColumnType::Unsigned(_), Value::UInt(v)) => {
                codec::put_varint(out, u64::try_from(*v).map_err(|_| mismatch())?);
            }
            (ColumnType::Signed(_), Value::Int(v)) => {
                let v = i64::try_from(*v).map_err(|_| mismatch())?;
                codec::put_varint(out, codec::zigzag(v));
            }
            (ColumnType::U128, Value::UInt(v)) => out.extend_from_slice(&v.to_le_bytes()),
            (ColumnType::I128, Value::Int(v)) => out.extend_from_slice(&v.to_le_bytes()),
            (ColumnType::F64, Value::Float(v)) => out.extend_from_slice(&v.to_le_bytes()),
            (ColumnType::F32, Value::Float(v)) => {
                out.extend_from_slice(&(*v as f32).to_le_bytes());
            }
            (ColumnType::Bool, Value::Bool(v)) => out.push(u8::from(*v)),
            (ColumnType::String, Value::Text(s)) => codec::put_bytes(out, s.as_bytes()),
            (ColumnType::Id, Value::Id(v)) => codec::put_varint(out, *v),
            (ColumnType::Json, Value::Json(text)) => codec::put_bytes(out, text.as_bytes()),
            (ColumnType::Enum(variants), Value::Enum(name)) => {
                let pos = variants
                    .iter()
                    .position(|v| v == name)
                    .ok_or_else(mismatch)?;
                codec::put_varint(out, pos as u64);
            }
            (ColumnType::Option(_), Value::Null) => out.push(0),
            (ColumnType::Option(inner), v) => {
                out.push(1);
                inner.encode_value(v, out)?;
            }
            (ColumnType::Vec(inner), Value::List(items)) => {
                codec::put_varint(out, items.len() as u64);
                for item in items {
                    inner.encode_value(item, out)?;
                }
            }
            _ => return Err(mismatch()),
        }
        Ok(())
    }

    /// Appends the key form of `value` as [`Column::encode_key`](crate::Column::encode_key)
    /// of this type writes it; an error when the value is not of this type.
    pub(crate) fn encode_key(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let mismatch = || CodecError::new(format!("{value} is not a value of type `{self}`"));
        match (self, value) {
            (ColumnType::Unsigned(bits), Value::UInt(v)) => {
                let bytes = v.to_be_bytes();
                let width = (*bits / 8) as usize;
                out.extend_from_slice(&bytes[bytes.len() - width..]);
            }
            (ColumnType::Signed(bits), Value::Int(v)) => {
                let width = (*bits / 8) as usize;
                let flipped = (*v as u128) ^ (1u128 << (bits - 1));
                let bytes = flipped.to_be_bytes();
                out.extend_from_slice(&bytes[bytes.len() - width..]);
            }
            (ColumnType::U128, Value::UInt(v)) => out.extend_from_slice(&v.to_be_bytes()),
            (ColumnType::I128, Value::Int(v)) => {
                out.extend_from_slice(&((*v as u128) ^ (1 << 127)).to_be_bytes());
            }
            (ColumnType::F64, Value::Float(v)) => {
                out.extend_from_slice(&codec::f64_key_bits(*v).to_be_bytes());
            }
            (ColumnType::F32, Value::Float(v)) => {
                out.extend_from_slice(&codec::f32_key_bits(*v as f32).to_be_bytes());
            }
            (ColumnType::Bool, Value::Bool(v)) => out.push(u8::from(*v)),
            (ColumnType::String, Value::Text(s)) => codec::put_key_bytes(out, s.as_bytes()),
            (ColumnType::Id, Value::Id(v)) => out.extend_from_slice(&v.to_be_bytes()),
            (ColumnType::Json, Value::Json(text)) => codec::put_key_bytes(out, text.as_bytes()),
            (ColumnType::Enum(variants), Value::Enum(name)) => {
                let pos = variants
                    .iter()
                    .position(|v| v == name)
                    .and_then(|p| u32::try_from(p).ok())
                    .ok_or_else(mismatch)?;
                out.extend_from_slice(&pos.to_be_bytes());
            }
            (ColumnType::Option(_), Value::Null) => out.push(0),
            (ColumnType::Option(inner), v) => {
                out.push(1);
                inner.encode_key(v, out)?;
            }
            (ColumnType::Vec(inner), Value::List(items)) => {
                for item in items {
                    out.push(1);
                    inner.encode_key(item, out)?;
                }
                out.push(0);
            }
            _ => return Err(mismatch()),
        }
        Ok(())
    }

    /// Parses a value of this type from its command-line text: numbers, `true`/`false`, any
    /// text for `String`, `null` for an `Option`'s none, a number or `table:number` for an
    /// `Id`, a variant's name for an enum, JSON for lists and `Json` columns.
    pub(crate) fn parse_value(&self, text: &str) -> Result<Value, String> {
        let number = |what: &str| format!("`{text}` is not {what}");
        Ok(match self {
            ColumnType::Unsigned(bits) => {
                let v: u64 = text.parse().map_err(|_| number("an unsigned integer"))?;
                if *bits < 64 && v >> bits != 0 {
                    return Err(format!("{v} does not fit in u{bits}"));
                }
                Value::UInt(u128::from(v))
            }
            ColumnType::Signed(bits) => {
                let v: i64 = text.parse().map_err(|_| number("an integer"))?;
                let (min, max) = signed_range(*bits);
                if v < min || v > max {
                    return Err(format!("{v} does not fit in i{bits}"));
                }
                Value::Int(i128::from(v))
            }
            ColumnType::U128 => Value::UInt(text.parse().map_err(|_| number("a u128"))?),
            ColumnType::I128 => Value::Int(text.parse().map_err(|_| number("an i128"))?),
            ColumnType::F32 | ColumnType::F64 => {
                Value::Float(text.parse().map_err(|_| number("a number"))?)
            }
            ColumnType::Bool => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(number("`true` or `false`")),
            },
            ColumnType::String => Value::Text(text.to_string()),
            ColumnType::Id => {
                let digits = text.rsplit_once(':').map_or(text, |(_, n)| n);
                Value::Id(digits.parse().map_err(|_| number("a row id"))?)
            }
            ColumnType::Json => {
                let parsed: serde_json::Value =
                    serde_json::from_str(text).map_err(|e| format!("`{text}` is not JSON: {e}"))?;
                Value::Json(parsed.to_string())
            }
            ColumnType::Enum(variants) => {
                if !variants.iter().any(|v| v == text) {
                    return Err(format!(
                        "`{text}` is not a variant of `{self}` (variants: {})",
                        variants.join(", ")
                    ));
                }
                Value::Enum(text.to_string())
            }
            ColumnType::Option(_) if text == "null" => Value::Null,
            ColumnType::Option(inner) => inner.parse_value(text)?,
            ColumnType::Vec(inner) => {
                let parsed: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| format!("`{text}` is not a JSON list: {e}"))?;
                let serde_json::Value::Array(items) = parsed else {
                    return Err(format!("`{text}` is not a JSON list"));
                };
                let items = items
                    .iter()
                    .map(|item| match item {
                        serde_json::Value::String(s) => inner.parse_value(s),
                        other => inner.parse_value(&other.to_string()),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Value::List(items)
            }
        })
    }

    /// Whether values of this type have an order-preserving key the inspector can compare
    /// (every type but `Json`, whose key is its JSON text).
    pub(crate) fn keyable(&self) -> bool {
        match self {
            ColumnType::Json => false,
            ColumnType::Option(inner) | ColumnType::Vec(inner) => inner.keyable(),
            _ => true,
        }
    }
}

fn signed_range(bits: u32) -> (i64, i64) {
    if bits >= 64 {
        (i64::MIN, i64::MAX)
    } else {
        (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Unsigned(bits) => write!(f, "u{bits}"),
            ColumnType::Signed(bits) => write!(f, "i{bits}"),
            ColumnType::U128 => f.write_str("u128"),
            ColumnType::I128 => f.write_str("i128"),
            ColumnType::F32 => f.write_str("f32"),
            ColumnType::F64 => f.write_str("f64"),
            ColumnType::Bool => f.write_str("bool"),
            ColumnType::String => f.write_str("String"),
            ColumnType::Id => f.write_str("Id"),
            ColumnType::Json => f.write_str("Json"),
            ColumnType::Enum(v) => write!(f, "enum({})", v.join(",")),
            ColumnType::Option(inner) => write!(f, "Option<{inner}>"),
            ColumnType::Vec(inner) => write!(f, "Vec<{inner}>"),
        }
    }
}

/// One column's value, decoded by the stored schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None` of an `Option` column.
    Null,
    /// A `bool`.
    Bool(bool),
    /// An unsigned integer of any width.
    UInt(u128),
    /// A signed integer of any width.
    Int(i128),
    /// An `f32` or `f64`.
    Float(f64),
    /// A `String`.
    Text(String),
    /// A row id (`Id<T>`); a foreign key's target table is in the schema.
    Id(u64),
    /// A `Json<T>` column: the stored JSON text.
    Json(String),
    /// A unit enum's variant name.
    Enum(String),
    /// A `Vec<C>`.
    List(Vec<Value>),
    /// A column the row was written without (it predates the column) and whose default
    /// (`#[default(...)]`) the file does not store: the application reads its default.
    Default,
}

impl Value {
    /// The value as JSON text: numbers, strings, `null`, lists as arrays, `Json` columns as
    /// their JSON, a `Default` as the string `"(default)"`. Ids are numbers; [`Row::to_json`]
    /// writes foreign keys as `"table:id"`.
    ///
    /// ```
    /// use redorm::inspect::Value;
    /// assert_eq!(Value::List(vec![Value::UInt(1), Value::Null]).to_json(), "[1,null]");
    /// assert_eq!(Value::Text("a\"b".into()).to_json(), r#""a\"b""#);
    /// ```
    ///
    /// [`Row::to_json`]: super::Row::to_json
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out, None);
        out
    }

    pub(crate) fn write_json(&self, out: &mut String, id_table: Option<&str>) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::UInt(v) => out.push_str(&v.to_string()),
            Value::Int(v) => out.push_str(&v.to_string()),
            Value::Float(v) => out.push_str(
                &serde_json::Number::from_f64(*v)
                    .map_or_else(|| quote(&v.to_string()), |n| n.to_string()),
            ),
            Value::Text(s) | Value::Enum(s) => out.push_str(&quote(s)),
            Value::Id(id) => match id_table {
                Some(table) => out.push_str(&quote(&format!("{table}:{id}"))),
                None => out.push_str(&id.to_string()),
            },
            Value::Json(text) => out.push_str(text),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out, id_table);
                }
                out.push(']');
            }
            Value::Default => out.push_str("\"(default)\""),
        }
    }
}

/// A JSON string literal.
pub(crate) fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

impl fmt::Display for Value {
    /// The plain form the CLI's table output shows: text without quotes, `null`, lists and
    /// `Json` as JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::UInt(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Text(s) | Value::Enum(s) => f.write_str(s),
            Value::Id(id) => write!(f, "{id}"),
            Value::Json(text) => f.write_str(text),
            Value::List(_) => f.write_str(&self.to_json()),
            Value::Default => f.write_str("(default)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Column;

    fn key_of<C: Column>(v: C) -> Vec<u8> {
        let mut out = Vec::new();
        v.encode_key(&mut out).unwrap_or_default();
        out
    }

    fn dyn_key(ty: &str, v: Value) -> Vec<u8> {
        let mut out = Vec::new();
        ColumnType::parse(ty)
            .map(|t| t.encode_key(&v, &mut out))
            .transpose()
            .ok();
        out
    }

    fn round_trip<C: Column>(v: C) -> Value {
        let mut row = Vec::new();
        v.encode_value(&mut row).ok();
        let ty = ColumnType::parse(&C::type_name());
        let mut input = row.as_slice();
        let value = ty.map(|t| t.decode(&mut input));
        assert!(input.is_empty());
        match value {
            Some(Ok(v)) => v,
            other => Value::Text(format!("{other:?}")),
        }
    }

    #[test]
    fn keys_match_the_typed_encoding() {
        assert_eq!(dyn_key("u16", Value::UInt(300)), key_of(300u16));
        assert_eq!(dyn_key("i32", Value::Int(-5)), key_of(-5i32));
        assert_eq!(dyn_key("i8", Value::Int(-128)), key_of(-128i8));
        assert_eq!(dyn_key("i128", Value::Int(-5)), key_of(-5i128));
        assert_eq!(dyn_key("f64", Value::Float(-1.5)), key_of(-1.5f64));
        assert_eq!(dyn_key("f32", Value::Float(2.5)), key_of(2.5f32));
        assert_eq!(
            dyn_key("String", Value::Text("a\0b".into())),
            key_of(String::from("a\0b"))
        );
        assert_eq!(dyn_key("Option<u32>", Value::Null), key_of(None::<u32>));
        assert_eq!(dyn_key("Option<u32>", Value::UInt(7)), key_of(Some(7u32)));
        assert_eq!(
            dyn_key("Vec<u8>", Value::List(vec![Value::UInt(1), Value::UInt(2)])),
            key_of(vec![1u8, 2])
        );
        assert_eq!(dyn_key("bool", Value::Bool(true)), key_of(true));
    }

    #[test]
    fn rows_decode_as_the_typed_encoding_wrote_them() {
        assert_eq!(round_trip(u64::MAX), Value::UInt(u128::from(u64::MAX)));
        assert_eq!(round_trip(-3i16), Value::Int(-3));
        assert_eq!(round_trip(String::from("hé")), Value::Text("hé".into()));
        assert_eq!(round_trip(Some(false)), Value::Bool(false));
        assert_eq!(round_trip(None::<String>), Value::Null);
        assert_eq!(
            round_trip(vec![Some(1i64), None]),
            Value::List(vec![Value::Int(1), Value::Null])
        );
        assert_eq!(
            round_trip(crate::Json(vec![1, 2])),
            Value::Json("[1,2]".into())
        );
        assert_eq!(round_trip(1.25f32), Value::Float(1.25));
    }

    #[test]
    fn rows_encode_as_the_typed_encoding() {
        let mut typed = Vec::new();
        (Some(-7i32), String::from("x"), vec![true])
            .0
            .encode_value(&mut typed)
            .ok();
        let mut dynamic = Vec::new();
        ColumnType::Option(Box::new(ColumnType::Signed(32)))
            .encode_value(&Value::Int(-7), &mut dynamic)
            .ok();
        assert_eq!(typed, dynamic);
        let mut typed = Vec::new();
        vec![true, false].encode_value(&mut typed).ok();
        let mut dynamic = Vec::new();
        ColumnType::Vec(Box::new(ColumnType::Bool))
            .encode_value(
                &Value::List(vec![Value::Bool(true), Value::Bool(false)]),
                &mut dynamic,
            )
            .ok();
        assert_eq!(typed, dynamic);
    }

    #[test]
    fn damaged_bytes_are_errors() {
        let ty = ColumnType::Unsigned(8);
        let mut input: &[u8] = &[0x80, 0x02];
        assert!(ty.decode(&mut input).is_err());
        let ty = ColumnType::Enum(vec!["A".into()]);
        let mut input: &[u8] = &[3];
        assert!(ty.decode(&mut input).is_err());
        let ty = ColumnType::Vec(Box::new(ColumnType::Bool));
        let mut input: &[u8] = &[200, 1];
        assert!(ty.decode(&mut input).is_err());
    }

    #[test]
    fn command_line_values_parse_by_type() {
        let u8t = ColumnType::Unsigned(8);
        assert_eq!(u8t.parse_value("7"), Ok(Value::UInt(7)));
        assert!(u8t.parse_value("300").is_err());
        assert!(u8t.parse_value("x").is_err());
        let opt = ColumnType::parse("Option<String>");
        assert_eq!(
            opt.as_ref().map(|t| t.parse_value("null")),
            Some(Ok(Value::Null))
        );
        assert_eq!(ColumnType::Id.parse_value("users:4"), Ok(Value::Id(4)));
    }

    /// Typed value -> typed row bytes -> dynamic value: re-encoding it gives the same row
    /// bytes, and its key is the typed key.
    fn agrees<C: Column>(v: C) -> Result<(), proptest::test_runner::TestCaseError> {
        let ty = ColumnType::parse(&C::type_name());
        proptest::prop_assert!(ty.is_some(), "{}", C::type_name());
        let Some(ty) = ty else { return Ok(()) };
        let mut row = Vec::new();
        v.encode_value(&mut row).ok();
        let mut input = row.as_slice();
        let decoded = ty.decode(&mut input);
        proptest::prop_assert!(input.is_empty());
        let Ok(decoded) = decoded else {
            return Err(proptest::test_runner::TestCaseError::fail(format!(
                "{decoded:?}"
            )));
        };
        let mut again = Vec::new();
        ty.encode_value(&decoded, &mut again).ok();
        proptest::prop_assert_eq!(&again, &row);
        let mut key = Vec::new();
        ty.encode_key(&decoded, &mut key).ok();
        proptest::prop_assert_eq!(key, key_of(v));
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn dynamic_and_typed_encodings_agree(
            a in proptest::prelude::any::<u64>(),
            b in proptest::prelude::any::<i16>(),
            c in proptest::prelude::any::<Option<i64>>(),
            d in proptest::prelude::any::<String>(),
            e in proptest::prelude::any::<Vec<Option<u8>>>(),
            f in proptest::prelude::any::<f64>(),
            g in proptest::prelude::any::<(i128, u128, bool, f32)>(),
        ) {
            agrees(a)?;
            agrees(b)?;
            agrees(c)?;
            agrees(d)?;
            agrees(e)?;
            agrees(f)?;
            agrees(g.0)?;
            agrees(g.1)?;
            agrees(g.2)?;
            agrees(g.3)?;
        }
    }
}
