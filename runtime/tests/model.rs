//! Model-based test: random operation sequences over five related tables, compared after every
//! step with a plain-Rust model of the documented semantics.
//!
//! The schema has every delete mode (`orgs` scheduled, `users` soft, the rest hard), a
//! self-relation (`users.manager_id`, `set_null`), `cascade`, `set_null` and `restrict` keys,
//! soft cascades into hard tables, a join table with a unique pair, and released and held unique
//! indexes. Operations: inserts, patches and bulk updates (valid and refused: unique clashes,
//! foreign keys to missing or soft-deleted rows), delete / hard_delete / undelete on every
//! table, delete_many, clock moves and due jobs, and transactions of several operations where
//! some are refused and the transaction goes on (then commits or rolls back as a whole).
//!
//! After every operation the database (inside the open transaction too) is compared with the
//! model: every row with its system fields in each visibility, counts, `get_many`, `get_by` on
//! every unique index, filters on indexed columns, relation loads (`has_many`, `belongs_to`,
//! `many_to_many`, nested and per-parent ordered), every page of ordered paginated queries; and
//! after each committed step the stored jobs and `Db::check_integrity`. A refused operation is
//! compared by its error (variant and fields).
//!
//! Why it is one file of more than 600 lines: the model *is* the documented semantics of
//! writing and deleting (ids, unique and foreign-key checks, restrict/cascade/set_null plans,
//! soft-delete groups, undelete, scheduled purges); split up, no part of it could be read or
//! checked on its own.
//!
//! `PROPTEST_CASES` runs more (or fewer) cases per engine; the default runs
//! [`CASES_PER_ENGINE`] cases of 50 to 150 steps on each of the two engines.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::Mutex;
use std::time::Duration;

mod common;

use common::{Engine, OpenOn, engines};
use proptest::prelude::*;
use proptest::strategy::Union;
use redorm::prelude::*;
use redorm::{Cursor, Error, KeyArg, ManualClock, Query, ReadTx, UniqueIndex, WriteTx};
use rstest_reuse::apply;

// ---- the schema ----------------------------------------------------------------------------

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "orgs", delete = scheduled(delay = "1h"))]
#[has_many(users, User, by = org_id)]
struct Org {
    #[unique]
    name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", delete = soft)]
#[has_many(posts, Post, by = author_id)]
#[has_many(reports, User, by = manager_id)]
struct User {
    #[unique]
    email: String,
    #[unique]
    handle: Option<String>,
    #[index]
    age: u8,
    #[belongs_to(org, Org, on_delete = cascade, on_soft_delete = cascade)]
    org_id: Id<Org>,
    #[belongs_to(manager, User, on_delete = set_null)]
    manager_id: Option<Id<User>>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", index(by_author_score = [author_id, score]))]
#[many_to_many(tags, Tag, through = PostTag, from = post_id, to = tag_id)]
struct Post {
    #[belongs_to(author, User, on_delete = cascade, on_soft_delete = cascade)]
    author_id: Id<User>,
    #[belongs_to(editor, User, on_delete = set_null)]
    editor_id: Option<Id<User>>,
    #[index]
    score: i32,
    title: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "tags")]
#[many_to_many(posts, Post, through = PostTag, from = tag_id, to = post_id)]
struct Tag {
    #[unique]
    name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "post_tags", unique(by_pair = [post_id, tag_id]))]
struct PostTag {
    #[belongs_to(post, Post, on_delete = cascade, on_soft_delete = cascade)]
    post_id: Id<Post>,
    #[belongs_to(tag, Tag)] // on_delete = restrict
    tag_id: Id<Tag>,
}

const DELAY_MS: i64 = 3_600_000;
const MAX_CASCADE: usize = 16;
const START_MS: i64 = 1_000_000;
const CASES_PER_ENGINE: u32 = 56;

fn open(engine: Engine, clock: &ManualClock) -> Db {
    Db::builder()
        .table::<Org>()
        .table::<User>()
        .table::<Post>()
        .table::<Tag>()
        .table::<PostTag>()
        .clock(clock.clone())
        .job_batch_rows(3)
        .max_cascade_rows(MAX_CASCADE)
        .release_on_soft_delete(Org::by_name())
        .release_on_soft_delete(User::by_handle())
        .open_on(engine)
}

// ---- the schema as the model sees it -------------------------------------------------------

/// A table, in registration order (the order `on_delete` plans visit referencing tables in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Tab {
    Org,
    User,
    Post,
    Tag,
    PostTag,
}

/// A foreign key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fk {
    UserOrg,
    UserManager,
    PostAuthor,
    PostEditor,
    PtPost,
    PtTag,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Cascade,
    SetNull,
    Restrict,
}

impl Tab {
    fn name(self) -> &'static str {
        match self {
            Tab::Org => "orgs",
            Tab::User => "users",
            Tab::Post => "posts",
            Tab::Tag => "tags",
            Tab::PostTag => "post_tags",
        }
    }
    /// Foreign keys pointing at this table: child tables in registration order, each one's
    /// keys in field order.
    fn referenced_by(self) -> &'static [Fk] {
        match self {
            Tab::Org => &[Fk::UserOrg],
            Tab::User => &[Fk::UserManager, Fk::PostAuthor, Fk::PostEditor],
            Tab::Post => &[Fk::PtPost],
            Tab::Tag => &[Fk::PtTag],
            Tab::PostTag => &[],
        }
    }
}

impl Fk {
    fn child(self) -> Tab {
        match self {
            Fk::UserOrg | Fk::UserManager => Tab::User,
            Fk::PostAuthor | Fk::PostEditor => Tab::Post,
            Fk::PtPost | Fk::PtTag => Tab::PostTag,
        }
    }
    fn parent(self) -> Tab {
        match self {
            Fk::UserOrg => Tab::Org,
            Fk::UserManager | Fk::PostAuthor | Fk::PostEditor => Tab::User,
            Fk::PtPost => Tab::Post,
            Fk::PtTag => Tab::Tag,
        }
    }
    fn column(self) -> &'static str {
        match self {
            Fk::UserOrg => "org_id",
            Fk::UserManager => "manager_id",
            Fk::PostAuthor => "author_id",
            Fk::PostEditor => "editor_id",
            Fk::PtPost => "post_id",
            Fk::PtTag => "tag_id",
        }
    }
    fn action(self) -> Action {
        match self {
            Fk::UserOrg | Fk::PostAuthor | Fk::PtPost => Action::Cascade,
            Fk::UserManager | Fk::PostEditor => Action::SetNull,
            Fk::PtTag => Action::Restrict,
        }
    }
    fn soft_cascade(self) -> bool {
        matches!(self, Fk::UserOrg | Fk::PostAuthor | Fk::PtPost)
    }
}

/// A row's value, whatever its table.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Org(Org),
    User(User),
    Post(Post),
    Tag(Tag),
    PostTag(PostTag),
}

