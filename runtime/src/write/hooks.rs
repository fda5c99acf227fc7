//! Write hooks: code registered per table on the builder that runs inside the writing
//! transaction.
//!
//! | hook | runs | may |
//! |---|---|---|
//! | `before_insert` | before a row is inserted | change the value, or cancel with an error |
//! | `after_insert` | after it was inserted | write more, or cancel |
//! | `before_update` | before a row is rewritten (patch, replace, update, a soft delete, an undelete, an `on_delete` action) | change the new value, or cancel |
//! | `after_update` | after it was rewritten, with the old and new row | write more, or cancel |
//! | `before_delete` | before a row is removed (directly, by a cascade, or by a scheduled job) | cancel |
//! | `after_delete` | after it was removed, in the order rows are removed | write more, or cancel |
//!
//! A hook returns `Result<(), Error>`; an error aborts the write and, through `?`, the
//! transaction ([`Error::hook`](crate::Error::hook) makes one with a message). Writes a hook makes run their own
//! hooks, down to a depth of [`MAX_HOOK_DEPTH`], past which the write fails with
//! [`Error::HookDepth`](crate::Error::HookDepth). [`WriteTx::without_hooks`] runs writes with hooks off.
//!
//! A soft delete is an update to hooks, with [`UpdateCause::SoftDelete`]; what caused a delete
//! is the [`DeleteCause`].
//!
//! ```
//! use redorm::prelude::*;
//! use redorm::{DeleteCause, Error};
//! use std::sync::{Arc, Mutex};
//!
//! #[derive(Table, Debug, Clone)]
//! struct Note { text: String }
//!
//! # fn main() -> Result<(), Error> {
//! let log = Arc::new(Mutex::new(Vec::new()));
//! let seen = log.clone();
//! let db = Db::builder()
//!     .table::<Note>()
//!     .before_insert::<Note>(|_tx, note| {
//!         if note.text.is_empty() {
//!             return Err(Error::hook("a note needs text"));
//!         }
//!         note.text = note.text.trim().to_string();
//!         Ok(())
//!     })
//!     .after_delete::<Note>(move |_tx, doc, cause| {
//!         seen.lock().unwrap().push((doc.text.clone(), cause.clone()));
//!         Ok(())
//!     })
//!     .in_memory()?;
//! let id = db.write(|tx| tx.insert(Note { text: "  hi ".into() }))?;
//! assert_eq!(db.read()?.get(id)?.unwrap().text, "hi");
//! assert!(db.write(|tx| tx.insert(Note { text: String::new() })).is_err());
//! db.write(|tx| tx.delete(id))?;
//! assert_eq!(*log.lock().unwrap(), vec![("hi".to_string(), DeleteCause::Direct)]);
//! # Ok(()) }
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Result;
use crate::model::Doc;
use crate::write::WriteTx;

/// How deep writes made by hooks may nest.
pub const MAX_HOOK_DEPTH: usize = 8;

/// Why a row is being rewritten, as `before_update`/`after_update` see it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateCause {
    /// `patch`, `replace` or `update`.
    Write,
    /// The row is being soft-deleted (`deleted_at` set), directly or by a soft cascade from
    /// the given parent.
    SoftDelete {
        /// The row whose soft delete reached this one, for a cascade.
        cascade_from: Option<(&'static str, u64)>,
    },
    /// The row is being restored by `undelete`.
    Undelete,
    /// A foreign key of the row is being set to `None` or its default because the row it
    /// pointed at is being deleted (`on_delete = set_null | set_default`).
    ForeignKeyAction {
        /// Table of the deleted row.
        parent_table: &'static str,
        /// Id of the deleted row.
        parent_id: u64,
    },
}

/// Why a row is being removed, as `before_delete`/`after_delete` see it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeleteCause {
    /// `delete`, `hard_delete` or `delete_many` named this row.
    Direct,
    /// An `on_delete = cascade` from the given row.
    Cascade {
        /// Table of the row whose deletion cascaded here.
        parent_table: &'static str,
        /// Its id.
        parent_id: u64,
    },
    /// A scheduled deletion's job is purging the row (or a row below it).
    Scheduled,
}

type BeforeInsert<T> = Arc<dyn Fn(&mut WriteTx, &mut T) -> Result<()> + Send + Sync>;
type AfterInsert<T> = Arc<dyn Fn(&mut WriteTx, &Doc<T>) -> Result<()> + Send + Sync>;
type BeforeUpdate<T> =
    Arc<dyn Fn(&mut WriteTx, &Doc<T>, &mut T, &UpdateCause) -> Result<()> + Send + Sync>;
type AfterUpdate<T> =
    Arc<dyn Fn(&mut WriteTx, &Doc<T>, &Doc<T>, &UpdateCause) -> Result<()> + Send + Sync>;
type OnDeleteHook<T> = Arc<dyn Fn(&mut WriteTx, &Doc<T>, &DeleteCause) -> Result<()> + Send + Sync>;

/// The hooks of one table.
pub(crate) struct Hooks<T> {
    pub(crate) before_insert: Vec<BeforeInsert<T>>,
    pub(crate) after_insert: Vec<AfterInsert<T>>,
    pub(crate) before_update: Vec<BeforeUpdate<T>>,
    pub(crate) after_update: Vec<AfterUpdate<T>>,
    pub(crate) before_delete: Vec<OnDeleteHook<T>>,
    pub(crate) after_delete: Vec<OnDeleteHook<T>>,
}

impl<T> Default for Hooks<T> {
    fn default() -> Self {
        Hooks {
            before_insert: Vec::new(),
            after_insert: Vec::new(),
            before_update: Vec::new(),
            after_update: Vec::new(),
            before_delete: Vec::new(),
            after_delete: Vec::new(),
        }
    }
}

impl<T> Clone for Hooks<T> {
    fn clone(&self) -> Self {
        Hooks {
            before_insert: self.before_insert.clone(),
            after_insert: self.after_insert.clone(),
            before_update: self.before_update.clone(),
            after_update: self.after_update.clone(),
            before_delete: self.before_delete.clone(),
            after_delete: self.after_delete.clone(),
        }
    }
}

/// Hooks of every table, by type.
#[derive(Default)]
pub(crate) struct HookSet {
    by_type: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl HookSet {
    pub(crate) fn get<T: 'static>(&self) -> Option<Arc<Hooks<T>>> {
        self.by_type
            .get(&TypeId::of::<T>())
            .and_then(|h| h.clone().downcast::<Hooks<T>>().ok())
    }

    pub(crate) fn edit<T: Send + Sync + 'static>(&mut self, f: impl FnOnce(&mut Hooks<T>)) {
        let mut hooks: Hooks<T> = self.get::<T>().map(|h| (*h).clone()).unwrap_or_default();
        f(&mut hooks);
        self.by_type.insert(TypeId::of::<T>(), Arc::new(hooks));
    }
}
