//! The `tracing` feature: the spans of a query, a write transaction, a relation load and a job
//! batch, captured by a subscriber, with their names, levels, fields and parents.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redorm::prelude::*;
use redorm::{Error, ManualClock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id as SpanId, Record};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// One span as captured: level, target, name, fields and the position of its parent.
#[derive(Debug)]
struct Captured {
    level: Level,
    target: String,
    name: &'static str,
    fields: BTreeMap<String, String>,
    parent: Option<usize>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<(Vec<Captured>, Vec<SpanId>)>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &SpanId, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let parent_id = ctx.span(id).and_then(|s| s.parent()).map(|p| p.id());
        let mut all = self.0.lock().unwrap();
        let parent = parent_id.and_then(|p| all.1.iter().rposition(|i| *i == p));
        let meta = attrs.metadata();
        all.0.push(Captured {
            level: *meta.level(),
            target: meta.target().to_string(),
            name: meta.name(),
            fields,
            parent,
        });
        all.1.push(id.clone());
    }

    fn on_record(&self, id: &SpanId, values: &Record<'_>, _: Context<'_, S>) {
        let mut all = self.0.lock().unwrap();
        if let Some(at) = all.1.iter().rposition(|i| i == id) {
            values.record(&mut Fields(&mut all.0[at].fields));
        }
    }
}

/// Runs `f` with a subscriber that captures every span, and returns them as lines:
/// `position LEVEL name k=v ... ^parent`, in the order they were created (with the target
/// when it is not `redorm`).
fn capture(f: impl FnOnce()) -> Vec<String> {
    let capture = Capture::default();
    {
        let _guard = tracing_subscriber::registry()
            .with(capture.clone())
            .set_default();
        f();
    }
    let all = capture.0.lock().unwrap();
    all.0
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut line = format!("{i} {} {}", s.level, s.name);
            if s.target != "redorm" {
                line.push_str(&format!(" (target {})", s.target));
            }
            for (k, v) in &s.fields {
                line.push_str(&format!(" {k}={v}"));
            }
            if let Some(p) = s.parent {
                line.push_str(&format!(" ^{p}"));
            }
            line
        })
        .collect()
}

#[derive(Table, Debug, Clone)]
#[table(name = "authors")]
#[has_many(posts, Post, by = author_id)]
struct Author {
    #[unique]
    name: String,
}

#[derive(Table, Debug, Clone)]
#[table(name = "posts")]
struct Post {
    #[belongs_to(author, Author, on_delete = cascade)]
    author_id: Id<Author>,
    #[index]
    score: u32,
    title: String,
}

fn blog() -> (Db, Id<Author>, Id<Author>) {
    let db = Db::builder()
        .table::<Author>()
        .table::<Post>()
        .in_memory()
        .unwrap();
    let (ann, bo) = db
        .write(|tx| {
            let ann = tx.insert(Author { name: "ann".into() })?;
            let bo = tx.insert(Author { name: "bo".into() })?;
            for (author_id, score, title) in [(ann, 1, "a1"), (ann, 3, "a2"), (bo, 2, "b1")] {
                tx.insert(Post {
                    author_id,
                    score,
                    title: title.into(),
                })?;
            }
            Ok((ann, bo))
        })
        .unwrap();
    (db, ann, bo)
}

#[test]
fn a_query_has_a_span_with_its_plan_inside_its_transaction() {
    let (db, _, _) = blog();
    let spans = capture(|| {
        let tx = db.read().unwrap();
        let q = tx
            .query::<Post>()
            .filter(Post::score().gte(2u32))
            .order_by(Post::score().desc());
        let titles: Vec<String> = q.all().unwrap().iter().map(|p| p.title.clone()).collect();
        assert_eq!(titles, ["a2", "b1"]);
        assert_eq!(q.count().unwrap(), 2);
        let page = tx.query::<Post>().paginate(None, 2).unwrap();
        assert_eq!(page.items.len(), 2);
    });
    assert_eq!(
        spans,
        [
            "0 DEBUG transaction mode=read",
            "1 DEBUG query plan=access: index by_score (1 probe), range score >= 2; order: served \
             by the index (descending) table=posts terminal=all ^0",
            "2 DEBUG query plan=access: index by_score (1 probe), range score >= 2; order: served \
             by the index (descending) table=posts terminal=count ^0",
            "3 DEBUG query plan=access: table scan in id order; order: by id table=posts \
             terminal=paginate ^0",
        ]
    );
}