/// A unique index entry of a row: index name, the key as the error shows it (`None`: a null
/// key, not checked), and whether soft-deleted rows release it.
type UniqueKey = (&'static str, Option<String>, bool);

impl Val {
    fn tab(&self) -> Tab {
        match self {
            Val::Org(_) => Tab::Org,
            Val::User(_) => Tab::User,
            Val::Post(_) => Tab::Post,
            Val::Tag(_) => Tab::Tag,
            Val::PostTag(_) => Tab::PostTag,
        }
    }
    /// Foreign keys in field order.
    fn fks(&self) -> Vec<(Fk, Option<u64>)> {
        match self {
            Val::Org(_) | Val::Tag(_) => vec![],
            Val::User(u) => vec![
                (Fk::UserOrg, Some(u.org_id.get())),
                (Fk::UserManager, u.manager_id.map(|i| i.get())),
            ],
            Val::Post(p) => vec![
                (Fk::PostAuthor, Some(p.author_id.get())),
                (Fk::PostEditor, p.editor_id.map(|i| i.get())),
            ],
            Val::PostTag(j) => vec![
                (Fk::PtPost, Some(j.post_id.get())),
                (Fk::PtTag, Some(j.tag_id.get())),
            ],
        }
    }
    fn fk(&self, fk: Fk) -> Option<u64> {
        self.fks().into_iter().find(|(f, _)| *f == fk)?.1
    }
    /// Unique indexes in schema order.
    fn uniques(&self) -> Vec<UniqueKey> {
        match self {
            Val::Org(o) => vec![("by_name", Some(format!("{:?}", o.name)), true)],
            Val::User(u) => vec![
                ("by_email", Some(format!("{:?}", u.email)), false),
                (
                    "by_handle",
                    u.handle.as_ref().map(|_| format!("{:?}", u.handle)),
                    true,
                ),
            ],
            Val::Post(_) => vec![],
            Val::Tag(t) => vec![("by_name", Some(format!("{:?}", t.name)), false)],
            Val::PostTag(j) => vec![(
                "by_pair",
                Some(format!("({:?}, {:?})", j.post_id, j.tag_id)),
                false,
            )],
        }
    }
    /// `on_delete = set_null`.
    fn clear(&mut self, fk: Fk) {
        match (self, fk) {
            (Val::User(u), Fk::UserManager) => u.manager_id = None,
            (Val::Post(p), Fk::PostEditor) => p.editor_id = None,
            (v, fk) => panic!("{fk:?} is not a set_null key of {v:?}"),
        }
    }
}

/// A registered table as the model reads it back.
trait Shape: Table + Clone + PartialEq + Debug {
    const TAB: Tab;
    fn of(v: &Val) -> &Self;
}

macro_rules! shape {
    ($t:ident) => {
        impl Shape for $t {
            const TAB: Tab = Tab::$t;
            fn of(v: &Val) -> &Self {
                match v {
                    Val::$t(x) => x,
                    other => panic!("not a {}: {other:?}", stringify!($t)),
                }
            }
        }
    };
}
shape!(Org);
shape!(User);
shape!(Post);
shape!(Tag);
shape!(PostTag);

// ---- the model -----------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Row {
    created: i64,
    /// The soft-delete stamp: (when, token).
    deleted: Option<(i64, u64)>,
    val: Val,
}

#[derive(Clone, Debug)]
struct Job {
    due: i64,
    seq: u64,
    org: u64,
    token: u64,
}

/// A refused operation, as the library reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    Unique {
        table: &'static str,
        index: &'static str,
        value: String,
        existing: u64,
    },
    NotFound {
        table: &'static str,
        id: u64,
    },
    ForeignKey {
        table: &'static str,
        column: &'static str,
        target: &'static str,
        target_id: u64,
    },
    Restrict {
        table: &'static str,
        id: u64,
        child_table: &'static str,
        column: &'static str,
        count: usize,
    },
    TooLarge {
        table: &'static str,
        id: u64,
        rows: usize,
        max: usize,
    },
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        match e {
            Error::Unique {
                table,
                index,
                value,
                existing,
            } => Refusal::Unique {
                table,
                index,
                value,
                existing,
            },
            Error::NotFound { table, id } => Refusal::NotFound { table, id },
            Error::ForeignKey {
                table,
                column,
                target,
                target_id,
            } => Refusal::ForeignKey {
                table,
                column,
                target,
                target_id,
            },
            Error::Restrict {
                table,
                id,
                child_table,
                column,
                count,
            } => Refusal::Restrict {
                table,
                id,
                child_table,
                column,
                count,
            },
            Error::CascadeTooLarge {
                table,
                id,
                rows,
                max,
            } => Refusal::TooLarge {
                table,
                id,
                rows,
                max,
            },
            other => panic!("an error the model never expects: {other:?}"),
        }
    }
}

impl Refusal {
    fn kind(&self) -> &'static str {
        match self {
            Refusal::Unique { .. } => "Unique",
            Refusal::NotFound { .. } => "NotFound",
            Refusal::ForeignKey { .. } => "ForeignKey",
            Refusal::Restrict { .. } => "Restrict",
            Refusal::TooLarge { .. } => "CascadeTooLarge",
        }
    }
}

/// What an accepted operation returns.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Unit,
    Id(u64),
    N(usize),
}

type Outcome = Result<Out, Refusal>;

/// A hard delete, planned: rows to remove (children first) and set_null rewrites (before
/// dropping those of removed rows, as the library counts them against `max_cascade_rows`).
#[derive(Default)]
struct Plan {
    deletes: Vec<(Tab, u64)>,
    updates: Vec<(Fk, u64)>,
}

#[derive(Debug, Default, PartialEq)]
struct JobsRun {
    completed: usize,
    cancelled: usize,
    rows_deleted: usize,
}

#[derive(Clone, Debug)]
struct Model {
    rows: BTreeMap<(Tab, u64), Row>,
    /// The last id given out, per table.
    last: BTreeMap<Tab, u64>,
    tokens: u64,
    jobs: Vec<Job>,
    job_seq: u64,
    now: i64,
}

#[derive(Clone, Copy, PartialEq)]
enum Vis {
    Live,
    All,
    Deleted,
}

impl Vis {
    fn shows(self, row: &Row) -> bool {
        match self {
            Vis::Live => row.deleted.is_none(),
            Vis::All => true,
            Vis::Deleted => row.deleted.is_some(),
        }
    }
}

impl Model {
    fn new() -> Self {
        Model {
            rows: BTreeMap::new(),
            last: BTreeMap::new(),
            tokens: 0,
            jobs: Vec::new(),
            job_seq: 0,
            now: START_MS,
        }
    }

    fn table(&self, tab: Tab) -> impl Iterator<Item = (u64, &Row)> {
        self.rows
            .range((tab, 0)..=(tab, u64::MAX))
            .map(|(&(_, id), row)| (id, row))
    }
    fn ids(&self, tab: Tab, vis: Vis) -> Vec<u64> {
        self.table(tab)
            .filter(|(_, r)| vis.shows(r))
            .map(|(id, _)| id)
            .collect()
    }
    fn row(&self, tab: Tab, id: u64) -> Option<&Row> {
        self.rows.get(&(tab, id))
    }
    fn live(&self, tab: Tab, id: u64) -> bool {
        self.row(tab, id).is_some_and(|r| r.deleted.is_none())
    }
    fn last(&self, tab: Tab) -> u64 {
        self.last.get(&tab).copied().unwrap_or(0)
    }
    fn typed<T: Shape>(&self, vis: Vis) -> Vec<(u64, &Row, &T)> {
        self.table(T::TAB)
            .filter(|(_, r)| vis.shows(r))
            .map(|(id, r)| (id, r, T::of(&r.val)))
            .collect()
    }
    fn get<T: Shape>(&self, id: u64) -> &T {
        T::of(&self.rows[&(T::TAB, id)].val)
    }
    /// Rows referring to `parent` through `fk`, any visibility, by id.
    fn children(&self, fk: Fk, parent: u64) -> Vec<u64> {
        self.table(fk.child())
            .filter(|(_, r)| r.val.fk(fk) == Some(parent))
            .map(|(id, _)| id)
            .collect()
    }

    /// An id to operate on: mostly a row of visibility `pref`, sometimes any row, sometimes
    /// one that is gone or was never given out.
    fn pick(&self, tab: Tab, sel: u8, pref: Vis) -> u64 {
        let preferred = self.ids(tab, pref);
        let existing = self.ids(tab, Vis::All);
        let from = match sel % 16 {
            15 => return u64::from(sel) % (self.last(tab) + 2) + 1,
            14 => &existing,
            _ if preferred.is_empty() => &existing,
            _ => &preferred,
        };
        if from.is_empty() {
            return u64::from(sel) % (self.last(tab) + 2) + 1;
        }
        from[usize::from(sel / 16) % from.len()]
    }

    /// Runs one operation all-or-nothing, as the library documents every call.
    fn act(&mut self, act: &Act) -> Outcome {
        let mut next = self.clone();
        let out = next.act_inner(act);
        if out.is_ok() {
            *self = next;
        }
        out
    }

