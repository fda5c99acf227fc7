//! The `serde` feature: ids, rows, pages and cursors as a JSON API shows them.
//!
//! * [`Id<T>`] as its string form, `"users:42"`; reading refuses another table's id and any
//!   other spelling (as [`str::parse`] does), and a bare number.
//! * [`Doc<T>`] as the row's fields with `id`, `created_at` and (for a soft-deleted row)
//!   `deleted_at` beside them, flattened: `{"id":"users:1","created_at":1700000000000,"email":…}`.
//!   Relations loaded with `with(...)` are not part of it: serialize them from
//!   [`Doc::get`] into a shape of your own.
//! * [`Page<T>`] as `{"items":[…],"next_cursor":"…"|null,"is_done":bool}`.
//! * [`Cursor`] as its string form.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::model::{Doc, Id, Table};
use crate::query::{Cursor, Page};

impl<T: Table> Serialize for Id<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de, T: Table> Deserialize<'de> for Id<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor<T>(PhantomData<fn() -> T>);
        impl<T: Table> Visitor<'_> for IdVisitor<T> {
            type Value = Id<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "an id of table `{}` as a string, `{}:<number>`",
                    T::NAME,
                    T::NAME
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id<T>, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(IdVisitor(PhantomData))
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Cursor {
    /// Any string is taken; a cursor that is not genuine is refused when it is used, with
    /// [`Error::InvalidCursor`](crate::Error::InvalidCursor).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(Cursor { text })
    }
}

#[derive(Serialize)]
struct DocOut<'a, T: Table> {
    id: Id<T>,
    created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_at: Option<i64>,
    #[serde(flatten)]
    value: &'a T,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Table + Deserialize<'de>"))]
struct DocIn<T: Table> {
    id: Id<T>,
    created_at: i64,
    #[serde(default)]
    deleted_at: Option<i64>,
    #[serde(flatten)]
    value: T,
}

impl<T: Table + Serialize> Serialize for Doc<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        DocOut {
            id: self.id,
            created_at: self.created_at,
            deleted_at: self.deleted_at(),
            value: self.value(),
        }
        .serialize(s)
    }
}

impl<'de, T: Table + Deserialize<'de>> Deserialize<'de> for Doc<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let doc = DocIn::<T>::deserialize(d)?;
        Ok(Doc::from_fields(
            doc.id,
            doc.created_at,
            doc.deleted_at,
            doc.value,
        ))
    }
}

#[derive(Serialize)]
#[serde(bound(serialize = "T: Table + Serialize"))]
struct PageOut<'a, T: Table> {
    items: &'a [Doc<T>],
    next_cursor: &'a Option<Cursor>,
    prev_cursor: &'a Option<Cursor>,
    is_done: bool,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Table + Deserialize<'de>"))]
struct PageIn<T: Table> {
    items: Vec<Doc<T>>,
    next_cursor: Option<Cursor>,
    #[serde(default)]
    prev_cursor: Option<Cursor>,
    is_done: bool,
}

impl<T: Table + Serialize> Serialize for Page<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PageOut {
            items: &self.items,
            next_cursor: &self.next_cursor,
            prev_cursor: &self.prev_cursor,
            is_done: self.is_done,
        }
        .serialize(s)
    }
}

impl<'de, T: Table + Deserialize<'de>> Deserialize<'de> for Page<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let page = PageIn::<T>::deserialize(d)?;
        Ok(Page {
            items: page.items,
            next_cursor: page.next_cursor,
            prev_cursor: page.prev_cursor,
            is_done: page.is_done,
        })
    }
}
