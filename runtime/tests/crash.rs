//! Crash test: a child process running write transactions of every kind on one redb file is
//! killed with SIGKILL at random moments, many times; after each kill the file reopens in
//! exactly its last committed state, every invariant holds, and interrupted scheduled purges
//! resume to the result of an uninterrupted run.
//!
//! How: this test binary re-runs itself as the child (`crash_child_entry`, which does nothing
//! unless `REDORM_CRASH_CHILD` names a directory). The child goes on from the file's committed
//! step through a deterministic sequence of steps drawn from a seed: step k is one write
//! transaction (FK inserts, indexed and compound-unique updates, hard deletes with cascade and
//! set_null, soft delete and undelete, scheduled delete and undelete, bulk update and delete)
//! that also stores k in the `progress` row, or — one step in 16 — `run_due_jobs` (batches of
//! 2 rows, each its own commit) followed by a transaction storing k. After each step the child
//! appends k to an acknowledgement file. After each kill the parent reopens the file and checks
//! 1. it opens and `Db::check_integrity` finds no problem;
//! 2. the committed step k is the last acknowledged one, or the next one (killed after its
//!    commit, before its acknowledgement);
//! 3. the file holds what a replay of steps 1..=k on a `MemoryEngine` holds: byte for byte in
//!    every keyspace but the catalog (rows, index entries, id sequences, pending jobs), and the
//!    same through the public API (rows with created_at and deleted_at, index-served queries,
//!    every foreign key resolving) — or, when step k+1 runs jobs, what the replay held after
//!    some number of that step's batches (the replay records the state before each batch).
//!
//! The next child then resumes from there, finishing an interrupted purge first. At the end the
//! parent finishes the in-flight step itself, runs every pending job on both sides and compares
//! again. Bounds: 40 kills or 45 s, whichever comes first; for a longer manual run set
//! `REDORM_CRASH_ROUNDS` and `REDORM_CRASH_SECS` (e.g. 5000 and 1800). `REDORM_CRASH_SEED`
//! fixes the workload (the seed, otherwise from the time, is printed by every failure).

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use redorm::prelude::*;
use redorm::{DbBuilder, ManualClock, MemoryDump, MemoryEngine, ReadTx, WriteTx};

const CHILD_ENV: &str = "REDORM_CRASH_CHILD";
const SEED_ENV: &str = "REDORM_CRASH_SEED";
const T0: i64 = 1_700_000_000_000;
/// The clock reads `T0 + k * STEP_MS` during step k; the scheduled delay is 12 steps.
const STEP_MS: i64 = 10 * 60 * 1000;
const KINDS: u64 = 16;
const JOBS: u64 = 15;

// ---- the schema ------------------------------------------------------------------------------

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "progress")]
struct Progress {
    step: u64,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "orgs")]
struct Org {
    #[unique]
    name: String,
    #[index]
    score: i64,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "members", unique(by_org_handle = [org_id, handle]))]
struct Member {
    #[belongs_to(org, Org, on_delete = cascade)]
    org_id: Id<Org>,
    handle: String,
    #[index]
    level: u32,
    #[belongs_to(mentor, Member, on_delete = set_null)]
    mentor_id: Option<Id<Member>>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "notes", delete = soft, index(by_author_rank = [author_id, rank]))]
struct Note {
    #[belongs_to(author, Member, on_delete = cascade)]
    author_id: Id<Member>,
    #[index]
    rank: u32,
    title: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "replies")]
struct Reply {
    #[belongs_to(note, Note, on_delete = cascade, on_soft_delete = cascade)]
    note_id: Id<Note>,
    body: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "accounts", delete = scheduled(delay = "2h"))]
struct Account {
    #[unique]
    email: String,
    #[index]
    tier: u8,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "projects", index(by_account_size = [account_id, size]))]
