//! Row-level rules: who may read and write which rows of a table, given a viewer of the
//! application's own type.
//!
//! A table's [`Rules`] are registered on the builder. A transaction begins as a viewer
//! ([`Db::read_as`](crate::Db::read_as), [`Db::write_as`](crate::Db::write_as)), as the system
//! (`.skip_rules()`), or as nobody (`db.read()`, `db.write(..)`): a table with rules is never
//! read or written by nobody — that is [`Error::Denied`], so forgetting the viewer fails
//! loudly instead of showing everything.
//!
//! The read rule is a [`Filter`] built from the viewer. It is added (`AND`) to every read of
//! the table, so the planner can use an index for it and a page of `n` is still `n` rows:
//! queries and all their terminals, `get`, `get_by`, `get_many`, relation loading at every
//! depth (a `belongs_to` whose target is hidden reads as `None`), relation filters and
//! relation counts (which then read the related rows instead of index keys alone),
//! many-to-many through the join table (whose own rule applies too). Cursors are bound to the
//! query including the rule, so one viewer's cursor is refused for another.

use std::any::{Any, type_name};
use std::collections::HashMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::filter::{Env, Expr, Filter};
use crate::error::{Error, Result};
use crate::model::{Doc, Table};

type ReadRule<T, V> = Arc<dyn Fn(&V) -> Filter<T> + Send + Sync>;
type InsertRule<T, V> = Arc<dyn Fn(&V, &T) -> bool + Send + Sync>;
type UpdateRule<T, V> = Arc<dyn Fn(&V, &Doc<T>, &T) -> bool + Send + Sync>;
type DeleteRule<T, V> = Arc<dyn Fn(&V, &Doc<T>) -> bool + Send + Sync>;

/// The rules of table `T` for viewers of type `V`, registered with
/// [`DbBuilder::rules`](crate::DbBuilder::rules). Each kind may be given several times: all
/// of them must allow (they combine with `AND`). A kind not given allows everything to a
/// viewer (and nothing to nobody).
///
/// ```
/// use redorm::prelude::*;
/// use redorm::{Error, Rules};
///
/// #[derive(Clone)]
/// struct Viewer { user: Id<User> }
///
/// #[derive(Table, Debug, Clone)]
/// struct User { name: String }
///
/// #[derive(Table, Debug, Clone)]
/// #[table(name = "notes", index(by_author = [author_id]))]
/// struct Note {
///     #[belongs_to(author, User, on_delete = cascade)]
///     author_id: Id<User>,
///     text: String,
/// }
///
/// # fn main() -> Result<(), redorm::Error> {
/// let db = Db::builder()
///     .table::<User>()
///     .table::<Note>()
///     .rules(
///         Rules::<Note, Viewer>::new()
///             .read(|v| Note::author_id().eq(v.user))
///             .insert(|v, note| note.author_id == v.user),
///     )
///     .in_memory()?;
/// let (ann, bob) = db.write(|tx| {
///     tx.skip_rules();
///     let ann = tx.insert(User { name: "ann".into() })?;
///     let bob = tx.insert(User { name: "bob".into() })?;
///     tx.insert(Note { author_id: ann, text: "ann's".into() })?;
///     Ok((ann, bob))
/// })?;
/// let as_bob = Viewer { user: bob };
/// db.write_as(&as_bob, |tx| tx.insert(Note { author_id: bob, text: "bob's".into() }).map(drop))?;
/// // bob sees his note only, through every read.
/// let tx = db.read_as(&as_bob)?;
/// let texts: Vec<String> = tx.query::<Note>().all()?.into_iter().map(|n| n.text.clone()).collect();
/// assert_eq!(texts, ["bob's"]);
/// assert_eq!(tx.query::<Note>().count()?, 1);
/// // Writing as someone else is denied, and nothing is written.
/// let err = db.write_as(&as_bob, |tx| tx.insert(Note { author_id: ann, text: "forged".into() }));
/// assert!(matches!(err, Err(Error::Denied { table: "notes", operation: "insert", .. })));
/// // Without a viewer, a table with rules is not read at all.
/// assert!(matches!(db.read()?.query::<Note>().all(), Err(Error::Denied { .. })));
/// assert_eq!(db.read()?.skip_rules().query::<Note>().count()?, 2);
/// # Ok(()) }
/// ```
pub struct Rules<T, V> {
    read: Vec<ReadRule<T, V>>,
    insert: Vec<InsertRule<T, V>>,
    update: Vec<UpdateRule<T, V>>,
    delete: Vec<DeleteRule<T, V>>,
}

