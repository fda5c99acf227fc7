//! Fault injection on the memory engine: a storage failure at any write step of an operation
//! leaves the database exactly as it was before the transaction, and does not stop the next
//! write; a scheduled-deletion job hit by one keeps every batch it committed, half-does none,
//! and a later run finishes it with the same result as an uninterrupted one.
//!
//! Method: a run with nothing armed counts the operation's write steps (commit included);
//! then, for each step k, a fresh identical setup fails its k-th step and the outcome is
//! compared with dumps of the committed state. A property test then hits a random mix of
//! writes with faults at random steps, retries them, and compares with a run without faults.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use redorm::prelude::*;
use redorm::{
    Error, FailedJob, JobReport, ManualClock, MemoryDump, MemoryEngine, StepCounts, WriteStep,
};

const T0: i64 = 1_700_000_000_000;
const DAY: u64 = 24 * 3600;

// ---- helpers ---------------------------------------------------------------------------------

/// Steps made between two readings of [`MemoryEngine::steps`].
fn since(now: StepCounts, start: StepCounts) -> StepCounts {
    StepCounts {
        puts: now.puts - start.puts,
        removes: now.removes - start.removes,
        commits: now.commits - start.commits,
    }
}

/// The kind of the one step between `prev` and `next` (counts that differ by exactly one step).
fn one_step(prev: StepCounts, next: StepCounts) -> &'static str {
    match (
        next.puts - prev.puts,
        next.removes - prev.removes,
        next.commits - prev.commits,
    ) {
        (1, 0, 0) => "put",
        (0, 1, 0) => "remove",
        (0, 0, 1) => "commit",
        other => panic!("expected exactly one step between {prev:?} and {next:?}, got {other:?}"),
    }
}

/// What the engine reports when the armed fault fires on step `kind`, the engine's counts
/// being `now` after it.
fn fault_message(kind: &str, now: StepCounts) -> String {
    let n = match kind {
        "put" => now.puts,
        "remove" => now.removes,
        _ => now.commits,
    };
    format!("storage: injected fault: {kind} #{n} failed")
}

type Spaces = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

/// The data of a dump: every keyspace but the catalog, which also holds the random key each
/// new database makes (so two identical setups differ there, and only there).
fn data(dump: &MemoryDump) -> Spaces {
    dump.keyspaces()
        .filter(|name| *name != "catalog")
        .map(|name| (name.to_string(), dump.entries(name).unwrap().clone()))
        .collect()
}

/// Runs `op` once with nothing armed (it must succeed and take more than 3 write steps), then
/// once per step k on a fresh `setup` with the k-th step failing: the operation fails with
/// exactly that storage error, the committed state is exactly as before, and the same
/// operation then succeeds on the same database with the result of a run that never failed.
/// Returns the kinds of the steps, in order.
fn every_step_fails_cleanly<S>(
    what: &str,
    setup: impl Fn(&MemoryEngine) -> (Db, S),
    op: impl Fn(&Db, &S) -> redorm::Result<()>,
) -> Vec<&'static str> {
    let engine = MemoryEngine::new();
    let (db, s) = setup(&engine);
    let reference_before = engine.dump();
    let start = engine.steps();
    op(&db, &s).unwrap_or_else(|e| panic!("{what}: fails with nothing armed: {e:?}"));
    let n = since(engine.steps(), start).total();
    let reference_after = engine.dump();
    assert!(
        n > 3,
        "{what}: only {n} write steps, too few to show anything"
    );
    assert_ne!(
        data(&reference_after),
        data(&reference_before),
        "{what}: changes nothing"
    );
    assert_eq!(
        reference_after.entries("catalog"),
        reference_before.entries("catalog"),
        "{what}: leaves the catalog alone"
    );

    let mut kinds = Vec::new();
    let mut prev = StepCounts::default();
    for k in 1..=n {
        let engine = MemoryEngine::new();
        let (db, s) = setup(&engine);
        let before = engine.dump();
        assert_eq!(
            data(&before),
            data(&reference_before),
            "{what}: the setup is deterministic"
        );
        let start = engine.steps();
        engine.fail_nth(WriteStep::Any, k);
        let err = op(&db, &s).expect_err(&format!("{what}: step {k} of {n} failed"));
        let now = engine.steps();
        let counted = since(now, start);
        assert_eq!(
            counted.total(),
            k,
            "{what}: the fault fired on step {k} and nothing was written after it"
        );
        let kind = one_step(prev, counted);
        assert!(
            matches!(err, Error::Storage(_)),
            "{what}: step {k} ({kind}): {err:?}"
        );
        assert_eq!(err.to_string(), fault_message(kind, now));
        assert_eq!(
            engine.dump(),
            before,
            "{what}: the failed {kind} at step {k} of {n} left something behind"
        );
        // Not poisoned: the same operation now goes through, as if nothing had failed.
        op(&db, &s).unwrap_or_else(|e| panic!("{what}: retry after step {k}: {e:?}"));
        let after = engine.dump();
        assert_eq!(
            data(&after),
            data(&reference_after),
            "{what}: retry after step {k}"
        );
        assert_eq!(after.entries("catalog"), before.entries("catalog"));
        kinds.push(kind);
        prev = counted;
    }
    assert_eq!(
        kinds.last(),
        Some(&"commit"),
        "{what}: the last step commits"
    );
    kinds
}