struct Project {
    #[belongs_to(account, Account, on_delete = cascade, on_soft_delete = cascade)]
    account_id: Id<Account>,
    #[belongs_to(lead, Member, on_delete = set_null)]
    lead_id: Option<Id<Member>>,
    size: u32,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "tasks")]
struct Task {
    #[belongs_to(project, Project, on_delete = cascade)]
    project_id: Id<Project>,
    #[belongs_to(helper, Account, on_delete = set_null)]
    helper_id: Option<Id<Account>>,
    #[index]
    done: bool,
}

fn builder(clock: &ManualClock) -> DbBuilder {
    Db::builder()
        .table::<Progress>()
        .table::<Org>()
        .table::<Member>()
        .table::<Note>()
        .table::<Reply>()
        .table::<Account>()
        .table::<Project>()
        .table::<Task>()
        .clock(clock.clone())
        .job_batch_rows(2)
}

// ---- the workload ----------------------------------------------------------------------------

/// splitmix64: small, seedable, good enough to pick moments and rows.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len() as u64) as usize])
    }
}

/// The kind of step k: each block of 16 steps runs every kind once, in a shuffled order.
fn kind_of(seed: u64, k: u64) -> u64 {
    if k == 1 {
        return 0;
    }
    let mut order: Vec<u64> = (0..KINDS).collect();
    let mut rng = Rng(seed ^ (k / KINDS).wrapping_mul(0xA076_1D64_78BD_642F));
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    order[(k % KINDS) as usize]
}

/// Ids of the rows of `T`: live ones (`Some(false)`), soft-deleted ones (`Some(true)`), all.
fn ids<T: Table>(tx: &WriteTx, deleted: Option<bool>) -> redorm::Result<Vec<Id<T>>> {
    let docs = tx.query::<T>().include_deleted().all()?;
    Ok(docs
        .into_iter()
        .filter(|d| deleted.is_none_or(|want| d.deleted_at().is_some() == want))
        .map(|d| d.id)
        .collect())
}

/// Runs step k on `db` (the child on the file, the replay on a `MemoryEngine`). Every write
/// is chosen to succeed: a step that fails is a bug, and panics.
fn step(db: &Db, clock: &ManualClock, seed: u64, k: u64) {
    clock.set(T0 + k as i64 * STEP_MS);
    let kind = kind_of(seed, k);
    let ctx = format!("seed {seed}: step {k} (kind {kind})");
    if kind == JOBS {
        let report = db.run_due_jobs();
        let report = report.unwrap_or_else(|e| panic!("{ctx} failed: {e}"));
        assert!(report.failed.is_empty(), "{ctx}: {report:?}");
    }
    db.write(|tx| {
        if kind != JOBS {
            write_step(
                tx,
                kind,
                &mut Rng(seed ^ k.wrapping_mul(0xE703_7ED1_A0B4_28DB)),
                k,
            )?;
        }
        let progress = Id::<Progress>::from_raw(1);
        if tx.get(progress)?.is_some() {
            tx.patch(progress, |p| p.step = k)
        } else {
            assert_eq!(tx.insert(Progress { step: k })?, progress);
            Ok(())
        }
    })
    .unwrap_or_else(|e| panic!("{ctx} failed: {e}"));
}

