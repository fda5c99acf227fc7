//! Why a row changes, as hooks and cascades see it.

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