// ---- hard tables: insert, and a delete that cascades ------------------------------------------

mod hard {
    use redorm::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "users")]
    pub struct User {
        #[unique]
        pub email: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "posts")]
    pub struct Post {
        #[unique]
        pub slug: String,
        #[belongs_to(author, User, on_delete = cascade)]
        pub author_id: Id<User>,
        #[belongs_to(editor, User, on_delete = set_null)]
        pub editor_id: Option<Id<User>>,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "comments")]
    pub struct Comment {
        #[belongs_to(post, Post, on_delete = cascade)]
        pub post_id: Id<Post>,
        pub body: String,
    }

    pub fn builder() -> redorm::DbBuilder {
        Db::builder()
            .table::<User>()
            .table::<Post>()
            .table::<Comment>()
    }
}

struct Blog {
    ann: Id<hard::User>,
    bob: Id<hard::User>,
}

/// Ann writes a1 (edited by Bob) and a2, Bob writes b1 (edited by Ann); two comments each.
fn blog(engine: &MemoryEngine) -> (Db, Blog) {
    use hard::{Comment, Post, User};
    let db = hard::builder()
        .clock(ManualClock::new(T0))
        .open_memory_engine(engine)
        .unwrap();
    let blog = db
        .write(|tx| {
            let ann = tx.insert(User {
                email: "ann@x".into(),
            })?;
            let bob = tx.insert(User {
                email: "bob@x".into(),
            })?;
            for (slug, author, editor) in [
                ("a1", ann, Some(bob)),
                ("a2", ann, None),
                ("b1", bob, Some(ann)),
            ] {
                let post = tx.insert(Post {
                    slug: slug.into(),
                    author_id: author,
                    editor_id: editor,
                })?;
                for n in 1..=2 {
                    tx.insert(Comment {
                        post_id: post,
                        body: format!("{slug}-c{n}"),
                    })?;
                }
            }
            Ok(Blog { ann, bob })
        })
        .unwrap();
    (db, blog)
}

#[test]
fn an_insert_with_unique_and_foreign_keys_fails_cleanly_at_every_step() {
    let kinds = every_step_fails_cleanly("insert", blog, |db, b| {
        db.write(|tx| {
            tx.insert(hard::Post {
                slug: "b2".into(),
                author_id: b.bob,
                editor_id: Some(b.ann),
            })
        })
        .map(drop)
    });
    // The row, its three index entries (slug, author, editor), the id counter, the commit.
    assert_eq!(kinds, ["put", "put", "put", "put", "put", "commit"]);

    // What the insert leaves when it succeeds.
    let engine = MemoryEngine::new();
    let (db, b) = blog(&engine);
    let id = db
        .write(|tx| {
            tx.insert(hard::Post {
                slug: "b2".into(),
                author_id: b.bob,
                editor_id: Some(b.ann),
            })
        })
        .unwrap();
    let tx = db.read().unwrap();
    assert_eq!(
        tx.get_by(hard::Post::by_slug(), "b2").unwrap().unwrap().id,
        id
    );
    assert_eq!(
        tx.query::<hard::Post>()
            .filter(hard::Post::author_id().eq(b.bob))
            .count()
            .unwrap(),
        2
    );
}