impl<T, V> fmt::Debug for Rules<T, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rules")
            .field("read", &self.read.len())
            .field("insert", &self.insert.len())
            .field("update", &self.update.len())
            .field("delete", &self.delete.len())
            .finish()
    }
}

impl<T: Table, V: Send + Sync + 'static> Default for Rules<T, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Table, V: Send + Sync + 'static> Rules<T, V> {
    /// No rules yet: a viewer may do everything, nobody nothing.
    pub fn new() -> Self {
        Rules {
            read: Vec::new(),
            insert: Vec::new(),
            update: Vec::new(),
            delete: Vec::new(),
        }
    }

    /// The rows a viewer may see, as a filter (indexes serve it like any other filter).
    pub fn read(mut self, rule: impl Fn(&V) -> Filter<T> + Send + Sync + 'static) -> Self {
        self.read.push(Arc::new(rule));
        self
    }

    /// Whether a viewer may insert this row (also checked for the insert of an upsert).
    pub fn insert(mut self, rule: impl Fn(&V, &T) -> bool + Send + Sync + 'static) -> Self {
        self.insert.push(Arc::new(rule));
        self
    }

    /// Whether a viewer may change row `old` to `new` (check both, so no row moves out of
    /// what the viewer may write). The row must also be one the viewer may read.
    pub fn update(
        mut self,
        rule: impl Fn(&V, &Doc<T>, &T) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.update.push(Arc::new(rule));
        self
    }

    /// Whether a viewer may delete this row (the root of the delete; what its foreign keys
    /// cascade to is the schema's decision, not the viewer's). The row must also be one the
    /// viewer may read.
    pub fn delete(mut self, rule: impl Fn(&V, &Doc<T>) -> bool + Send + Sync + 'static) -> Self {
        self.delete.push(Arc::new(rule));
        self
    }
}

/// A write a rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteOp {
    Insert,
    Update,
    Delete,
}

impl WriteOp {
    pub(crate) fn name(self) -> &'static str {
        match self {
            WriteOp::Insert => "insert",
            WriteOp::Update => "update",
            WriteOp::Delete => "delete",
        }
    }
}

/// One table's rules with the row and viewer types erased.
pub(crate) trait TableRules: Send + Sync {
    fn viewer_type(&self) -> &'static str;
    fn accepts(&self, viewer: &dyn Any) -> bool;
    /// The read filter for `viewer` (`None`: no read rule).
    fn read_filter(&self, viewer: &dyn Any) -> Result<Option<Expr>>;
    /// Whether the write is allowed; `old` is a `Doc<T>`, `new` a `T`.
    fn allows(
        &self,
        viewer: &dyn Any,
        op: WriteOp,
        old: Option<&dyn Any>,
        new: Option<&dyn Any>,
    ) -> Result<bool>;
}

/// Runs a rule, turning a panic into an error naming the table and the rule.
fn guarded<R>(table: &'static str, rule: &'static str, f: impl FnOnce() -> R) -> Result<R> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        Error::RulePanicked {
            table,
            rule,
            message,
        }
    })
}