    fn act_inner(&mut self, act: &Act) -> Outcome {
        match act {
            Act::Insert(val) => self.insert(val.clone()),
            Act::PatchUser(id, c) => self.patch(Tab::User, *id, |v| match v {
                Val::User(u) => c.apply(u),
                _ => unreachable!(),
            }),
            Act::PatchPost(id, c) => self.patch(Tab::Post, *id, |v| match v {
                Val::Post(p) => c.apply(p),
                _ => unreachable!(),
            }),
            Act::PatchOrg(id, name) => self.patch(Tab::Org, *id, |v| match v {
                Val::Org(o) => o.name.clone_from(name),
                _ => unreachable!(),
            }),
            Act::Delete(tab, id) => self.delete(*tab, *id),
            Act::HardDelete(tab, id) => self.hard_delete(*tab, *id),
            Act::Undelete(tab, id) => self.undelete(*tab, *id),
            Act::UpdateUsers(age, c) => {
                let ids = self.select_users(*age);
                for &id in &ids {
                    self.act_inner(&Act::PatchUser(id, c.clone()))?;
                }
                Ok(Out::N(ids.len()))
            }
            Act::UpdatePosts(below, c) => {
                let ids = self.select_posts(*below);
                for &id in &ids {
                    self.act_inner(&Act::PatchPost(id, c.clone()))?;
                }
                Ok(Out::N(ids.len()))
            }
            Act::DeleteUsers(age) => self.delete_each(Tab::User, self.select_users(*age)),
            Act::DeletePosts(below) => self.delete_each(Tab::Post, self.select_posts(*below)),
        }
    }

    /// Live users of age `age`, in `by_age` index order.
    fn select_users(&self, age: u8) -> Vec<u64> {
        self.typed::<User>(Vis::Live)
            .into_iter()
            .filter(|(_, _, u)| u.age == age)
            .map(|(id, _, _)| id)
            .collect()
    }
    /// Live posts scored below `below`, in `by_score` index order.
    fn select_posts(&self, below: i32) -> Vec<u64> {
        let mut posts: Vec<(i32, u64)> = self
            .typed::<Post>(Vis::Live)
            .into_iter()
            .filter(|(_, _, p)| p.score < below)
            .map(|(id, _, p)| (p.score, id))
            .collect();
        posts.sort();
        posts.into_iter().map(|(_, id)| id).collect()
    }
    /// `delete_many`: each selected row still there (any visibility) is deleted.
    fn delete_each(&mut self, tab: Tab, ids: Vec<u64>) -> Outcome {
        let mut n = 0;
        for id in ids {
            if self.row(tab, id).is_some() {
                self.delete(tab, id)?;
                n += 1;
            }
        }
        Ok(Out::N(n))
    }

    /// The first row (by id) other than `except` holding `key` in unique index `index`,
    /// skipping soft-deleted rows when the index releases them.
    fn unique_holder(
        &self,
        tab: Tab,
        index: &str,
        key: &str,
        released: bool,
        except: Option<u64>,
    ) -> Option<u64> {
        self.table(tab)
            .filter(|(id, r)| Some(*id) != except && !(released && r.deleted.is_some()))
            .find(|(_, r)| {
                r.val
                    .uniques()
                    .iter()
                    .any(|(i, k, _)| *i == index && k.as_deref() == Some(key))
            })
            .map(|(id, _)| id)
    }

    /// Unique keys of `val` that are not null and differ from `old`'s must be free.
    fn check_unique(&self, val: &Val, old: Option<&Val>, except: Option<u64>) -> Outcome {
        let old_keys = old.map(Val::uniques);
        for (pos, (index, key, released)) in val.uniques().into_iter().enumerate() {
            let Some(key) = key else { continue };
            if old_keys
                .as_ref()
                .is_some_and(|o| o[pos].1.as_deref() == Some(key.as_str()))
            {
                continue;
            }
            if let Some(existing) = self.unique_holder(val.tab(), index, &key, released, except) {
                return Err(Refusal::Unique {
                    table: val.tab().name(),
                    index,
                    value: key,
                    existing,
                });
            }
        }
        Ok(Out::Unit)
    }

    /// Foreign keys of `val` that are set and differ from `old`'s must point at live rows.
    fn check_fks(&self, val: &Val, old: Option<&Val>) -> Outcome {
        for (fk, target) in val.fks() {
            let Some(target) = target else { continue };
            if old.is_some_and(|o| o.fk(fk) == Some(target)) {
                continue;
            }
            if !self.live(fk.parent(), target) {
                return Err(Refusal::ForeignKey {
                    table: val.tab().name(),
                    column: fk.column(),
                    target: fk.parent().name(),
                    target_id: target,
                });
            }
        }
        Ok(Out::Unit)
    }

    fn insert(&mut self, val: Val) -> Outcome {
        self.check_unique(&val, None, None)?;
        self.check_fks(&val, None)?;
        let tab = val.tab();
        let id = self.last(tab) + 1;
        self.last.insert(tab, id);
        let row = Row {
            created: self.now,
            deleted: None,
            val,
        };
        self.rows.insert((tab, id), row);
        Ok(Out::Id(id))
    }

    fn patch(&mut self, tab: Tab, id: u64, f: impl FnOnce(&mut Val)) -> Outcome {
        let not_found = Refusal::NotFound {
            table: tab.name(),
            id,
        };
        let old = match self.row(tab, id) {
            Some(r) if r.deleted.is_none() => r.val.clone(),
            _ => return Err(not_found),
        };
        let mut new = old.clone();
        f(&mut new);
        self.check_unique(&new, Some(&old), Some(id))?;
        self.check_fks(&new, Some(&old))?;
        self.rows.get_mut(&(tab, id)).unwrap().val = new;
        Ok(Out::Unit)
    }

    fn delete(&mut self, tab: Tab, id: u64) -> Outcome {
        match tab {
            Tab::Org => self.soft_delete(tab, id, true),
            Tab::User => self.soft_delete(tab, id, false),
            _ => self.hard_delete(tab, id),
        }
    }

    fn hard_delete(&mut self, tab: Tab, id: u64) -> Outcome {
        if self.row(tab, id).is_none() {
            return Err(Refusal::NotFound {
                table: tab.name(),
                id,
            });
        }
        let plan = self.plan(tab, id, Some(MAX_CASCADE))?;
        self.jobs.retain(|j| !(tab == Tab::Org && j.org == id));
        self.apply(&plan);
        Ok(Out::Unit)
    }

    fn plan(&self, tab: Tab, id: u64, max: Option<usize>) -> Result<Plan, Refusal> {
        let mut plan = Plan::default();
        let mut seen = BTreeSet::new();
        self.visit(tab, id, max, &mut plan, &mut seen)
            .map_err(|e| match e {
                // The error names the row deleted, not the one where the count ran over.
                Refusal::TooLarge { rows, max, .. } => Refusal::TooLarge {
                    table: tab.name(),
                    id,
                    rows,
                    max,
                },
                e => e,
            })?;
        Ok(plan)
    }

    fn visit(
        &self,
        tab: Tab,
        id: u64,
        max: Option<usize>,
        plan: &mut Plan,
        seen: &mut BTreeSet<(Tab, u64)>,
    ) -> Result<(), Refusal> {
        if !seen.insert((tab, id)) {
            return Ok(());
        }
        let over = |plan: &Plan| -> Result<(), Refusal> {
            match max {
                Some(max) if plan.deletes.len() + plan.updates.len() > max => {
                    Err(Refusal::TooLarge {
                        table: tab.name(),
                        id,
                        rows: plan.deletes.len() + plan.updates.len(),
                        max,
                    })
                }
                _ => Ok(()),
            }
        };
        for &fk in tab.referenced_by() {
            let kids = self.children(fk, id);
            if kids.is_empty() {
                continue;
            }
            match fk.action() {
                Action::Restrict => {
                    let count = kids
                        .iter()
                        .filter(|c| !seen.contains(&(fk.child(), **c)))
                        .count();
                    if count > 0 {
                        return Err(Refusal::Restrict {
                            table: tab.name(),
                            id,
                            child_table: fk.child().name(),
                            column: fk.column(),
                            count,
                        });
                    }
                }
                Action::Cascade => {
                    for c in kids {
                        self.visit(fk.child(), c, max, plan, seen)?;
                    }
                }
                Action::SetNull => plan.updates.extend(kids.into_iter().map(|c| (fk, c))),
            }
            over(plan)?;
        }
        plan.deletes.push((tab, id));
        over(plan)
    }