fn write_step(tx: &mut WriteTx, kind: u64, r: &mut Rng, k: u64) -> redorm::Result<()> {
    let orgs = ids::<Org>(tx, None)?;
    let members = ids::<Member>(tx, None)?;
    let accounts = ids::<Account>(tx, Some(false))?;
    let opt = |r: &mut Rng, v: &[Id<Member>]| if r.below(3) == 0 { None } else { r.pick(v) };
    match kind {
        // Hard deletes cascade: org -> members -> notes -> replies; set_null on mentors/leads.
        0 if orgs.len() >= 8 => tx.delete(r.pick(&orgs).unwrap())?,
        1 | 9 if kind == 9 || members.len() >= 40 => {
            if let Some(m) = r.pick(&members) {
                tx.delete(m)?;
            }
        }
        0 | 1 => {
            let org = match (kind, r.pick(&orgs)) {
                (1, Some(org)) => org,
                _ => tx.insert(Org {
                    name: format!("o{k}"),
                    score: r.below(10) as i64,
                })?,
            };
            for j in 0..=r.below(2) {
                let mentor = opt(r, &members);
                tx.insert(Member {
                    org_id: org,
                    handle: format!("h{k}.{j}"),
                    level: r.below(4) as u32,
                    mentor_id: mentor,
                })?;
            }
        }
        2 if ids::<Note>(tx, None)?.len() >= 40 => {
            let all = ids::<Note>(tx, None)?;
            tx.hard_delete(r.pick(&all).unwrap())?;
        }
        2 | 3 => {
            if kind == 2
                && let Some(author) = r.pick(&members)
            {
                tx.insert(Note {
                    author_id: author,
                    rank: r.below(5) as u32,
                    title: format!("n{k}"),
                })?;
            }
            let notes = ids::<Note>(tx, Some(false))?;
            for j in 0..r.below(3) {
                if let Some(note) = r.pick(&notes) {
                    let body = format!("r{k}.{j}");
                    tx.insert(Reply {
                        note_id: note,
                        body,
                    })?;
                }
            }
        }
        4 if ids::<Account>(tx, None)?.len() >= 12 => {
            let all = ids::<Account>(tx, None)?;
            tx.hard_delete(r.pick(&all).unwrap())?; // cancels its job if it has one
        }
        4 | 5 => {
            if kind == 4 {
                let tier = r.below(3) as u8;
                let account = tx.insert(Account {
                    email: format!("a{k}"),
                    tier,
                })?;
                for _ in 0..=r.below(3) {
                    let owner = r.pick(&accounts).filter(|_| r.below(2) == 0);
                    let lead = opt(r, &members);
                    tx.insert(Project {
                        account_id: owner.unwrap_or(account),
                        lead_id: lead,
                        size: r.below(8) as u32,
                    })?;
                }
            }
            let projects = ids::<Project>(tx, Some(false))?;
            let accounts = ids::<Account>(tx, Some(false))?;
            for _ in 0..r.below(5) {
                if let Some(project) = r.pick(&projects) {
                    let helper = r.pick(&accounts).filter(|_| r.below(2) == 0);
                    let done = r.below(2) == 0;
                    tx.insert(Task {
                        project_id: project,
                        helper_id: helper,
                        done,
                    })?;
                }
            }
        }
        // Indexed updates: plain, compound unique, foreign keys.
        6 => {
            if let Some(m) = r.pick(&members) {
                let (level, rename) = (r.below(4) as u32, r.below(2) == 0);
                let mentor = opt(r, &members).filter(|&x| x != m);
                tx.patch(m, |row| {
                    row.level = level;
                    row.mentor_id = mentor;
                    if rename {
                        row.handle = format!("p{k}");
                    }
                })?;
            }
            if let Some(o) = r.pick(&orgs) {
                let score = r.below(10) as i64;
                tx.patch(o, |row| row.score = score)?;
            }
        }
        7 => {
            if let Some(n) = r.pick(&ids::<Note>(tx, Some(false))?) {
                let rank = r.below(5) as u32;
                tx.patch(n, |row| (row.rank, row.title) = (rank, format!("t{k}")))?;
            }
            if let Some(p) = r.pick(&ids::<Project>(tx, Some(false))?) {
                let (size, lead) = (r.below(8) as u32, opt(r, &members));
                tx.patch(p, |row| (row.size, row.lead_id) = (size, lead))?;
            }
        }
        8 => {
            let level = r.below(4) as u32;
            tx.update::<Member>()
                .filter(Member::level().eq(level))
                .set(|m| m.level = (m.level + 1) % 4)?;
            if let Some(p) = r.pick(&ids::<Project>(tx, None)?) {
                tx.update::<Task>()
                    .filter(Task::project_id().eq(p))
                    .set(|t| t.done = !t.done)?;
            }
        }
        // Soft delete (again: re-stamps), undelete.
        10 => {
            if let Some(n) = r.pick(&ids::<Note>(tx, None)?) {
                tx.delete(n)?;
            }
        }
        11 => {
            if let Some(n) = r.pick(&ids::<Note>(tx, Some(true))?) {
                tx.undelete(n)?;
            }
        }
        // Scheduled deletes (again: reschedules), one by one or in bulk; undelete cancels.
        12 => {
            if r.below(3) == 0 {
                let tier = r.below(3) as u8;
                tx.delete_many::<Account>()
                    .filter(Account::tier().eq(tier))
                    .execute()?;
            } else if let Some(a) = r.pick(&ids::<Account>(tx, None)?) {
                tx.delete(a)?;
            }
        }
        13 => {
            if let Some(a) = r.pick(&ids::<Account>(tx, Some(true))?) {
                tx.undelete(a)?;
            }
        }
        14 => {
            let rank = r.below(5) as u32;
            tx.delete_many::<Note>()
                .filter(Note::rank().eq(rank))
                .execute()?;
            tx.delete_many::<Task>()
                .filter(Task::done().eq(true))
                .execute()?;
        }
        _ => unreachable!("kind {kind}"),
    }
    Ok(())
}