#[test]
fn a_transaction_whose_storage_write_failed_is_rolled_back_even_when_the_error_was_handled() {
    // The insert makes four puts before its commit: fail each in turn.
    for step in 1..=4 {
        let engine = MemoryEngine::new();
        let (db, b) = blog(&engine);
        let before = engine.dump();
        let failing_put = engine.steps().puts + step;
        engine.fail_nth(WriteStep::Put, step);
        let handled = db.write(|tx| {
            // The caller swallows the storage error and goes on to write and commit.
            let failed = tx.insert(hard::Post {
                slug: "b2".into(),
                author_id: b.bob,
                editor_id: Some(b.ann),
            });
            assert!(
                matches!(failed, Err(Error::Storage(_))),
                "step {step}: {failed:?}"
            );
            tx.insert(hard::User {
                email: "cy@x".into(),
            })?;
            Ok(())
        });
        let expected = format!("storage: injected fault: put #{failing_put} failed");
        match handled {
            Err(Error::TransactionFailed { cause }) => assert_eq!(cause, expected),
            other => panic!("step {step}: expected TransactionFailed, got {other:?}"),
        }
        assert_eq!(engine.dump(), before, "step {step}: nothing was committed");
        // The database goes on.
        db.write(|tx| {
            tx.insert(hard::User {
                email: "cy@x".into(),
            })
        })
        .unwrap();
    }
}

#[test]
fn a_hard_delete_cascading_two_levels_with_set_null_fails_cleanly_at_every_step() {
    let kinds =
        every_step_fails_cleanly("hard delete", blog, |db, b| db.write(|tx| tx.delete(b.ann)));
    // b1 loses its editor (the row, and its editor index entry moves); then 4 comments (an
    // index entry and the row each), a1 and a2 (3 index entries and the row each) and ann
    // (1 and the row) are removed; the commit.
    let mut expected = vec!["put", "remove", "put"];
    expected.extend(["remove"; 4 * 2 + 2 * 4 + 2]);
    expected.push("commit");
    assert_eq!(kinds, expected);

    // What the delete does when it succeeds: ann, a1, a2 and their 4 comments go; b1 loses
    // its editor.
    let engine = MemoryEngine::new();
    let (db, b) = blog(&engine);
    db.write(|tx| tx.delete(b.ann)).unwrap();
    let tx = db.read().unwrap();
    assert!(tx.get(b.ann).unwrap().is_none());
    let posts = tx.query::<hard::Post>().all().unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!((posts[0].slug.as_str(), posts[0].editor_id), ("b1", None));
    assert_eq!(tx.query::<hard::Comment>().count().unwrap(), 2);
}

// ---- soft deletion and undelete -------------------------------------------------------------

mod soft {
    use redorm::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "authors", delete = soft)]
    pub struct Author {
        #[unique]
        pub email: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "articles", delete = soft)]
    pub struct Article {
        #[belongs_to(author, Author, on_delete = cascade, on_soft_delete = cascade)]
        pub author_id: Id<Author>,
        #[unique]
        pub slug: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "remarks")]
    pub struct Remark {
        #[belongs_to(article, Article, on_delete = cascade, on_soft_delete = cascade)]
        pub article_id: Id<Article>,
        pub body: String,
    }

    /// The authors' emails are released while soft-deleted, so undelete checks them again.
    pub fn builder() -> redorm::DbBuilder {
        Db::builder()
            .table::<Author>()
            .table::<Article>()
            .table::<Remark>()
            .release_on_soft_delete(Author::by_email())
    }
}

/// Ann with two articles of two remarks each, and Bob with one article.
fn authors(engine: &MemoryEngine) -> (Db, Id<soft::Author>) {
    use soft::{Article, Author, Remark};
    let db = soft::builder()
        .clock(ManualClock::new(T0))
        .open_memory_engine(engine)
        .unwrap();
    let ann = db
        .write(|tx| {
            let ann = tx.insert(Author {
                email: "ann@x".into(),
            })?;
            let bob = tx.insert(Author {
                email: "bob@x".into(),
            })?;
            for (author, slug) in [(ann, "a1"), (ann, "a2"), (bob, "b1")] {
                let article = tx.insert(Article {
                    author_id: author,
                    slug: slug.into(),
                })?;
                if author == ann {
                    for n in 1..=2 {
                        tx.insert(Remark {
                            article_id: article,
                            body: format!("{slug}-r{n}"),
                        })?;
                    }
                }
            }
            Ok(ann)
        })
        .unwrap();
    (db, ann)
}