    /// Applies a hard-delete plan; returns how many rows outside it had a key cleared.
    fn apply(&mut self, plan: &Plan) -> usize {
        let doomed: BTreeSet<(Tab, u64)> = plan.deletes.iter().copied().collect();
        let mut cleared = 0;
        for &(fk, c) in &plan.updates {
            if !doomed.contains(&(fk.child(), c)) {
                self.rows.get_mut(&(fk.child(), c)).unwrap().val.clear(fk);
                cleared += 1;
            }
        }
        for key in &doomed {
            self.rows.remove(key);
        }
        cleared
    }

    /// Soft delete: a live row and the live rows its soft cascades reach get a new token;
    /// a soft-deleted row and its group (same token) are re-stamped.
    fn soft_delete(&mut self, tab: Tab, id: u64, scheduled: bool) -> Outcome {
        let Some(row) = self.row(tab, id) else {
            return Err(Refusal::NotFound {
                table: tab.name(),
                id,
            });
        };
        let (token, marks) = match row.deleted {
            Some((_, token)) => (token, self.soft_group(tab, id, Some(token))),
            None => {
                self.tokens += 1;
                (self.tokens, self.soft_group(tab, id, None))
            }
        };
        if marks.len() > MAX_CASCADE {
            return Err(Refusal::TooLarge {
                table: tab.name(),
                id,
                rows: marks.len(),
                max: MAX_CASCADE,
            });
        }
        for key in &marks {
            self.rows.get_mut(key).unwrap().deleted = Some((self.now, token));
        }
        if scheduled {
            self.jobs.retain(|j| j.org != id);
            self.job_seq += 1;
            self.jobs.push(Job {
                due: self.now + DELAY_MS,
                seq: self.job_seq,
                org: id,
                token,
            });
        }
        Ok(Out::Unit)
    }

    /// The row and, breadth first through `on_soft_delete = cascade` keys, the rows below it
    /// that are live (`token: None`) or stamped with `token`.
    fn soft_group(&self, tab: Tab, id: u64, token: Option<u64>) -> Vec<(Tab, u64)> {
        let mut out = vec![(tab, id)];
        let mut seen: BTreeSet<(Tab, u64)> = BTreeSet::from([(tab, id)]);
        let mut i = 0;
        while i < out.len() {
            let (t, parent) = out[i];
            for &fk in t.referenced_by().iter().filter(|fk| fk.soft_cascade()) {
                for c in self.children(fk, parent) {
                    let stamp = self.row(fk.child(), c).unwrap().deleted.map(|(_, t)| t);
                    if stamp == token && seen.insert((fk.child(), c)) {
                        out.push((fk.child(), c));
                    }
                }
            }
            i += 1;
        }
        out
    }

    fn undelete(&mut self, tab: Tab, id: u64) -> Outcome {
        let Some(row) = self.row(tab, id) else {
            return Err(Refusal::NotFound {
                table: tab.name(),
                id,
            });
        };
        let Some((_, token)) = row.deleted else {
            return Ok(Out::Unit);
        };
        self.jobs.retain(|j| !(tab == Tab::Org && j.org == id));
        for (t, i) in self.soft_group(tab, id, Some(token)) {
            // Each restored row re-checks its unique keys (only released ones can clash).
            let val = self.row(t, i).unwrap().val.clone();
            self.check_unique(&val, None, Some(i))?;
            self.rows.get_mut(&(t, i)).unwrap().deleted = None;
        }
        Ok(Out::Unit)
    }

    /// `run_due_jobs`: each due job whose org is still soft-deleted with its token purges it
    /// hard, cascades included, whatever their visibility.
    fn run_jobs(&mut self) -> (JobsRun, usize) {
        let mut due: Vec<Job> = self
            .jobs
            .iter()
            .filter(|j| j.due <= self.now)
            .cloned()
            .collect();
        due.sort_by_key(|j| (j.due, j.seq));
        let mut run = JobsRun::default();
        let mut cleared = 0;
        for job in due {
            self.jobs.retain(|j| j.seq != job.seq);
            let still = self
                .row(Tab::Org, job.org)
                .and_then(|r| r.deleted)
                .is_some_and(|(_, t)| t == job.token);
            if !still {
                run.cancelled += 1;
                continue;
            }
            let plan = self
                .plan(Tab::Org, job.org, None)
                .expect("no restrict below orgs");
            run.rows_deleted += plan.deletes.len();
            cleared += self.apply(&plan);
            run.completed += 1;
        }
        (run, cleared)
    }
}

// ---- operations ----------------------------------------------------------------------------

fn org_name(s: u8) -> String {
    format!("o{}", s % 6)
}
fn email(s: u8) -> String {
    format!("e{}", s % 40)
}
fn handle(s: u8) -> Option<String> {
    (s % 8 > 2).then(|| format!("h{}", s % 10))
}
fn tag_name(s: u8) -> String {
    format!("t{}", s % 5)
}
fn title(s: u8) -> String {
    format!("title{}", s % 3)
}

/// An operation as generated: rows are chosen by selectors, resolved against the model when
/// the operation runs (so a shrunk sequence still picks sensible rows).
#[derive(Clone, Debug)]
enum Op {
    InsOrg(u8),
    InsUser {
        email: u8,
        handle: u8,
        age: u8,
        org: u8,
        manager: Option<u8>,
    },
    InsPost {
        author: u8,
        editor: Option<u8>,
        score: i8,
        title: u8,
    },
    InsTag(u8),
    InsPostTag {
        post: u8,
        tag: u8,
    },
    PatchUser(u8, UOp),
    PatchPost(u8, POp),
    PatchOrg(u8, u8),
    Delete(Tab, u8),
    HardDelete(Tab, u8),
    Undelete(Tab, u8),
    UpdateUsers(u8, UOp),
    UpdatePosts(i8, POp),
    DeleteUsers(u8),
    DeletePosts(i8),
    Advance(u8),
    RunJobs,
    /// Several operations in one transaction, committed (`true`) or rolled back.
    Tx(Vec<Op>, bool),
}

#[derive(Clone, Debug)]
enum UOp {
    Email(u8),
    Handle(u8),
    Age(u8),
    Org(u8),
    Manager(Option<u8>),
}

#[derive(Clone, Debug)]
enum POp {
    Score(i8),
    Editor(Option<u8>),
    Author(u8),
    Title(u8),
}

/// A change to a user, with its rows resolved.
#[derive(Clone, Debug)]
enum UChange {
    Email(String),
    Handle(Option<String>),
    Age(u8),
    Org(Id<Org>),
    Manager(Option<Id<User>>),
}

impl UChange {
    fn apply(&self, u: &mut User) {
        match self {
            UChange::Email(e) => u.email.clone_from(e),
            UChange::Handle(h) => u.handle.clone_from(h),
            UChange::Age(a) => u.age = *a,
            UChange::Org(o) => u.org_id = *o,
            UChange::Manager(m) => u.manager_id = *m,
        }
    }
}

#[derive(Clone, Debug)]
enum PChange {
    Score(i32),
    Editor(Option<Id<User>>),
    Author(Id<User>),
    Title(String),
}

impl PChange {
    fn apply(&self, p: &mut Post) {
        match self {
            PChange::Score(s) => p.score = *s,
            PChange::Editor(e) => p.editor_id = *e,
            PChange::Author(a) => p.author_id = *a,
            PChange::Title(t) => p.title.clone_from(t),
        }
    }
}

