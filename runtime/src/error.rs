//! The one error type of the library.

/// What went wrong. Every variant names the table (and column, index or value where there is
/// one) and its message says what to do about it.
///
/// ```
/// use redorm::Error;
/// let e = Error::NotFound { table: "users", id: 7 };
/// assert_eq!(e.to_string(), "table `users` has no row users:7; check the id, or whether the row was deleted");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A write would give two rows the same key in a unique index. Nothing of the write was kept.
    #[error(
        "unique index `{table}.{index}` already holds {value} (row {table}:{existing}); \
         use a different value, or update the existing row instead"
    )]
    Unique {
        /// Table name.
        table: &'static str,
        /// Index name.
        index: &'static str,
        /// The conflicting value, in `Debug` form (a tuple for compound indexes).
        value: String,
        /// The id of the row that already holds the value.
        existing: u64,
    },

    /// The row to change does not exist.
    #[error(
        "table `{table}` has no row {table}:{id}; check the id, or whether the row was deleted"
    )]
    NotFound {
        /// Table name.
        table: &'static str,
        /// The id that was not found.
        id: u64,
    },

    /// Bytes read from the file do not decode. The file was damaged or written by something
    /// other than this schema.
    #[error("corrupt data in table `{table}`{}{}: {detail}; restore the file from a backup",
        .id.map(|id| format!(", row {table}:{id}")).unwrap_or_default(),
        .column.map(|c| format!(", column `{c}`")).unwrap_or_default())]
    Corrupt {
        /// Table (or internal table) name.
        table: String,
        /// Row id, when known.
        id: Option<u64>,
        /// Column name, when known.
        column: Option<&'static str>,
        /// What was wrong.
        detail: String,
    },

    /// A value could not be encoded (for example a `Json` value serde refuses).
    #[error("cannot store column `{table}.{column}`: {detail}")]
    Encode {
        /// Table name.
        table: &'static str,
        /// Column name.
        column: &'static str,
        /// Why.
        detail: String,
    },

    /// A column's type in the struct differs from the type stored in the file.
    #[error(
        "column `{table}.{column}` is stored as `{stored}` but the struct declares `{current}`; \
         existing rows would be misread. Keep the type `{stored}`, or add a new field with the \
         new type (with a #[default]) and copy the data over"
    )]
    ColumnTypeChanged {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// Type name in the file.
        stored: String,
        /// Type name in the struct.
        current: String,
    },

    /// The struct and the stored schema cannot be reconciled, or the schema given to the
    /// builder is invalid.
    #[error("schema of table `{table}`: {message}")]
    Schema {
        /// Table name.
        table: String,
        /// What is wrong and what to do.
        message: String,
    },

    /// A string is not an id of the expected table.
    #[error("`{input}` is not an id of table `{table}`: {reason}")]
    InvalidId {
        /// Expected table.
        table: &'static str,
        /// The string given.
        input: String,
        /// Why it was refused.
        reason: String,
    },

    /// A table was used that was not registered with [`DbBuilder::table`](crate::DbBuilder::table).
    #[error("table `{table}` is not registered; add `.table::<{type_name}>()` to `Db::builder()`")]
    NotRegistered {
        /// Table name.
        table: &'static str,
        /// Rust type name of the struct.
        type_name: &'static str,
    },

    /// Strict mode: the query would read the whole table because no index serves its filter
    /// (or its order). Add the suggested index, or say `.allow_full_scan()`.
    #[error(
        "query on `{table}` needs an index: no index serves {filter}, so it would scan the whole \
         table. {suggestion}; or call `.allow_full_scan()` on the query (or open the database \
         with `.strict(false)`)"
    )]
    IndexRequired {
        /// Table name.
        table: &'static str,
        /// The part of the query no index serves.
        filter: String,
        /// What to do instead, as sentences joined by `; `: the index declaration to add
        /// ("Add `index(by_x = [x])` to the table's #[table(...)] attribute"), and for each
        /// operator no index can serve (`contains`, `ends_with`, `ne`, `not_in`, an `OR`
        /// across columns) what would work.
        suggestion: String,
    },

    /// A pagination cursor that cannot be used with this query.
    #[error("invalid cursor for a query on `{table}`: {reason}")]
    InvalidCursor {
        /// Table name.
        table: &'static str,
        /// Why it was refused.
        reason: String,
    },

    /// A table's rules refuse the operation to this transaction's viewer (or the transaction
    /// has no viewer). Nothing of the operation was written.
    #[error("{operation} on `{table}` denied: {reason}")]
    Denied {
        /// Table name.
        table: &'static str,
        /// `read`, `insert`, `update` or `delete`.
        operation: &'static str,
        /// Which rule refused, and what to do.
        reason: String,
    },

    /// A rule panicked. The transaction's call was refused; nothing of it was written.
    #[error("the {rule} rule of `{table}` panicked: {message}; fix the rule")]
    RulePanicked {
        /// Table name.
        table: &'static str,
        /// `read`, `insert`, `update` or `delete`.
        rule: &'static str,
        /// The panic's message.
        message: String,
    },

    /// A query whose options contradict each other.
    #[error("invalid query on `{table}`: {reason}")]
    InvalidQuery {
        /// Table name.
        table: &'static str,
        /// What is wrong and what to do.
        reason: String,
    },

    /// `first_or_err` found no row.
    #[error("no row of `{table}` matches {filter}")]
    NoMatch {
        /// Table name.
        table: &'static str,
        /// The query's filter.
        filter: String,
    },

    /// `unique` found more than one row.
    #[error(
        "more than one row of `{table}` matches {filter} (rows {table}:{first} and {table}:{second}); narrow the filter, or use first()"
    )]
    NotUnique {
        /// Table name.
        table: &'static str,
        /// The query's filter.
        filter: String,
        /// Id of the first match.
        first: u64,
        /// Id of the second match.
        second: u64,
    },

    /// A foreign key names a row that does not exist (or is soft-deleted).
    #[error(
        "`{table}.{column}` refers to {target}:{target_id}, which does not exist; \
         insert that row first, or point at an existing one"
    )]
    ForeignKey {
        /// Table being written.
        table: &'static str,
        /// Foreign-key column.
        column: &'static str,
        /// Table the key points at.
        target: &'static str,
        /// The missing id.
        target_id: u64,
    },

    /// A required reference read from the file points at a row that does not exist.
    #[error(
        "row {table}:{id} has `{column}` = {target}:{target_id}, which does not exist; \
         the data was changed behind the library's back. Fix or delete row {table}:{id}"
    )]
    DanglingReference {
        /// Table of the referring row.
        table: &'static str,
        /// Id of the referring row.
        id: u64,
        /// Foreign-key column.
        column: &'static str,
        /// Table the key points at.
        target: &'static str,
        /// The missing id.
        target_id: u64,
    },

    /// `with` loads nested deeper than the limit.
    #[error(
        "relation `{relation}` is nested deeper than {max} levels; load the deeper levels separately"
    )]
    DepthExceeded {
        /// The relation at which the limit was passed (`table.relation`).
        relation: String,
        /// The limit.
        max: usize,
    },

    /// One level of a relation load has more distinct keys than allowed.
    #[error(
        "loading `{relation}` needs {keys} distinct keys, more than the limit of {max}; \
         narrow the parent query, call `.allow_fan_out()` on the relation, or raise \
         `Db::builder().fan_out_max_keys(...)`"
    )]
    FanOutExceeded {
        /// The relation (`table.relation`).
        relation: String,
        /// Distinct keys the level needed.
        keys: usize,
        /// The limit.
        max: usize,
    },

    /// A delete was refused because rows still point at the row through a foreign key with
    /// `on_delete = restrict` (the default). Nothing was deleted.
    #[error(
        "cannot delete {table}:{id}: {count} row(s) of `{child_table}` still refer to it through \
         `{child_table}.{column}` (on_delete = restrict); delete or repoint those rows first, or \
         declare `on_delete = cascade` or `set_null` on that foreign key"
    )]
    Restrict {
        /// Table of the row being deleted.
        table: &'static str,
        /// Its id.
        id: u64,
        /// Table of the referring rows.
        child_table: &'static str,
        /// Their foreign-key column.
        column: &'static str,
        /// How many rows refer to it.
        count: usize,
    },

    /// A delete would touch more rows through cascades than `max_cascade_rows` allows. Nothing
    /// was deleted.
    #[error(
        "deleting {table}:{id} would touch more than {max} rows through cascades ({rows} counted \
         so far); use scheduled deletion (`#[table(delete = scheduled(delay = \"...\"))]`), which \
         works in batches, or raise `Db::builder().max_cascade_rows(...)`"
    )]
    CascadeTooLarge {
        /// Table of the row being deleted.
        table: &'static str,
        /// Its id.
        id: u64,
        /// Rows counted when the limit was passed.
        rows: usize,
        /// The limit.
        max: usize,
    },

    /// A hook cancelled the write.
    #[error("cancelled by a hook: {0}")]
    Hook(String),

    /// Writes made by hooks nested deeper than the limit (a hook that triggers itself?).
    #[error(
        "hooks nested deeper than {max} levels; a hook's writes probably trigger the same hook again — use `tx.without_hooks(...)` for those writes"
    )]
    HookDepth {
        /// The limit.
        max: usize,
    },

    /// A storage write failed earlier in this transaction and the error was handled, so what
    /// the transaction wrote may be partial: it was rolled back instead of committed.
    #[error(
        "the transaction was rolled back, not committed: a storage write failed in it earlier ({cause}), so its changes could be partial; run it again"
    )]
    TransactionFailed {
        /// The storage error that failed the write.
        cause: String,
    },

    /// The database file is open in another process, or by another [`Db`](crate::Db) of this
    /// one (redb lets one opener at a time hold a file).
    #[error(
        "`{}` is already open, by another process or another `Db` in this one; close it there, \
         or share one `Db` (it is `Clone`) between the parts of your program", .path.display()
    )]
    AlreadyOpen {
        /// The file.
        path: std::path::PathBuf,
    },

    /// A file to open read-only does not exist.
    #[error("`{}` does not exist; a database opened read-only must exist already", .path.display())]
    FileNotFound {
        /// The file.
        path: std::path::PathBuf,
    },

    /// A change to a database opened with
    /// [`open_read_only`](crate::DbBuilder::open_read_only).
    #[error(
        "{operation} needs to change `{}`, which was opened read-only; open it with \
         `Db::builder().open(..)` to change it", .path.display()
    )]
    ReadOnly {
        /// The file.
        path: std::path::PathBuf,
        /// What was refused.
        operation: &'static str,
    },

    /// An operation that needs the database file to itself ([`Db::compact`](crate::Db::compact),
    /// [`Db::check_file`](crate::Db::check_file)) found transactions open on it.
    #[error(
        "{operation} needs `{}` to itself, but transactions are open on it; drop every `ReadTx`, \
         `WriteTx` and `QueryIter` (and stop the job worker), then call it again", .path.display()
    )]
    Busy {
        /// The file (empty for an in-memory database).
        path: std::path::PathBuf,
        /// The operation.
        operation: &'static str,
    },

    /// [`Db::backup_to`](crate::Db::backup_to) was given a path it may not write.
    #[error("cannot back up to `{}`: {reason}", .path.display())]
    Backup {
        /// The target file.
        path: std::path::PathBuf,
        /// Why, and what to do.
        reason: String,
    },

    /// The operating system's random number generator failed (redorm draws a database's
    /// cursor key from it, and a nonce for every cursor).
    #[error(
        "the operating system's random number generator failed: {detail}; check the system's entropy source and try again"
    )]
    Random {
        /// What failed.
        detail: String,
    },

    /// An operation the database's engine does not offer.
    #[error("{operation} is not available on {engine}")]
    Unsupported {
        /// The operation.
        operation: &'static str,
        /// The engine.
        engine: &'static str,
    },

    /// An error from the storage engine (I/O, a damaged file, a database already open…).
    #[error("storage: {0}")]
    Storage(#[source] StorageError),

    /// A hook (or any code handed a transaction) cancelled the write with an error of its own;
    /// [`Error::cancelled_by`] gets it back typed. Made by [`Error::cancel`].
    #[error("cancelled: {0}")]
    Cancelled(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),

    /// One row of a bulk insert was refused; nothing of the bulk insert was kept.
    #[error("row {position} of the rows inserted into `{table}` was refused: {error}")]
    BatchRow {
        /// Table name.
        table: &'static str,
        /// The row's position in the input, from 0.
        position: usize,
        /// Why it was refused (its value is named there).
        error: Box<Error>,
    },
}