#[test]
fn a_write_transaction_has_its_writes_and_its_outcome() {
    let (db, ann, _) = blog();
    let spans = capture(|| {
        db.write(|tx| {
            let cy = tx.insert(Author { name: "cy".into() })?;
            tracing::info_span!("caller's own")
                .in_scope(|| tx.patch(cy, |a| a.name = "cyd".into()))?;
            tx.delete(cy)
        })
        .unwrap();
    });
    assert_eq!(
        spans,
        [
            "0 DEBUG transaction mode=write outcome=commit",
            "1 TRACE write op=insert table=authors ^0",
            // Db::write enters the transaction's span around the closure.
            "2 INFO caller's own (target tracing) ^0",
            "3 TRACE write op=patch table=authors ^0",
            "4 TRACE write op=delete table=authors ^0",
        ]
    );

    // Refused, rolled back by an error, dropped and aborted: each a rollback.
    let spans = capture(|| {
        let err = db.write(|tx| tx.insert(Author { name: "ann".into() }).map(drop));
        assert!(matches!(err, Err(Error::Unique { .. })));
        let tx = db.begin_write().unwrap();
        drop(tx);
        let mut tx = db.begin_write().unwrap();
        tx.patch(ann, |a| a.name = "anna".into()).unwrap();
        tx.abort().unwrap();
        let mut tx = db.begin_write().unwrap();
        tx.upsert(Author::by_name(), Author { name: "dee".into() }, |_| {})
            .unwrap();
        tx.commit().unwrap();
    });
    assert_eq!(
        spans,
        [
            "0 DEBUG transaction mode=write outcome=rollback",
            "1 TRACE write op=insert table=authors ^0",
            "2 DEBUG transaction mode=write outcome=rollback",
            "3 DEBUG transaction mode=write outcome=rollback",
            "4 TRACE write op=patch table=authors ^3",
            "5 DEBUG transaction mode=write outcome=commit",
            "6 TRACE write op=upsert table=authors ^5",
            "7 TRACE write op=insert table=authors ^5",
        ]
    );
}

#[test]
fn each_relation_level_has_a_span_under_its_query() {
    let (db, _, _) = blog();
    let spans = capture(|| {
        let tx = db.read().unwrap();
        let authors = tx
            .query::<Author>()
            .with(
                Author::posts()
                    .order_by(Post::score().desc())
                    .with(Post::author()),
            )
            .all()
            .unwrap();
        assert_eq!(authors.len(), 2);
    });
    assert_eq!(
        spans,
        [
            "0 DEBUG transaction mode=read",
            "1 DEBUG query plan=access: table scan in id order; order: by id table=authors \
             terminal=all ^0",
            "2 DEBUG load parents=2 probes=2 relation=authors.posts rows=3 ^1",
            // Three posts, two distinct authors to read.
            "3 DEBUG load parents=3 probes=2 relation=posts.author rows=3 ^2",
        ]
    );
}

#[derive(Table, Debug, Clone)]
#[table(name = "uploads", delete = scheduled(delay = "1s"))]
struct Upload {
    name: String,
}

#[test]
fn a_job_batch_has_a_span_around_its_transaction() {
    let clock = ManualClock::new(1_000);
    let db = Db::builder()
        .table::<Upload>()
        .clock(clock.clone())
        .in_memory()
        .unwrap();
    let id = db
        .write(|tx| tx.insert(Upload { name: "u".into() }))
        .unwrap();
    db.write(|tx| tx.delete(id)).unwrap();
    clock.advance(Duration::from_secs(2));
    let spans = capture(|| {
        let report = db.run_due_jobs().unwrap();
        assert_eq!((report.completed, report.rows_deleted), (1, 1));
    });
    assert_eq!(
        spans,
        [
            // The snapshot that finds the due job, the batch and its transaction, and the
            // snapshot that finds no more.
            "0 DEBUG transaction mode=read",
            "1 DEBUG job_batch count=1 table=uploads",
            "2 DEBUG transaction mode=write outcome=commit ^1",
            "3 DEBUG transaction mode=read",
        ]
    );
}