/// [`authors`], with Ann soft-deleted.
fn authors_with_ann_deleted(engine: &MemoryEngine) -> (Db, Id<soft::Author>) {
    let (db, ann) = authors(engine);
    db.write(|tx| tx.delete(ann)).unwrap();
    (db, ann)
}

fn visible(db: &Db) -> [usize; 3] {
    let tx = db.read().unwrap();
    [
        tx.query::<soft::Author>().count().unwrap(),
        tx.query::<soft::Article>().count().unwrap(),
        tx.query::<soft::Remark>().count().unwrap(),
    ]
}

#[test]
fn a_soft_delete_with_soft_cascades_fails_cleanly_at_every_step() {
    let kinds = every_step_fails_cleanly("soft delete", authors, |db, ann| {
        db.write(|tx| tx.delete(*ann))
    });
    // A new delete token, then ann, her 2 articles and their 4 remarks are stamped (index
    // entries stay: a released unique index skips soft-deleted rows when it checks); the
    // commit.
    assert_eq!(
        kinds,
        [
            "put", "put", "put", "put", "put", "put", "put", "put", "commit"
        ]
    );

    let engine = MemoryEngine::new();
    let (db, ann) = authors(&engine);
    assert_eq!(visible(&db), [2, 3, 4]);
    db.write(|tx| tx.delete(ann)).unwrap();
    assert_eq!(visible(&db), [1, 1, 0]);
}

#[test]
fn an_undelete_fails_cleanly_at_every_step() {
    let kinds = every_step_fails_cleanly("undelete", authors_with_ann_deleted, |db, ann| {
        db.write(|tx| tx.undelete(*ann))
    });
    // The 7 rows of the delete are unstamped; the commit.
    assert_eq!(
        kinds,
        ["put", "put", "put", "put", "put", "put", "put", "commit"]
    );

    let engine = MemoryEngine::new();
    let (db, ann) = authors_with_ann_deleted(&engine);
    assert_eq!(visible(&db), [1, 1, 0]);
    db.write(|tx| tx.undelete(ann)).unwrap();
    assert_eq!(visible(&db), [2, 3, 4]);
    assert_eq!(
        db.read()
            .unwrap()
            .get_by(soft::Author::by_email(), "ann@x")
            .unwrap()
            .unwrap()
            .id,
        ann
    );
}

// ---- scheduled deletion ---------------------------------------------------------------------

mod sched {
    use redorm::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "accounts", delete = scheduled(delay = "30d"))]
    pub struct Account {
        pub name: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "projects")]
    pub struct Project {
        #[belongs_to(account, Account, on_delete = cascade, on_soft_delete = cascade)]
        pub account_id: Id<Account>,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "tasks")]
    pub struct Task {
        #[belongs_to(project, Project, on_delete = cascade)]
        pub project_id: Id<Project>,
        #[belongs_to(helper, Account, on_delete = set_null)]
        pub helper_id: Option<Id<Account>>,
    }
}

const BATCH_ROWS: usize = 4;

/// Two accounts; "doomed" has 3 projects of 4 tasks, "other" one project whose task has
/// "doomed" as helper. The clock is returned so a test can move it.
fn accounts(engine: &MemoryEngine) -> (Db, ManualClock, Id<sched::Account>) {
    use sched::{Account, Project, Task};
    let clock = ManualClock::new(T0);
    let db = Db::builder()
        .table::<Account>()
        .table::<Project>()
        .table::<Task>()
        .clock(clock.clone())
        .job_batch_rows(BATCH_ROWS)
        .open_memory_engine(engine)
        .unwrap();
    let doomed = db
        .write(|tx| {
            let doomed = tx.insert(Account {
                name: "doomed".into(),
            })?;
            let other = tx.insert(Account {
                name: "other".into(),
            })?;
            for _ in 0..3 {
                let p = tx.insert(Project { account_id: doomed })?;
                for _ in 0..4 {
                    tx.insert(Task {
                        project_id: p,
                        helper_id: None,
                    })?;
                }
            }
            let op = tx.insert(Project { account_id: other })?;
            tx.insert(Task {
                project_id: op,
                helper_id: Some(doomed),
            })?;
            Ok(doomed)
        })
        .unwrap();
    (db, clock, doomed)
}