impl Error {
    /// An error for a hook to cancel a write with: `Err(Error::hook("titles may not be empty"))`.
    pub fn hook(message: impl Into<String>) -> Self {
        Error::Hook(message.into())
    }

    /// An error that cancels a write with an error of the application's own, kept typed:
    /// [`cancelled_by`](Error::cancelled_by) gets it back, and it is the error's
    /// [`source`](std::error::Error::source).
    ///
    /// ```
    /// use redorm::Error;
    /// #[derive(Debug, PartialEq)]
    /// struct OverQuota { used: u64 }
    /// impl std::fmt::Display for OverQuota {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         write!(f, "over quota ({} bytes)", self.used)
    ///     }
    /// }
    /// impl std::error::Error for OverQuota {}
    ///
    /// let err = Error::cancel(OverQuota { used: 12 });
    /// assert_eq!(err.to_string(), "cancelled: over quota (12 bytes)");
    /// assert_eq!(err.cancelled_by::<OverQuota>(), Some(&OverQuota { used: 12 }));
    /// ```
    pub fn cancel(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Cancelled(Box::new(error))
    }

    /// The application's error this one carries, if it was made by [`Error::cancel`] with an
    /// `E` (looking through a [`BatchRow`](Error::BatchRow)).
    pub fn cancelled_by<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            Error::Cancelled(e) => e.downcast_ref::<E>(),
            Error::BatchRow { error, .. } => error.cancelled_by(),
            _ => None,
        }
    }

    /// The error itself, or for a [`BatchRow`](Error::BatchRow) the row's own error.
    pub(crate) fn cause(&self) -> &Error {
        match self {
            Error::BatchRow { error, .. } => error.cause(),
            e => e,
        }
    }

    /// The table and index of a [`Unique`](Error::Unique) violation.
    pub fn unique_index(&self) -> Option<(&'static str, &'static str)> {
        match self.cause() {
            Error::Unique { table, index, .. } => Some((table, index)),
            _ => None,
        }
    }

    /// The table and column of a [`ForeignKey`](Error::ForeignKey) violation.
    pub fn foreign_key(&self) -> Option<(&'static str, &'static str)> {
        match self.cause() {
            Error::ForeignKey { table, column, .. } => Some((table, column)),
            _ => None,
        }
    }

    /// Whether this is [`NotFound`](Error::NotFound).
    pub fn is_not_found(&self) -> bool {
        matches!(self.cause(), Error::NotFound { .. })
    }
}

/// `Result<T, redorm::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from the storage engine, opaque: its message says what happened, and
/// [`source`](std::error::Error::source) gives the engine's own cause where there is one.
pub struct StorageError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl StorageError {
    pub(crate) fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StorageError(Box::new(e))
    }
}

impl std::fmt::Debug for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