fn committed_step(db: &Db) -> u64 {
    let tx = db.read().unwrap();
    tx.get(Id::<Progress>::from_raw(1))
        .unwrap()
        .map_or(0, |p| p.step)
}

// ---- the child -------------------------------------------------------------------------------

/// Not a test of its own: the body of the child process that `crash_recovery_is_exact` starts
/// (this binary again, filtered to this name) and kills. Without `REDORM_CRASH_CHILD` it
/// returns at once, so in a normal run it passes trivially.
#[test]
fn crash_child_entry() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let dir = Path::new(&dir);
    let seed: u64 = std::env::var(SEED_ENV).unwrap().parse().unwrap();
    let clock = ManualClock::new(T0);
    let db = builder(&clock).open(dir.join("crash.redb")).unwrap();
    let mut acks = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("acks"))
        .unwrap();
    // Goes on until killed; the time limit only stops an orphan whose parent died.
    let started = Instant::now();
    let mut k = committed_step(&db);
    while started.elapsed() < Duration::from_secs(120) {
        k += 1;
        step(&db, &clock, seed, k);
        acks.write_all(format!("{k}\n").as_bytes()).unwrap();
    }
}

/// The last step the child acknowledged (a line cut short by the kill does not count).
fn last_ack(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join("acks")).unwrap_or_default();
    let done = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    done.lines().last().map_or(0, |l| l.parse().unwrap())
}

/// Kills the child if the parent panics, so no orphan goes on writing.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---- what is compared ------------------------------------------------------------------------