/// An operation with its rows and values resolved: what both the database and the model run.
#[derive(Clone, Debug)]
enum Act {
    Insert(Val),
    PatchUser(u64, UChange),
    PatchPost(u64, PChange),
    PatchOrg(u64, String),
    Delete(Tab, u64),
    HardDelete(Tab, u64),
    Undelete(Tab, u64),
    UpdateUsers(u8, UChange),
    UpdatePosts(i32, PChange),
    DeleteUsers(u8),
    DeletePosts(i32),
}

fn resolve(m: &Model, op: &Op) -> Act {
    let user = |s: u8| Id::<User>::from_raw(m.pick(Tab::User, s, Vis::Live));
    let uchange = |c: &UOp| match *c {
        UOp::Email(s) => UChange::Email(email(s)),
        UOp::Handle(s) => UChange::Handle(handle(s)),
        UOp::Age(a) => UChange::Age(a % 4),
        UOp::Org(s) => UChange::Org(Id::from_raw(m.pick(Tab::Org, s, Vis::Live))),
        UOp::Manager(s) => UChange::Manager(s.map(user)),
    };
    let pchange = |c: &POp| match *c {
        POp::Score(s) => PChange::Score(i32::from(s)),
        POp::Editor(s) => PChange::Editor(s.map(user)),
        POp::Author(s) => PChange::Author(user(s)),
        POp::Title(s) => PChange::Title(title(s)),
    };
    match op {
        Op::InsOrg(n) => Act::Insert(Val::Org(Org { name: org_name(*n) })),
        Op::InsUser {
            email: e,
            handle: h,
            age,
            org,
            manager,
        } => Act::Insert(Val::User(User {
            email: email(*e),
            handle: handle(*h),
            age: age % 4,
            org_id: Id::from_raw(m.pick(Tab::Org, *org, Vis::Live)),
            manager_id: manager.map(user),
        })),
        Op::InsPost {
            author,
            editor,
            score,
            title: t,
        } => Act::Insert(Val::Post(Post {
            author_id: user(*author),
            editor_id: editor.map(user),
            score: i32::from(*score),
            title: title(*t),
        })),
        Op::InsTag(n) => Act::Insert(Val::Tag(Tag { name: tag_name(*n) })),
        Op::InsPostTag { post, tag } => Act::Insert(Val::PostTag(PostTag {
            post_id: Id::from_raw(m.pick(Tab::Post, *post, Vis::Live)),
            tag_id: Id::from_raw(m.pick(Tab::Tag, *tag, Vis::Live)),
        })),
        Op::PatchUser(s, c) => Act::PatchUser(m.pick(Tab::User, *s, Vis::Live), uchange(c)),
        Op::PatchPost(s, c) => Act::PatchPost(m.pick(Tab::Post, *s, Vis::Live), pchange(c)),
        Op::PatchOrg(s, n) => Act::PatchOrg(m.pick(Tab::Org, *s, Vis::Live), org_name(*n)),
        Op::Delete(t, s) => Act::Delete(*t, m.pick(*t, *s, Vis::Live)),
        Op::HardDelete(t, s) => Act::HardDelete(*t, m.pick(*t, *s, Vis::All)),
        Op::Undelete(t, s) => Act::Undelete(*t, m.pick(*t, *s, Vis::Deleted)),
        Op::UpdateUsers(a, c) => Act::UpdateUsers(a % 4, uchange(c)),
        Op::UpdatePosts(b, c) => Act::UpdatePosts(i32::from(*b), pchange(c)),
        Op::DeleteUsers(a) => Act::DeleteUsers(a % 4),
        Op::DeletePosts(b) => Act::DeletePosts(i32::from(*b)),
        Op::Advance(_) | Op::RunJobs | Op::Tx(..) => unreachable!("not a write: {op:?}"),
    }
}

/// Runs `act` on the database.
fn exec(tx: &mut WriteTx, act: &Act) -> redorm::Result<Out> {
    macro_rules! by_tab {
        ($tab:expr, $id:expr, $method:ident) => {
            match $tab {
                Tab::Org => tx.$method(Id::<Org>::from_raw($id)),
                Tab::User => tx.$method(Id::<User>::from_raw($id)),
                Tab::Post => tx.$method(Id::<Post>::from_raw($id)),
                Tab::Tag => tx.$method(Id::<Tag>::from_raw($id)),
                Tab::PostTag => tx.$method(Id::<PostTag>::from_raw($id)),
            }
        };
    }
    let unit = |r: redorm::Result<()>| r.map(|()| Out::Unit);
    match act {
        Act::Insert(val) => match val.clone() {
            Val::Org(v) => tx.insert(v).map(|id| Out::Id(id.get())),
            Val::User(v) => tx.insert(v).map(|id| Out::Id(id.get())),
            Val::Post(v) => tx.insert(v).map(|id| Out::Id(id.get())),
            Val::Tag(v) => tx.insert(v).map(|id| Out::Id(id.get())),
            Val::PostTag(v) => tx.insert(v).map(|id| Out::Id(id.get())),
        },
        Act::PatchUser(id, c) => unit(tx.patch(Id::<User>::from_raw(*id), |u| c.apply(u))),
        Act::PatchPost(id, c) => unit(tx.patch(Id::<Post>::from_raw(*id), |p| c.apply(p))),
        Act::PatchOrg(id, name) => unit(tx.patch(Id::<Org>::from_raw(*id), |o| {
            o.name.clone_from(name);
        })),
        Act::Delete(tab, id) => unit(by_tab!(*tab, *id, delete)),
        Act::HardDelete(tab, id) => unit(by_tab!(*tab, *id, hard_delete)),
        Act::Undelete(tab, id) => unit(by_tab!(*tab, *id, undelete)),
        Act::UpdateUsers(age, c) => tx
            .update::<User>()
            .filter(User::age().eq(*age))
            .set(|u| c.apply(u))
            .map(Out::N),
        Act::UpdatePosts(below, c) => tx
            .update::<Post>()
            .filter(Post::score().lt(*below))
            .set(|p| c.apply(p))
            .map(Out::N),
        Act::DeleteUsers(age) => tx
            .delete_many::<User>()
            .filter(User::age().eq(*age))
            .execute()
            .map(Out::N),
        Act::DeletePosts(below) => tx
            .delete_many::<Post>()
            .filter(Post::score().lt(*below))
            .execute()
            .map(Out::N),
    }
}

// ---- comparing the database with the model -------------------------------------------------

/// The reads both transaction kinds have (so a check runs inside a write transaction too).
trait Reads {
    fn q<T: Table>(&self) -> Query<'_, T>;
    fn many<T: Table>(&self, ids: Vec<Id<T>>) -> Vec<Option<Doc<T>>>;
    fn by<T: Table, K>(&self, index: UniqueIndex<T, K>, key: impl KeyArg<K>) -> Option<Doc<T>>;
}

macro_rules! reads {
    ($t:ty) => {
        impl Reads for $t {
            fn q<T: Table>(&self) -> Query<'_, T> {
                self.query::<T>()
            }
            fn many<T: Table>(&self, ids: Vec<Id<T>>) -> Vec<Option<Doc<T>>> {
                self.get_many(ids).unwrap()
            }
            fn by<T: Table, K>(
                &self,
                index: UniqueIndex<T, K>,
                key: impl KeyArg<K>,
            ) -> Option<Doc<T>> {
                self.get_by(index, key).unwrap()
            }
        }
    };
}
reads!(ReadTx);
reads!(WriteTx);

fn ids_of<T>(docs: &[Doc<T>]) -> Vec<u64> {
    docs.iter().map(|d| d.id.get()).collect()
}

fn opt_id<T>(doc: Option<&Doc<T>>) -> Option<u64> {
    doc.map(|d| d.id.get())
}

