//! Per-table operations the cascade needs, monomorphized so it can walk tables it knows only
//! by position.

use super::WriteTx;
use super::hooks::{DeleteCause, UpdateCause};
use crate::error::Result;
use crate::model::{OnDelete, Table};

/// A soft-delete stamp: when, and the token shared by the rows one delete reached.
pub(crate) type Stamp = (i64, u64);

/// The table-specific operations deletion needs, monomorphized per table so the cascade can
/// walk tables it knows only by position.
#[derive(Clone, Copy)]
pub(crate) struct TableOps {
    pub(crate) remove: fn(&mut WriteTx, u64, &DeleteCause) -> Result<()>,
    pub(crate) set_fk: fn(&mut WriteTx, u64, usize, OnDelete, &'static str, u64) -> Result<()>,
    pub(crate) mark: fn(&mut WriteTx, u64, Option<Stamp>, &UpdateCause) -> Result<()>,
}

impl TableOps {
    pub(crate) fn of<T: Table>() -> Self {
        TableOps {
            remove: |tx, id, cause| tx.remove_one::<T>(id, cause),
            set_fk: |tx, id, column, action, table, parent| {
                tx.set_fk::<T>(id, column, action, table, parent)
            },
            mark: |tx, id, stamp, cause| tx.mark::<T>(id, stamp, cause),
        }
    }
}