type Spaces = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Every non-empty keyspace of a memory dump but the catalog (which holds the per-database
/// random key as well as the schema).
fn data(dump: &MemoryDump) -> Spaces {
    dump.keyspaces()
        .filter(|&name| name != "catalog")
        .map(|name| (name.to_string(), dump.entries(name).unwrap().clone()))
        .filter(|(_, entries)| !entries.is_empty())
        .collect()
}

/// The same, read from the redb file with redb itself, named as the memory engine names them.
fn raw_redb(path: &Path) -> Spaces {
    use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableHandle};
    let raw = redb::Database::open(path).unwrap();
    let txn = raw.begin_read().unwrap();
    let mut out = Spaces::new();
    macro_rules! read {
        ($name:expr, $k:ty, $v:ty, |$key:ident, $val:ident| $entry:expr) => {{
            let table = txn
                .open_table(TableDefinition::<$k, $v>::new($name))
                .unwrap();
            let mut entries = BTreeMap::new();
            for e in table.iter().unwrap() {
                let (key, val) = e.unwrap();
                let ($key, $val) = (key.value(), val.value());
                let (k, v): (Vec<u8>, Vec<u8>) = $entry;
                entries.insert(k, v);
            }
            entries
        }};
    }
    for handle in txn.list_tables().unwrap() {
        let name = handle.name();
        let (space, entries) = match name {
            "__redorm_catalog" => continue,
            "__redorm_seq" => {
                let e = read!(name, &str, u64, |k, v| (k.into(), v.to_le_bytes().into()));
                ("seq".to_string(), e)
            }
            "__redorm_jobs" => {
                let e = read!(name, &[u8], &[u8], |k, v| (k.into(), v.into()));
                ("jobs".to_string(), e)
            }
            _ if name.contains('#') => {
                let e = read!(name, &[u8], (), |k, _v| (k.into(), Vec::new()));
                (format!("index:{name}"), e)
            }
            _ => {
                let e = read!(name, u64, &[u8], |k, v| (k.to_be_bytes().into(), v.into()));
                (format!("rows:{name}"), e)
            }
        };
        if !entries.is_empty() {
            out.insert(space, entries);
        }
    }
    out
}

fn rows<T: Table + std::fmt::Debug>(tx: &ReadTx, out: &mut Vec<String>) -> Vec<Doc<T>> {
    let docs = tx.query::<T>().include_deleted().all().unwrap();
    for d in &docs {
        let (id, c, del) = (d.id.get(), d.created_at, d.deleted_at());
        out.push(format!("{} {id} c={c} d={del:?} {:?}", T::NAME, d.value()));
    }
    docs
}

fn id_list<T>(label: String, docs: redorm::Result<Vec<Doc<T>>>) -> String {
    let ids: Vec<u64> = docs.unwrap().iter().map(|d| d.id.get()).collect();
    format!("{label}: {ids:?}")
}

fn resolves<T: Table>(tx: &ReadTx, id: Id<T>, from: String) {
    let found = tx.get_including_deleted(id).unwrap();
    assert!(
        found.is_some(),
        "{from} points at {id}, which does not exist"
    );
}