/// [`accounts`] with "doomed" deleted (soft now, a job stored) and the job due.
fn due_job(engine: &MemoryEngine) -> (Db, Id<sched::Account>) {
    let (db, clock, doomed) = accounts(engine);
    db.write(|tx| tx.delete(doomed)).unwrap();
    clock.advance(Duration::from_secs(31 * DAY));
    (db, doomed)
}

#[test]
fn a_scheduled_delete_fails_cleanly_at_every_step() {
    // Soft-deleting a scheduled row stores its job: a counter, the job, and the marks.
    let kinds = every_step_fails_cleanly(
        "scheduled delete",
        |engine| {
            let (db, _, doomed) = accounts(engine);
            (db, doomed)
        },
        |db, doomed| db.write(|tx| tx.delete(*doomed)),
    );
    // A new delete token, "doomed" and its 3 projects stamped, the job number and the job;
    // the commit.
    assert_eq!(
        kinds,
        ["put", "put", "put", "put", "put", "put", "put", "commit"]
    );
}

#[test]
fn a_purge_job_hit_by_a_fault_keeps_whole_batches_and_a_later_run_finishes_it() {
    // The uninterrupted run.
    let engine = MemoryEngine::new();
    let (db, doomed) = due_job(&engine);
    let before = data(&engine.dump());
    let start = engine.steps();
    let full = db.run_due_jobs().unwrap();
    let steps = since(engine.steps(), start);
    let n = steps.total();
    let end = data(&engine.dump());
    assert_eq!(
        full,
        JobReport {
            completed: 1,
            cancelled: 0,
            rows_deleted: 1 + 3 + 12,
            rows_updated: 1,
            batches: 5,
            failed: vec![],
        },
        "17 rows in batches of {BATCH_ROWS}"
    );
    assert_eq!(
        steps.commits, 5,
        "each batch is one transaction and commits once"
    );
    assert!(n > 3 * full.batches as u64, "{steps:?}");

    // The state after each whole batch: a run whose (j+1)-th commit fails stops after j.
    let mut boundaries = vec![before.clone()];
    for j in 1..full.batches {
        let engine = MemoryEngine::new();
        let (db, _) = due_job(&engine);
        engine.fail_nth(WriteStep::Commit, j as u64 + 1);
        let report = db.run_due_jobs().unwrap();
        assert_eq!((report.batches, report.failed.len()), (j, 1));
        boundaries.push(data(&engine.dump()));
    }
    boundaries.push(end.clone());
    for pair in boundaries.windows(2) {
        assert_ne!(pair[0], pair[1], "every batch changes something");
    }

    let mut prev = StepCounts::default();
    let mut commits_before = 0;
    for k in 1..=n {
        let engine = MemoryEngine::new();
        let (db, _) = due_job(&engine);
        assert_eq!(data(&engine.dump()), before, "the setup is deterministic");
        let start = engine.steps();
        engine.fail_nth(WriteStep::Any, k);
        // A failing batch does not fail the run: the job is reported and left for later.
        let report = db.run_due_jobs().unwrap();
        let now = engine.steps();
        let counted = since(now, start);
        assert_eq!(counted.total(), k, "nothing is written after the fault");
        let kind = one_step(prev, counted);
        let job = db.pending_jobs().unwrap();
        assert_eq!(job.len(), 1, "the failed job stays stored");
        assert_eq!(
            report.failed,
            vec![FailedJob {
                key: job[0].key.clone(),
                table: Some("accounts".to_string()),
                id: Some(doomed.get()),
                error: fault_message(kind, now),
            }],
            "step {k} ({kind})"
        );
        assert_eq!(report.completed, 0);
        assert_eq!(
            report.batches, commits_before,
            "step {k}: the batches committed before the fault count, the failed one does not"
        );
        // Never a partial batch: the state is the one after exactly that many whole batches.
        assert!(
            data(&engine.dump()) == boundaries[report.batches],
            "step {k} ({kind}) left batch {} half done",
            report.batches + 1
        );

        // The next run, with nothing armed, finishes the job as if nothing had happened.
        let rest = db.run_due_jobs().unwrap();
        assert_eq!(rest.completed, 1, "after step {k}: {rest:?}");
        assert!(rest.failed.is_empty(), "{rest:?}");
        assert_eq!(
            (
                report.batches + rest.batches,
                report.rows_deleted + rest.rows_deleted,
                report.rows_updated + rest.rows_updated,
            ),
            (full.batches, full.rows_deleted, full.rows_updated),
            "after step {k}"
        );
        assert!(data(&engine.dump()) == end, "after step {k}");
        assert_eq!(
            db.run_due_jobs().unwrap(),
            JobReport::default(),
            "the job is gone"
        );

        if kind == "commit" {
            commits_before += 1;
        }
        prev = counted;
    }
    assert_eq!(commits_before, full.batches);

    // The end state: "other" and its project and task stay, the task without its helper.
    let tx = db.read().unwrap();
    assert!(tx.get_including_deleted(doomed).unwrap().is_none());
    assert_eq!(tx.query::<sched::Account>().count().unwrap(), 1);
    assert_eq!(tx.query::<sched::Project>().count().unwrap(), 1);
    let tasks = tx.query::<sched::Task>().all().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].helper_id, None);
}

