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
//! A hook returns `Result<(), Error>`; an error cancels the whole call that ran it — the
//! write, its cascades, and whatever other hooks wrote for it are undone — and, through `?`,
//! usually the transaction ([`Error::hook`](crate::Error::hook) makes one with a message). A
//! caller that handles the error instead goes on from where it was before the call. Writes a hook makes run their own
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

use std::any::TypeId;
use std::sync::Arc;

pub use super::cause::{DeleteCause, UpdateCause};
use super::registry::HookSet;
use super::tx::WriteTx;
use crate::error::{Error, Result};
use crate::model::{Doc, Table};

/// How deep writes made by hooks may nest.
pub const MAX_HOOK_DEPTH: usize = 8;

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

/// The hooks registered for table `T`.
pub(crate) fn of<T: Table>(set: &HookSet) -> Option<Arc<Hooks<T>>> {
    set.get::<Hooks<T>>(TypeId::of::<T>())
}

/// Changes the hooks registered for table `T`.
pub(crate) fn edit<T: Table>(set: &mut HookSet, f: impl FnOnce(&mut Hooks<T>)) {
    set.edit::<Hooks<T>>(TypeId::of::<T>(), f);
}

impl WriteTx {
    /// The hooks of `T` to run now (`None` when hooks are off).
    pub(crate) fn hooks<T: Table>(&self) -> Option<Arc<Hooks<T>>> {
        if self.hooks_on {
            of::<T>(&self.setup.hooks)
        } else {
            None
        }
    }

    /// Runs `f` one hook level deeper.
    pub(crate) fn nested<R>(&mut self, f: impl FnOnce(&mut WriteTx) -> Result<R>) -> Result<R> {
        if self.hook_depth >= MAX_HOOK_DEPTH {
            return Err(Error::HookDepth {
                max: MAX_HOOK_DEPTH,
            });
        }
        self.hook_depth += 1;
        let out = f(self);
        self.hook_depth -= 1;
        out
    }
}