/// The state as the public API shows it: every row with its system fields, the answers of
/// index-served queries; and every foreign key resolves, every unique key finds its row.
fn logical(db: &Db) -> Vec<String> {
    let tx = db.read().unwrap();
    let mut out = Vec::new();
    rows::<Progress>(&tx, &mut out);
    let orgs = rows::<Org>(&tx, &mut out);
    let members = rows::<Member>(&tx, &mut out);
    let notes = rows::<Note>(&tx, &mut out);
    let replies = rows::<Reply>(&tx, &mut out);
    let accounts = rows::<Account>(&tx, &mut out);
    let projects = rows::<Project>(&tx, &mut out);
    let tasks = rows::<Task>(&tx, &mut out);
    let q = Org::score().desc();
    out.push(id_list(
        "orgs by score".into(),
        tx.query().order_by(q).all(),
    ));
    for o in &orgs {
        let found = tx.get_by(Org::by_name(), o.name.as_str()).unwrap();
        assert_eq!(found.map(|d| d.id), Some(o.id), "by_name of {}", o.id);
    }
    let q = Member::level().asc();
    out.push(id_list(
        "members by level".into(),
        tx.query().order_by(q).all(),
    ));
    for m in &members {
        resolves(&tx, m.org_id, format!("{}", m.id));
        if let Some(x) = m.mentor_id {
            resolves(&tx, x, format!("{}", m.id));
        }
        let key = Member::org_id()
            .eq(m.org_id)
            .and(Member::handle().eq(m.handle.as_str()));
        let found = tx.query::<Member>().filter(key).unique().unwrap();
        assert_eq!(found.map(|d| d.id), Some(m.id), "by_org_handle of {}", m.id);
        let q = tx.query::<Note>().include_deleted();
        let q = q
            .filter(Note::author_id().eq(m.id))
            .order_by(Note::rank().asc());
        out.push(id_list(format!("notes of {}", m.id), q.all()));
        let q = tx.query::<Member>().filter(Member::mentor_id().eq(m.id));
        out.push(id_list(format!("mentored by {}", m.id), q.all()));
    }
    let q = tx
        .query::<Note>()
        .only_deleted()
        .filter(Note::rank().gte(2));
    out.push(id_list("deleted notes of rank >= 2".into(), q.all()));
    for n in &notes {
        resolves(&tx, n.author_id, format!("{}", n.id));
        let q = tx.query::<Reply>().include_deleted();
        out.push(id_list(
            format!("replies to {}", n.id),
            q.filter(Reply::note_id().eq(n.id)).all(),
        ));
    }
    for r in &replies {
        resolves(&tx, r.note_id, format!("{}", r.id));
    }
    for a in &accounts {
        let q = tx.query::<Account>().include_deleted();
        let found = q
            .filter(Account::email().eq(a.email.as_str()))
            .unique()
            .unwrap();
        assert_eq!(found.map(|d| d.id), Some(a.id), "by_email of {}", a.id);
        let q = tx.query::<Project>().include_deleted();
        let q = q
            .filter(Project::account_id().eq(a.id))
            .order_by(Project::size().desc());
        out.push(id_list(format!("projects of {}", a.id), q.all()));
    }
    for p in &projects {
        resolves(&tx, p.account_id, format!("{}", p.id));
        if let Some(x) = p.lead_id {
            resolves(&tx, x, format!("{}", p.id));
        }
        let q = tx.query::<Task>().filter(Task::project_id().eq(p.id));
        out.push(id_list(format!("tasks of {}", p.id), q.all()));
    }
    for t in &tasks {
        resolves(&tx, t.project_id, format!("{}", t.id));
        if let Some(x) = t.helper_id {
            resolves(&tx, x, format!("{}", t.id));
        }
    }
    let q = tx.query::<Task>().filter(Task::done().eq(true));
    out.push(id_list("done tasks".into(), q.all()));
    let q = tx.query::<Task>().filter(Task::helper_id().is_null());
    out.push(id_list("tasks without helper".into(), q.all()));
    out
}

/// Lines of `a` not in `b` and of `b` not in `a`, the first few.
fn diff(a: &[String], b: &[String]) -> String {
    let only = |x: &[String], y: &[String]| -> Vec<String> {
        x.iter()
            .filter(|l| !y.contains(l))
            .take(12)
            .cloned()
            .collect()
    };
    format!(
        "only in the file: {:#?}\nonly in the replay: {:#?}",
        only(a, b),
        only(b, a)
    )
}

// ---- the replay ------------------------------------------------------------------------------

/// One state the file may be in: the raw keyspaces and the logical view.
type Candidate = (Spaces, Vec<String>);

/// Records the replay's committed state before each batch of a jobs step: hooks of every
/// table call [`capture`](Recorder::capture) before each row a batch deletes or rewrites.
#[derive(Default)]
struct Recorder {
    engine: MemoryEngine,
    db: OnceLock<Db>,
    /// While recording: the commit count last seen, and the states recorded.
    log: Mutex<Option<(u64, Vec<Candidate>)>>,
}

impl Recorder {
    fn state(&self) -> Candidate {
        (data(&self.engine.dump()), logical(self.db.get().unwrap()))
    }

    fn capture(&self) {
        let mut log = self.log.lock().unwrap();
        let Some((seen, states)) = log.as_mut() else {
            return;
        };
        let now = self.engine.steps().commits;
        if now != *seen {
            // Every batch deletes or rewrites a row: a state between two commits was missed
            // only if one did not, and then the check would be weaker than it claims.
            assert_eq!(now, *seen + 1, "the replay missed a state between commits");
            *seen = now;
            states.push(self.state());
        }
    }
}