// ---- property: faults and retries change nothing ----------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    AddUser(u8),
    AddPost(u8, u64, Option<u64>),
    AddComment(u64),
    SetEditor(u64, Option<u64>),
    DeleteUser(u64),
    DeletePost(u64),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6).prop_map(Op::AddUser),
        (0u8..6, 1u64..6, proptest::option::of(1u64..6)).prop_map(|(s, a, e)| Op::AddPost(s, a, e)),
        (1u64..8).prop_map(Op::AddComment),
        (1u64..8, proptest::option::of(1u64..6)).prop_map(|(p, e)| Op::SetEditor(p, e)),
        (1u64..6).prop_map(Op::DeleteUser),
        (1u64..8).prop_map(Op::DeletePost),
    ]
}

fn apply(db: &Db, op: &Op) -> redorm::Result<()> {
    use hard::{Comment, Post, User};
    let user = Id::<User>::from_raw;
    let post = Id::<Post>::from_raw;
    db.write(|tx| match *op {
        Op::AddUser(n) => tx
            .insert(User {
                email: format!("u{n}@x"),
            })
            .map(drop),
        Op::AddPost(slug, author, editor) => tx
            .insert(Post {
                slug: format!("s{slug}"),
                author_id: user(author),
                editor_id: editor.map(user),
            })
            .map(drop),
        Op::AddComment(p) => tx
            .insert(Comment {
                post_id: post(p),
                body: "c".into(),
            })
            .map(drop),
        Op::SetEditor(p, editor) => tx.patch(post(p), |row| row.editor_id = editor.map(user)),
        Op::DeleteUser(u) => tx.delete(user(u)),
        Op::DeletePost(p) => tx.delete(post(p)),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// A random mix of writes, each hit by a fault at a random step (or at none, when the step
    /// is past its end) and retried, ends exactly where the same writes without faults end;
    /// every failed attempt leaves the committed state as it was.
    #[test]
    fn faults_and_retries_end_where_a_run_without_faults_ends(
        ops in proptest::collection::vec((op_strategy(), 1u64..24), 1..16),
    ) {
        let faulty = MemoryEngine::new();
        let (db, _) = blog(&faulty);
        let clean = MemoryEngine::new();
        let (reference, _) = blog(&clean);
        for (op, k) in &ops {
            let before = faulty.dump();
            faulty.fail_nth(WriteStep::Any, *k);
            let first = apply(&db, op);
            faulty.disarm();
            let outcome = match first {
                Err(Error::Storage(_)) => {
                    prop_assert!(faulty.dump() == before, "{:?} failing at step {} left a trace", op, k);
                    apply(&db, op)
                }
                other => other,
            };
            let expected = apply(&reference, op);
            prop_assert_eq!(format!("{outcome:?}"), format!("{expected:?}"), "{:?} (fault at step {})", op, k);
            prop_assert!(data(&faulty.dump()) == data(&clean.dump()), "{:?} (fault at step {})", op, k);
        }
    }
}