/// Every row with its system fields, each visibility, counts, and `get_many` over every id.
fn check_table<T: Shape, R: Reads>(r: &R, m: &Model) {
    let name = T::NAME;
    let all = r.q::<T>().include_deleted().all().unwrap();
    let got: Vec<_> = all
        .iter()
        .map(|d| (d.id.get(), d.created_at, d.deleted_at(), d.value()))
        .collect();
    let want: Vec<_> = m
        .typed::<T>(Vis::All)
        .into_iter()
        .map(|(id, row, v)| (id, row.created, row.deleted.map(|(at, _)| at), v))
        .collect();
    assert_eq!(got, want, "{name}: rows, include_deleted");
    let live = ids_of(&r.q::<T>().all().unwrap());
    assert_eq!(live, m.ids(T::TAB, Vis::Live), "{name}: live rows");
    let gone = ids_of(&r.q::<T>().only_deleted().all().unwrap());
    assert_eq!(
        gone,
        m.ids(T::TAB, Vis::Deleted),
        "{name}: only_deleted rows"
    );
    let counts = [
        r.q::<T>().count().unwrap(),
        r.q::<T>().include_deleted().count().unwrap(),
        r.q::<T>().only_deleted().count().unwrap(),
    ];
    assert_eq!(
        counts,
        [live.len(), all.len(), gone.len()],
        "{name}: count(), include_deleted().count(), only_deleted().count()"
    );
    let every: Vec<u64> = (1..=m.last(T::TAB) + 1).collect();
    let got: Vec<Option<u64>> = r
        .many(every.iter().map(|&i| Id::<T>::from_raw(i)).collect())
        .iter()
        .map(|d| opt_id(d.as_ref()))
        .collect();
    let want: Vec<Option<u64>> = every
        .iter()
        .map(|&i| m.live(T::TAB, i).then_some(i))
        .collect();
    assert_eq!(got, want, "{name}: get_many");
}

/// `get_by` on every unique index, for every value the generator uses.
fn check_unique_lookups<R: Reads>(r: &R, m: &Model) {
    fn live_with<T: Shape>(m: &Model, f: impl Fn(&T) -> bool) -> Option<u64> {
        let mut found = m.typed::<T>(Vis::Live).into_iter().filter(|(_, _, v)| f(v));
        let first = found.next().map(|(id, _, _)| id);
        assert!(found.next().is_none(), "the model holds a duplicate");
        first
    }
    for s in 0..40 {
        let e = email(s);
        let got = opt_id(r.by(User::by_email(), e.as_str()).as_ref());
        assert_eq!(got, live_with::<User>(m, |u| u.email == e), "by_email {e}");
    }
    for s in 0..10 {
        let h = Some(format!("h{s}"));
        let got = opt_id(r.by(User::by_handle(), h.clone()).as_ref());
        assert_eq!(
            got,
            live_with::<User>(m, |u| u.handle == h),
            "by_handle {h:?}"
        );
    }
    for s in 0..6 {
        let n = org_name(s);
        let got = opt_id(r.by(Org::by_name(), n.as_str()).as_ref());
        assert_eq!(
            got,
            live_with::<Org>(m, |o| o.name == n),
            "orgs.by_name {n}"
        );
    }
    for s in 0..5 {
        let n = tag_name(s);
        let got = opt_id(r.by(Tag::by_name(), n.as_str()).as_ref());
        assert_eq!(
            got,
            live_with::<Tag>(m, |t| t.name == n),
            "tags.by_name {n}"
        );
    }
    for (id, row, j) in m.typed::<PostTag>(Vis::All) {
        let got = opt_id(r.by(PostTag::by_pair(), (j.post_id, j.tag_id)).as_ref());
        assert_eq!(
            got,
            row.deleted.is_none().then_some(id),
            "by_pair {j:?} (row {id})"
        );
    }
}

/// Filters served by secondary indexes, in index order.
fn check_filters<R: Reads>(r: &R, m: &Model) {
    for age in 0..4u8 {
        let got = ids_of(&r.q::<User>().filter(User::age().eq(age)).all().unwrap());
        assert_eq!(got, m.select_users(age), "users of age {age}");
        let n = r
            .q::<User>()
            .include_deleted()
            .filter(User::age().eq(age))
            .count()
            .unwrap();
        let want = m
            .typed::<User>(Vis::All)
            .iter()
            .filter(|u| u.2.age == age)
            .count();
        assert_eq!(n, want, "users of age {age}, include_deleted");
    }
    let got = ids_of(
        &r.q::<Post>()
            .filter(Post::score().between(0i32, 3i32))
            .all()
            .unwrap(),
    );
    let mut want: Vec<(i32, u64)> = m
        .typed::<Post>(Vis::Live)
        .into_iter()
        .filter(|(_, _, p)| (0..=3).contains(&p.score))
        .map(|(id, _, p)| (p.score, id))
        .collect();
    want.sort();
    let want: Vec<u64> = want.into_iter().map(|(_, id)| id).collect();
    assert_eq!(got, want, "posts scored 0..=3");
    let n = r
        .q::<Post>()
        .filter(Post::editor_id().is_null())
        .count()
        .unwrap();
    let want = m
        .typed::<Post>(Vis::Live)
        .iter()
        .filter(|p| p.2.editor_id.is_none())
        .count();
    assert_eq!(n, want, "posts without an editor");
    for org in m.ids(Tab::Org, Vis::All) {
        let n = r
            .q::<User>()
            .only_deleted()
            .filter(User::org_id().eq(Id::<Org>::from_raw(org)))
            .count()
            .unwrap();
        let want = m
            .typed::<User>(Vis::Deleted)
            .iter()
            .filter(|u| u.2.org_id.get() == org)
            .count();
        assert_eq!(n, want, "soft-deleted users of org {org}");
    }
}

/// Relation loads, nested and batched, against the model's visibility rules: a relation
/// skips soft-deleted rows (a soft-deleted join row links nothing) unless it says
/// `include_deleted()`.
fn check_relations<R: Reads>(r: &R, m: &Model) {
    type Tree = Vec<(u64, Vec<(u64, Vec<(u64, Vec<u64>)>)>)>;
    let live_tags_of = |post: u64| -> Vec<u64> {
        let v: Vec<u64> = m
            .typed::<PostTag>(Vis::Live)
            .into_iter()
            .filter(|j| j.2.post_id.get() == post)
            .map(|j| j.2.tag_id.get())
            .filter(|&t| m.live(Tab::Tag, t))
            .collect();
        v // join-row order
    };
    let orgs = r
        .q::<Org>()
        .with(Org::users().with(User::posts().with(Post::tags())))
        .all()
        .unwrap();
    let got: Tree = orgs
        .iter()
        .map(|o| {
            let users = o.get(Org::users()).iter().map(|u| {
                let posts = u.get(User::posts()).iter();
                let posts = posts.map(|p| (p.id.get(), ids_of(p.get(Post::tags()))));
                (u.id.get(), posts.collect())
            });
            (o.id.get(), users.collect())
        })
        .collect();
    let want: Tree = m
        .ids(Tab::Org, Vis::Live)
        .into_iter()
        .map(|o| {
            let users = m.typed::<User>(Vis::Live).into_iter();
            let users = users.filter(|u| u.2.org_id.get() == o).map(|(u, _, _)| {
                let posts = m.typed::<Post>(Vis::Live).into_iter();
                let posts = posts.filter(|p| p.2.author_id.get() == u);
                (u, posts.map(|(p, _, _)| (p, live_tags_of(p))).collect())
            });
            (o, users.collect())
        })
        .collect();
    assert_eq!(got, want, "orgs > users > posts > tags");

    let users = r
        .q::<User>()
        .include_deleted()
        .with(User::manager())
        .with(User::org())
        .with(User::reports())
        .all()
        .unwrap();
    let got: Vec<_> = users
        .iter()
        .map(|u| {
            let reports = ids_of(u.get(User::reports()));
            (
                u.id.get(),
                opt_id(u.get(User::manager())),
                opt_id(u.get(User::org())),
                reports,
            )
        })
        .collect();
    let want: Vec<_> = m
        .typed::<User>(Vis::All)
        .into_iter()
        .map(|(id, _, u)| {
            let manager = u
                .manager_id
                .map(|i| i.get())
                .filter(|&i| m.live(Tab::User, i));
            let org = Some(u.org_id.get()).filter(|&i| m.live(Tab::Org, i));
            let reports = m.typed::<User>(Vis::Live).into_iter();
            let reports = reports.filter(|x| x.2.manager_id.map(|i| i.get()) == Some(id));
            (id, manager, org, reports.map(|x| x.0).collect::<Vec<_>>())
        })
        .collect();
    assert_eq!(got, want, "users with manager, org, reports");

    let posts = r
        .q::<Post>()
        .include_deleted()
        .with(Post::author())
        .with(Post::editor())
        .with(Post::tags().include_deleted())
        .all()
        .unwrap();
    let got: Vec<_> = posts
        .iter()
        .map(|p| {
            (
                p.id.get(),
                opt_id(p.get(Post::author())),
                opt_id(p.get(Post::editor())),
                ids_of(p.get(Post::tags())),
            )
        })
        .collect();
    let want: Vec<_> = m
        .typed::<Post>(Vis::All)
        .into_iter()
        .map(|(id, _, p)| {
            let author = Some(p.author_id.get()).filter(|&i| m.live(Tab::User, i));
            let editor = p
                .editor_id
                .map(|i| i.get())
                .filter(|&i| m.live(Tab::User, i));
            (id, author, editor, live_tags_of(id))
        })
        .collect();
    assert_eq!(got, want, "posts with author, editor, tags");

    // Per parent: order (ties by id in the direction of the last key: descending) and limit.
    let tags = r
        .q::<Tag>()
        .with(Tag::posts().order_by(Post::score().desc()).limit(2))
        .all()
        .unwrap();
    let got: Vec<_> = tags
        .iter()
        .map(|t| (t.id.get(), ids_of(t.get(Tag::posts()))))
        .collect();
    let want: Vec<_> = m
        .ids(Tab::Tag, Vis::Live)
        .into_iter()
        .map(|t| {
            let joins = m.typed::<PostTag>(Vis::Live).into_iter();
            let mut posts: Vec<(std::cmp::Reverse<i32>, std::cmp::Reverse<u64>)> = joins
                .filter(|j| j.2.tag_id.get() == t && m.live(Tab::Post, j.2.post_id.get()))
                .map(|j| j.2.post_id.get())
                .map(|p| {
                    (
                        std::cmp::Reverse(m.get::<Post>(p).score),
                        std::cmp::Reverse(p),
                    )
                })
                .collect();
            posts.sort();
            (t, posts.into_iter().take(2).map(|(_, p)| p.0).collect())
        })
        .collect();
    assert_eq!(got, want, "tags with their 2 best posts");
}