fn recording<T: Table>(b: DbBuilder, rec: &Arc<Recorder>) -> DbBuilder {
    let (r1, r2) = (rec.clone(), rec.clone());
    b.before_delete::<T>(move |_, _, _| {
        r1.capture();
        Ok(())
    })
    .before_update::<T>(move |_, _, _, _| {
        r2.capture();
        Ok(())
    })
}

/// Steps 1, 2, ... on a `MemoryEngine`, uninterrupted.
struct Replay {
    rec: Arc<Recorder>,
    clock: ManualClock,
    seed: u64,
    at: u64,
    /// For a committed step k: the states the file may be in (see [`Replay::candidates`]).
    seen: BTreeMap<u64, Vec<Candidate>>,
}

impl Replay {
    fn new(seed: u64) -> Replay {
        let (rec, clock) = (Arc::new(Recorder::default()), ManualClock::new(T0));
        let mut b = builder(&clock);
        b = recording::<Progress>(b, &rec);
        b = recording::<Org>(recording::<Member>(b, &rec), &rec);
        b = recording::<Note>(recording::<Reply>(b, &rec), &rec);
        b = recording::<Account>(recording::<Project>(b, &rec), &rec);
        b = recording::<Task>(b, &rec);
        let db = b.open_memory_engine(&rec.engine).unwrap();
        rec.db.set(db).unwrap();
        Replay {
            rec,
            clock,
            seed,
            at: 0,
            seen: BTreeMap::new(),
        }
    }

    fn db(&self) -> &Db {
        self.rec.db.get().unwrap()
    }

    /// The states a file whose committed step is `k` may be in: the state after step k, then,
    /// if step k+1 runs jobs, the state after each of its batches (the progress row still
    /// says k until the step's last transaction).
    fn candidates(&mut self, k: u64) -> &[Candidate] {
        while self.at < k {
            self.at += 1;
            step(self.db(), &self.clock, self.seed, self.at);
        }
        if self.at == k {
            let start = (self.rec.engine.steps().commits, vec![self.rec.state()]);
            *self.rec.log.lock().unwrap() = Some(start);
            self.at += 1;
            step(self.db(), &self.clock, self.seed, self.at);
            let (_, states) = self.rec.log.lock().unwrap().take().unwrap();
            self.seen.insert(k, states);
            self.seen.retain(|&s, _| s + 2 >= k);
        }
        self.seen.get(&k).expect("the committed step went back")
    }
}

// ---- the test --------------------------------------------------------------------------------

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().unwrap())
}

