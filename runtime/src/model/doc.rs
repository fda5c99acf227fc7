//! `Doc`: a row as read, its system fields beside the struct it derefs to.

use std::fmt;
use std::ops::Deref;

use super::id::Id;
use super::loaded::Loaded;
use super::schema::Table;
use crate::codec::row::RowHeader;

/// A row as read from the database: the system fields plus the struct, which it derefs to.
///
/// ```
/// use redorm::prelude::*;
/// #[derive(Table, Debug)]
/// struct Note { text: String }
/// # fn main() -> Result<(), redorm::Error> {
/// let db = Db::builder().table::<Note>().in_memory()?;
/// let id = db.write(|tx| tx.insert(Note { text: "hi".into() }))?;
/// let note: Doc<Note> = db.read()?.get(id)?.unwrap();
/// assert_eq!(note.id, id);          // system field
/// assert_eq!(note.text, "hi");      // struct field, through Deref
/// // Debug shows the id as `table:number`, as error messages do.
/// assert!(format!("{note:?}").starts_with(r#"Doc { id: note:1, created_at: "#));
/// let plain: Note = note.into_inner();
/// # let _ = plain;
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq)]
pub struct Doc<T> {
    /// The row's id.
    pub id: Id<T>,
    /// When the row was inserted, in milliseconds since the Unix epoch (from the database's
    /// [`Clock`](crate::Clock)).
    pub created_at: i64,
    deleted_at: Option<i64>,
    value: T,
    pub(crate) loaded: Loaded,
}

impl<T> Doc<T> {
    /// When the row was soft-deleted, if it was.
    pub fn deleted_at(&self) -> Option<i64> {
        self.deleted_at
    }

    /// The struct, without the system fields.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// A reference to the struct.
    pub fn value(&self) -> &T {
        &self.value
    }

    pub(crate) fn from_parts(id: Id<T>, header: RowHeader, value: T) -> Self {
        Doc {
            id,
            created_at: header.created_at,
            deleted_at: header.deleted.map(|(at, _)| at),
            value,
            loaded: Loaded::default(),
        }
    }

    /// Column `column` of this row, type-erased, the system columns (`id`, `created_at`)
    /// included.
    pub(crate) fn column_any(&self, column: usize) -> Option<&dyn std::any::Any>
    where
        T: super::Table,
    {
        match column {
            super::ID_COLUMN => Some(&self.id),
            super::CREATED_AT_COLUMN => Some(&self.created_at),
            c => self.value.column_ref(c),
        }
    }

    /// A row rebuilt from its parts, as the `serde` feature reads one back.
    #[cfg(feature = "serde")]
    pub(crate) fn from_fields(
        id: Id<T>,
        created_at: i64,
        deleted_at: Option<i64>,
        value: T,
    ) -> Self {
        Doc {
            id,
            created_at,
            deleted_at,
            value,
            loaded: Loaded::default(),
        }
    }

    pub(crate) fn loaded_mut(&mut self) -> &mut Loaded {
        &mut self.loaded
    }
}

impl<T> Deref for Doc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Shows the id in its string form, `users:1`, as error messages do.
impl<T: Table + fmt::Debug> fmt::Debug for Doc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Doc");
        s.field("id", &format_args!("{}", self.id))
            .field("created_at", &self.created_at);
        if let Some(at) = self.deleted_at {
            s.field("deleted_at", &at);
        }
        s.field("value", &self.value);
        if !self.loaded.is_empty() {
            s.field("loaded", &self.loaded.names());
        }
        s.finish()
    }
}

/// Which rows a read sees, by their soft-deletion state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub(crate) enum Visibility {
    /// Rows not soft-deleted (the default for every read).
    #[default]
    Live,
    /// Every row.
    All,
    /// Soft-deleted rows only.
    Deleted,
}

impl Visibility {
    pub(crate) fn admits(self, deleted: bool) -> bool {
        match self {
            Visibility::Live => !deleted,
            Visibility::All => true,
            Visibility::Deleted => deleted,
        }
    }
}