impl<T: Table, V: Send + Sync + 'static> TableRules for Rules<T, V> {
    fn viewer_type(&self) -> &'static str {
        type_name::<V>()
    }

    fn accepts(&self, viewer: &dyn Any) -> bool {
        viewer.is::<V>()
    }

    fn read_filter(&self, viewer: &dyn Any) -> Result<Option<Expr>> {
        let Some(v) = viewer.downcast_ref::<V>() else {
            return Err(wrong_viewer(T::NAME, type_name::<V>()));
        };
        let mut out: Option<Expr> = None;
        for rule in &self.read {
            let f = guarded(T::NAME, "read", || rule(v))?;
            out = Some(Expr::conjoin(out, f.expr));
        }
        Ok(out)
    }

    fn allows(
        &self,
        viewer: &dyn Any,
        op: WriteOp,
        old: Option<&dyn Any>,
        new: Option<&dyn Any>,
    ) -> Result<bool> {
        let Some(v) = viewer.downcast_ref::<V>() else {
            return Err(wrong_viewer(T::NAME, type_name::<V>()));
        };
        let old = old.and_then(|o| o.downcast_ref::<Doc<T>>());
        let new = new.and_then(|n| n.downcast_ref::<T>());
        let rule = op.name();
        let all = match (op, old, new) {
            (WriteOp::Insert, _, Some(new)) => self.insert.iter().try_fold(true, |ok, r| {
                Ok::<_, Error>(ok && guarded(T::NAME, rule, || r(v, new))?)
            })?,
            (WriteOp::Update, Some(old), Some(new)) => {
                self.update.iter().try_fold(true, |ok, r| {
                    Ok::<_, Error>(ok && guarded(T::NAME, rule, || r(v, old, new))?)
                })?
            }
            (WriteOp::Delete, Some(old), _) => self.delete.iter().try_fold(true, |ok, r| {
                Ok::<_, Error>(ok && guarded(T::NAME, rule, || r(v, old))?)
            })?,
            _ => false,
        };
        Ok(all)
    }
}

fn wrong_viewer(table: &'static str, expected: &'static str) -> Error {
    Error::Denied {
        table,
        operation: "read",
        reason: format!(
            "the rules of `{table}` take a viewer of type `{expected}`; begin the transaction \
             with db.read_as(&viewer) / db.write_as(&viewer, ..) given that type"
        ),
    }
}

/// Every table's rules, by table name.
#[derive(Default)]
pub(crate) struct RuleSet {
    pub(crate) tables: HashMap<&'static str, Arc<dyn TableRules>>,
}

impl RuleSet {
    pub(crate) fn add<T: Table, V: Send + Sync + 'static>(&mut self, rules: Rules<T, V>) {
        self.tables.insert(T::NAME, Arc::new(rules));
    }
}

#[derive(Clone)]
enum Who {
    /// No viewer: tables with rules are refused.
    Nobody,
    /// System work: rules do not apply.
    System,
    Viewer(Arc<dyn Any + Send + Sync>),
}

/// Who a transaction reads and writes as, and the read filters that follow from it.
#[derive(Clone)]
pub(crate) struct Viewing {
    rules: Arc<RuleSet>,
    who: Who,
    /// The read filter of each table with rules, for this viewer.
    read: Arc<HashMap<&'static str, Option<Expr>>>,
}

impl Viewing {
    /// Nobody: what `db.read()` and `db.write(..)` begin as.
    pub(crate) fn nobody(rules: Arc<RuleSet>) -> Self {
        Viewing {
            rules,
            who: Who::Nobody,
            read: Arc::default(),
        }
    }

    /// The system: rules do not apply (jobs, `skip_rules()`).
    pub(crate) fn system(rules: Arc<RuleSet>) -> Self {
        Viewing {
            rules,
            who: Who::System,
            read: Arc::default(),
        }
    }