#[test]
fn crash_recovery_is_exact() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let seed = env_or(SEED_ENV, now.unwrap().as_nanos() as u64);
    let (rounds, secs) = (
        env_or("REDORM_CRASH_ROUNDS", 40),
        env_or("REDORM_CRASH_SECS", 45),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let mut rng = Rng(seed);
    let mut replay = Replay::new(seed);
    let started = Instant::now();
    let (mut done, mut committed, mut unacked, mut mid_jobs) = (0, 0, 0, 0);
    while done < rounds && started.elapsed() < Duration::from_secs(secs) {
        done += 1;
        let ctx = format!("seed {seed}, round {done}");
        let acks_before = std::fs::metadata(dir.path().join("acks")).map_or(0, |m| m.len());
        let err_path = dir.path().join("child.err");
        let mut child = Killed(
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "crash_child_entry",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, dir.path())
                .env(SEED_ENV, seed.to_string())
                .stdout(Stdio::null())
                .stderr(File::create(&err_path).unwrap())
                .spawn()
                .unwrap(),
        );
        // One kill in five at any moment from the start (opening, recovery included); the
        // others once the child has acknowledged a step of this round, up to 60 ms later.
        if rng.below(5) > 0 {
            let waiting = Instant::now();
            while std::fs::metadata(dir.path().join("acks")).map_or(0, |m| m.len()) == acks_before {
                let exited = child.0.try_wait().unwrap().is_some();
                if exited || waiting.elapsed() > Duration::from_secs(30) {
                    break; // reported below
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        std::thread::sleep(Duration::from_micros(rng.below(60_000)));
        child.0.kill().unwrap();
        let status = child.0.wait().unwrap();
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        assert_eq!(
            status.signal(),
            Some(9),
            "{ctx}: the child ended first:\n{stderr}"
        );

        // 1. It opens and checks clean.
        let clock = ManualClock::new(T0);
        let db = builder(&clock)
            .open(&path)
            .unwrap_or_else(|e| panic!("{ctx}: the file does not reopen: {e}"));
        let report = db.check_integrity().unwrap();
        assert!(report.is_ok(), "{ctx}: {:#?}", report.problems);
        // 2. Exactly the acknowledged step, or the one in flight.
        // A child starts after the step the last one committed, acknowledged or not (it was
        // killed between the two), so the base is the later of the two.
        let (k, ack) = (committed_step(&db), last_ack(dir.path()));
        let base = ack.max(committed);
        assert!(
            k == base || k == base + 1,
            "{ctx}: committed {k}, acknowledged {ack}, committed before this round {committed}"
        );
        assert!(k >= committed, "{ctx}: committed {k} after {committed}");
        (committed, unacked) = (k, unacked + u64::from(k > ack && k > committed));
        // 3. The state of the replay after step k (or after some batches of step k + 1).
        let state = raw_redb_after(db, &path);
        let candidates = replay.candidates(k);
        match candidates.iter().position(|c| c.0 == state.0) {
            Some(i) => {
                assert_eq!(state.1, candidates[i].1, "{ctx}: the logical view differs");
                mid_jobs += u64::from(i > 0);
            }
            None => panic!(
                "{ctx}: the file after committed step {k} matches no replay state \
                 ({} candidates); against the state after step {k}:\n{}",
                candidates.len(),
                diff(&state.1, &candidates[0].1)
            ),
        }
    }
    eprintln!(
        "crash test: seed {seed}, {done} kills in {:?}, {committed} steps, {unacked} kills \
         after a commit and before its acknowledgement, {mid_jobs} in the middle of a purge",
        started.elapsed()
    );
    assert!(committed > 0, "seed {seed}: no step was ever committed");

    // Finish the in-flight step as the next child would, then every pending job, on both.
    let clock = ManualClock::new(T0);
    let db = builder(&clock).open(&path).unwrap();
    step(&db, &clock, seed, committed + 1);
    assert_eq!(replay.at, committed + 1);
    assert_eq!(
        logical(&db),
        logical(replay.db()),
        "seed {seed}: after finishing"
    );
    let far = T0 + (committed as i64 + 1000) * STEP_MS;
    clock.set(far);
    replay.clock.set(far);
    let (ours, theirs) = (
        db.run_due_jobs().unwrap(),
        replay.db().run_due_jobs().unwrap(),
    );
    assert!(
        ours.failed.is_empty() && theirs.failed.is_empty(),
        "{ours:?} {theirs:?}"
    );
    assert_eq!(
        logical(&db),
        logical(replay.db()),
        "seed {seed}: after all jobs"
    );
    assert!(db.check_integrity().unwrap().is_ok());
    drop(db);
    let theirs = data(&replay.rec.engine.dump());
    assert_eq!(raw_redb(&path), theirs, "seed {seed}: after all jobs");
    assert!(!theirs.contains_key("jobs"), "every job ran");
}

/// The logical view of the open file, then (once it is closed) its raw keyspaces.
fn raw_redb_after(db: Db, path: &Path) -> (Spaces, Vec<String>) {
    let view = logical(&db);
    drop(db);
    (raw_redb(path), view)
}