/// Every page of a paginated query, concatenated; pages are full but the last.
fn walk<'a, T: Table + 'a>(q: &dyn Fn() -> Query<'a, T>, n: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut cursor: Option<Cursor> = None;
    for _ in 0..1000 {
        let page = q().paginate(cursor.as_ref(), n).unwrap();
        assert_eq!(page.is_done, page.next_cursor.is_none());
        if !page.is_done {
            assert_eq!(page.items.len(), n, "a page before the last is full");
        }
        out.extend(ids_of(&page.items));
        if page.is_done {
            return out;
        }
        cursor = page.next_cursor;
    }
    panic!("pagination does not end");
}

fn check_pages<R: Reads>(r: &R, m: &Model) {
    // Served by by_score, descending: ties by id descending.
    let got = walk(&|| r.q::<Post>().order_by(Post::score().desc()), 4);
    let mut want: Vec<(i32, u64)> = m
        .typed::<Post>(Vis::Live)
        .into_iter()
        .map(|(id, _, p)| (p.score, id))
        .collect();
    want.sort();
    want.reverse();
    assert_eq!(
        got,
        want.into_iter().map(|x| x.1).collect::<Vec<_>>(),
        "posts by score desc, pages of 4"
    );
    let got = walk(
        &|| {
            r.q::<User>()
                .include_deleted()
                .filter(User::age().gte(1u8))
                .order_by(User::age().asc())
        },
        3,
    );
    let mut want: Vec<(u8, u64)> = m
        .typed::<User>(Vis::All)
        .into_iter()
        .filter(|u| u.2.age >= 1)
        .map(|(id, _, u)| (u.age, id))
        .collect();
    want.sort();
    assert_eq!(
        got,
        want.into_iter().map(|x| x.1).collect::<Vec<_>>(),
        "users of age >= 1 by age, include_deleted, pages of 3"
    );
    // The compound index by_author_score: author pinned, ordered by score.
    for author in m.ids(Tab::User, Vis::All).into_iter().take(3) {
        let a = Id::<User>::from_raw(author);
        let got = walk(
            &|| {
                r.q::<Post>()
                    .filter(Post::author_id().eq(a))
                    .order_by(Post::score().asc())
            },
            2,
        );
        let mut want: Vec<(i32, u64)> = m
            .typed::<Post>(Vis::Live)
            .into_iter()
            .filter(|p| p.2.author_id == a)
            .map(|(id, _, p)| (p.score, id))
            .collect();
        want.sort();
        assert_eq!(
            got,
            want.into_iter().map(|x| x.1).collect::<Vec<_>>(),
            "posts of {a:?} by score, pages of 2"
        );
    }
    let got = walk(&|| r.q::<PostTag>().only_deleted(), 3);
    assert_eq!(
        got,
        m.ids(Tab::PostTag, Vis::Deleted),
        "soft-deleted join rows"
    );
}

fn check_reads<R: Reads>(r: &R, m: &Model) {
    check_table::<Org, R>(r, m);
    check_table::<User, R>(r, m);
    check_table::<Post, R>(r, m);
    check_table::<Tag, R>(r, m);
    check_table::<PostTag, R>(r, m);
    check_unique_lookups(r, m);
    check_filters(r, m);
    check_relations(r, m);
    check_pages(r, m);
}

/// What only committed state shows: the stored jobs, and the integrity check.
fn check_committed(db: &Db, m: &Model) {
    check_reads(&db.read().unwrap(), m);
    let got: Vec<_> = db
        .pending_jobs()
        .unwrap()
        .into_iter()
        .map(|j| {
            assert_eq!(j.problem, None);
            (j.table, j.id, j.due_ms)
        })
        .collect();
    let mut jobs = m.jobs.clone();
    jobs.sort_by_key(|j| (j.due, j.seq));
    let want: Vec<_> = jobs
        .iter()
        .map(|j| (Some("orgs".to_string()), Some(j.org), Some(j.due)))
        .collect();
    assert_eq!(got, want, "pending jobs");
    let report = db.check_integrity().unwrap();
    assert!(report.is_ok(), "{report}");
}

// ---- running a sequence --------------------------------------------------------------------

/// What a run did, for the summary printed at the end.
#[derive(Default)]
struct Tally {
    ops: usize,
    steps: usize,
    outcomes: BTreeMap<String, usize>,
    jobs: JobsRun,
    /// Rows at the end of each case, per table: (live, all).
    rows: BTreeMap<&'static str, (usize, usize)>,
}

impl Tally {
    fn note(&mut self, act: &Act, out: &Outcome) {
        self.ops += 1;
        let kind = match out {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        let name = format!("{act:?}");
        let name = name.split('(').next().unwrap_or_default();
        let tab = match act {
            Act::Insert(v) => v.tab().name(),
            Act::Delete(t, _) | Act::HardDelete(t, _) | Act::Undelete(t, _) => t.name(),
            _ => "",
        };
        *self
            .outcomes
            .entry(format!("{name} {tab} {kind}"))
            .or_default() += 1;
    }
}

struct Harness {
    db: Db,
    clock: ManualClock,
    model: Model,
}

impl Harness {
    fn advance(&self, m: &mut Model, minutes: u8) {
        let ms = i64::from(minutes % 91) * 60_000;
        self.clock.advance(Duration::from_millis(ms.unsigned_abs()));
        m.now += ms;
    }