    /// `viewer`: every table's read rule is built from it now, once per transaction.
    pub(crate) fn viewer<V: Send + Sync + 'static>(rules: Arc<RuleSet>, viewer: V) -> Result<Self> {
        let mut read = HashMap::with_capacity(rules.tables.len());
        for (&table, r) in &rules.tables {
            if !r.accepts(&viewer) {
                return Err(Error::Denied {
                    table,
                    operation: "read",
                    reason: format!(
                        "the rules of `{table}` take a viewer of type `{}`, not `{}`",
                        r.viewer_type(),
                        type_name::<V>()
                    ),
                });
            }
            read.insert(table, r.read_filter(&viewer)?);
        }
        Ok(Viewing {
            rules,
            who: Who::Viewer(Arc::new(viewer)),
            read: Arc::new(read),
        })
    }

    /// The viewer, if the transaction has one of type `V`.
    pub(crate) fn viewer_of<V: 'static>(&self) -> Option<&V> {
        match &self.who {
            Who::Viewer(v) => v.downcast_ref::<V>(),
            Who::Nobody | Who::System => None,
        }
    }

    /// The same rules, as the system.
    pub(crate) fn as_system(&self) -> Self {
        Viewing::system(self.rules.clone())
    }

    /// Whether writes of `table` are checked: it has rules and this is not the system.
    pub(crate) fn guards(&self, table: &str) -> bool {
        !matches!(self.who, Who::System) && self.rules.tables.contains_key(table)
    }

    /// Whether reads of `table` are narrowed by a rule (so index keys alone cannot count or
    /// find its rows).
    pub(crate) fn narrows(&self, table: &str) -> bool {
        match self.who {
            Who::System => false,
            Who::Nobody => self.rules.tables.contains_key(table),
            Who::Viewer(_) => self.read.get(table).is_some_and(Option::is_some),
        }
    }

    fn nobody_error(table: &'static str, operation: &'static str) -> Error {
        Error::Denied {
            table,
            operation,
            reason: format!(
                "`{table}` has rules and this transaction has no viewer; begin it with \
                 db.read_as(&viewer) / db.write_as(&viewer, ..), or say .skip_rules() for \
                 system work"
            ),
        }
    }

    /// The read rule of `table` for this transaction: `None` when nothing narrows it;
    /// [`Error::Denied`] for a table with rules read by nobody.
    pub(crate) fn read_rule(&self, table: &'static str) -> Result<Option<&Expr>> {
        match self.who {
            Who::System => Ok(None),
            Who::Nobody if self.rules.tables.contains_key(table) => {
                Err(Self::nobody_error(table, "read"))
            }
            Who::Nobody => Ok(None),
            Who::Viewer(_) => Ok(self.read.get(table).and_then(Option::as_ref)),
        }
    }

    /// Whether the viewer may see `doc`.
    pub(crate) fn visible<T: Table>(&self, doc: &Doc<T>, env: &mut Env<'_>) -> Result<bool> {
        match self.read_rule(T::NAME)? {
            None => Ok(true),
            Some(rule) => rule.eval(doc, env),
        }
    }

    /// Checks a write of table `T` against its rule: [`Error::Denied`] when refused.
    pub(crate) fn check_write<T: Table>(
        &self,
        op: WriteOp,
        old: Option<&Doc<T>>,
        new: Option<&T>,
    ) -> Result<()> {
        let Some(rules) = self.rules.tables.get(T::NAME) else {
            return Ok(());
        };
        let viewer = match &self.who {
            Who::System => return Ok(()),
            Who::Nobody => return Err(Self::nobody_error(T::NAME, op.name())),
            Who::Viewer(v) => v,
        };
        let old_any = old.map(|d| d as &dyn Any);
        let new_any = new.map(|n| n as &dyn Any);
        if rules.allows(&**viewer, op, old_any, new_any)? {
            return Ok(());
        }
        Err(Error::Denied {
            table: T::NAME,
            operation: op.name(),
            reason: match old {
                Some(d) => format!("the {} rule refuses row {}", op.name(), d.id),
                None => format!("the {} rule refuses the row", op.name()),
            },
        })
    }
}
