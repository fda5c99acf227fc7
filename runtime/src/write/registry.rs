//! What the builder registers for writes: hooks per table (type-erased here), and per-table
//! operations cascades dispatch to by table position.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use super::cause::{DeleteCause, UpdateCause};
use crate::error::Result;
use crate::model::OnDelete;

/// Hooks of every table, by table type, type-erased: the typed view is `hooks::Hooks<T>`.
#[derive(Default)]
pub(crate) struct HookSet {
    by_type: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl HookSet {
    /// Whether no table has a hook.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_type.is_empty()
    }

    pub(crate) fn get<H: Send + Sync + 'static>(&self, table: TypeId) -> Option<Arc<H>> {
        self.by_type
            .get(&table)
            .and_then(|h| h.clone().downcast::<H>().ok())
    }

    pub(crate) fn edit<H: Clone + Default + Send + Sync + 'static>(
        &mut self,
        table: TypeId,
        f: impl FnOnce(&mut H),
    ) {
        let mut hooks: H = self
            .get::<H>(table)
            .map(|h| (*h).clone())
            .unwrap_or_default();
        f(&mut hooks);
        self.by_type.insert(table, Arc::new(hooks));
    }
}

/// A soft-delete stamp: when, and the token shared by the rows one delete reached.
pub(crate) type Stamp = (i64, u64);

/// The table-specific operations deletion needs, monomorphized per table so the cascade can
/// walk tables it knows only by position.
pub(crate) struct TableOps<Tx> {
    pub(crate) remove: fn(&mut Tx, u64, &DeleteCause) -> Result<()>,
    pub(crate) set_fk: fn(&mut Tx, u64, usize, OnDelete, &'static str, u64) -> Result<()>,
    pub(crate) mark: fn(&mut Tx, u64, Option<Stamp>, &UpdateCause) -> Result<()>,
    /// Inserts a join row holding two ids (column, id each), the rest at defaults.
    pub(crate) insert_link: fn(&mut Tx, usize, u64, usize, u64) -> Result<u64>,
    /// Checks the rules' delete of a row given by id (`unlink`'s join rows).
    pub(crate) guard_delete: fn(&Tx, u64) -> Result<()>,
}

impl<Tx> Clone for TableOps<Tx> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Tx> Copy for TableOps<Tx> {}