    fn step(&mut self, op: &Op, tally: &mut Tally) {
        tally.steps += 1;
        match op {
            Op::Advance(min) => {
                let mut m = self.model.clone();
                self.advance(&mut m, *min);
                self.model = m;
            }
            Op::RunJobs => {
                let got = self.db.run_due_jobs().unwrap();
                let (want, cleared) = self.model.run_jobs();
                assert!(got.failed.is_empty(), "{got:?}");
                let run = JobsRun {
                    completed: got.completed,
                    cancelled: got.cancelled,
                    rows_deleted: got.rows_deleted,
                };
                assert_eq!(run, want, "run_due_jobs: {got:?}");
                tally.jobs.completed += want.completed;
                tally.jobs.cancelled += want.cancelled;
                tally.jobs.rows_deleted += want.rows_deleted;
                // Batches may also clear keys of rows a later batch removes.
                assert!(got.rows_updated >= cleared, "{got:?}, {cleared} cleared");
            }
            Op::Tx(ops, commit) => {
                let mut tx = self.db.begin_write().unwrap();
                let mut work = self.model.clone();
                for op in ops {
                    if let Op::Advance(min) = op {
                        self.advance(&mut work, *min);
                        continue;
                    }
                    let act = resolve(&work, op);
                    let want = work.act(&act);
                    let got = exec(&mut tx, &act).map_err(Refusal::from);
                    assert_eq!(got, want, "in a transaction: {act:?}");
                    tally.note(&act, &want);
                    check_reads(&tx, &work);
                }
                if *commit {
                    tx.commit().unwrap();
                    self.model = work;
                } else {
                    tx.abort().unwrap();
                    self.model.now = work.now;
                }
            }
            op => {
                let act = resolve(&self.model, op);
                let want = self.model.act(&act);
                let got = self.db.write(|tx| exec(tx, &act)).map_err(Refusal::from);
                assert_eq!(got, want, "{act:?}");
                tally.note(&act, &want);
            }
        }
        check_committed(&self.db, &self.model);
    }
}

// ---- generating sequences ------------------------------------------------------------------

fn uop() -> impl Strategy<Value = UOp> {
    prop_oneof![
        any::<u8>().prop_map(UOp::Email),
        any::<u8>().prop_map(UOp::Handle),
        any::<u8>().prop_map(UOp::Age),
        any::<u8>().prop_map(UOp::Org),
        prop::option::of(any::<u8>()).prop_map(UOp::Manager),
    ]
}

fn pop() -> impl Strategy<Value = POp> {
    prop_oneof![
        (-3i8..7).prop_map(POp::Score),
        prop::option::of(any::<u8>()).prop_map(POp::Editor),
        any::<u8>().prop_map(POp::Author),
        any::<u8>().prop_map(POp::Title),
    ]
}

/// A table to delete from: orgs (whose deletes reach most rows) less often.
fn tab() -> impl Strategy<Value = Tab> {
    prop_oneof![
        2 => Just(Tab::Org),
        3 => Just(Tab::User),
        3 => Just(Tab::Post),
        1 => Just(Tab::Tag),
        2 => Just(Tab::PostTag),
    ]
}

/// One operation; `in_tx`: one that can run inside a transaction (not `run_due_jobs`).
fn leaf(in_tx: bool) -> BoxedStrategy<Op> {
    let s = any::<u8>;
    let mut arms: Vec<(u32, BoxedStrategy<Op>)> = vec![
        (3, s().prop_map(Op::InsOrg).boxed()),
        (
            14,
            (s(), s(), s(), s(), prop::option::of(s()))
                .prop_map(|(email, handle, age, org, manager)| Op::InsUser {
                    email,
                    handle,
                    age,
                    org,
                    manager,
                })
                .boxed(),
        ),
        (
            14,
            (s(), prop::option::of(s()), -3i8..7, s())
                .prop_map(|(author, editor, score, title)| Op::InsPost {
                    author,
                    editor,
                    score,
                    title,
                })
                .boxed(),
        ),
        (3, s().prop_map(Op::InsTag).boxed()),
        (
            12,
            (s(), s())
                .prop_map(|(post, tag)| Op::InsPostTag { post, tag })
                .boxed(),
        ),
        (
            5,
            (s(), uop()).prop_map(|(a, c)| Op::PatchUser(a, c)).boxed(),
        ),
        (
            4,
            (s(), pop()).prop_map(|(a, c)| Op::PatchPost(a, c)).boxed(),
        ),
        (1, (s(), s()).prop_map(|(a, n)| Op::PatchOrg(a, n)).boxed()),
        (4, (tab(), s()).prop_map(|(t, a)| Op::Delete(t, a)).boxed()),
        (
            2,
            (tab(), s()).prop_map(|(t, a)| Op::HardDelete(t, a)).boxed(),
        ),
        (
            3,
            (tab(), s()).prop_map(|(t, a)| Op::Undelete(t, a)).boxed(),
        ),
        (
            2,
            (s(), uop())
                .prop_map(|(a, c)| Op::UpdateUsers(a, c))
                .boxed(),
        ),
        (
            2,
            (-3i8..8, pop())
                .prop_map(|(b, c)| Op::UpdatePosts(b, c))
                .boxed(),
        ),
        (1, s().prop_map(Op::DeleteUsers).boxed()),
        (1, (-3i8..8).prop_map(Op::DeletePosts).boxed()),
        (3, s().prop_map(Op::Advance).boxed()),
    ];
    if !in_tx {
        arms.push((3, Just(Op::RunJobs).boxed()));
    }
    Union::new_weighted(arms).boxed()
}

/// What every sequence starts from (not shrunk away): a few rows in every table, so that
/// early operations have parents to point at.
fn seed() -> Vec<Op> {
    let mut ops: Vec<Op> = (0..3).map(Op::InsOrg).collect();
    ops.extend((0..4).map(Op::InsTag));
    ops.extend((0..6).map(|s| Op::InsUser {
        email: s,
        handle: s,
        age: s,
        org: s * 16,
        manager: (s > 0).then_some(s * 16),
    }));
    ops.extend((0..6).map(|s| Op::InsPost {
        author: s * 16,
        editor: None,
        score: s as i8,
        title: s,
    }));
    ops.extend((0..6).map(|s| Op::InsPostTag {
        post: s * 16,
        tag: s * 16,
    }));
    ops
}

fn op() -> BoxedStrategy<Op> {
    let tx = (
        prop::collection::vec(leaf(true), 2..6),
        prop::bool::weighted(0.75),
    )
        .prop_map(|(ops, commit)| Op::Tx(ops, commit));
    Union::new_weighted(vec![(20, leaf(false)), (3, tx.boxed())]).boxed()
}

#[apply(engines)]
fn the_database_behaves_like_its_model(engine: Engine) {
    let mut config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = CASES_PER_ENGINE;
    }
    let tally = Mutex::new(Tally::default());
    proptest!(config, |(ops in prop::collection::vec(op(), 50..=150))| {
        let clock = ManualClock::new(START_MS);
        let mut h = Harness { db: open(engine, &clock), clock, model: Model::new() };
        let mut t = Tally::default();
        for op in seed().iter().chain(&ops) {
            h.step(op, &mut t);
        }
        let mut all = tally.lock().unwrap();
        all.ops += t.ops;
        all.steps += t.steps;
        for (k, n) in t.outcomes {
            *all.outcomes.entry(k).or_default() += n;
        }
        for tab in [Tab::Org, Tab::User, Tab::Post, Tab::Tag, Tab::PostTag] {
            let e = all.rows.entry(tab.name()).or_default();
            e.0 += h.model.ids(tab, Vis::Live).len();
            e.1 += h.model.ids(tab, Vis::All).len();
        }
        all.jobs.completed += t.jobs.completed;
        all.jobs.cancelled += t.jobs.cancelled;
        all.jobs.rows_deleted += t.jobs.rows_deleted;
    });
    let t = tally.into_inner().unwrap();
    eprintln!(
        "{engine:?}: {} steps, {} writes, jobs {:?}",
        t.steps, t.ops, t.jobs
    );
    eprintln!("  rows at the end of the cases (live, all): {:?}", t.rows);
    for (k, n) in &t.outcomes {
        eprintln!("  {k}: {n}");
    }
}
