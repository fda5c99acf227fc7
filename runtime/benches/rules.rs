//! What a read rule costs: the same page query run with the rule's filter written by hand (as
//! the system) and through a table's read rule (as a viewer), in one run, on 10 000 rows where
//! an index serves the rule. Run with `cargo bench -p redorm --bench rules`; compare the two
//! lines of the same run (the rule should be within the noise of the hand-written filter).

// A benchmark that fails should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use redorm::Rules;
use redorm::prelude::*;

#[derive(Clone)]
struct Viewer {
    team: u32,
}

#[derive(Table, Debug, Clone)]
#[table(name = "docs", index(by_team_rank = [team, rank]))]
struct Document {
    team: u32,
    rank: u32,
    title: String,
}

fn db() -> Db {
    let db = Db::builder()
        .table::<Document>()
        .rules(Rules::<Document, Viewer>::new().read(|v| Document::team().eq(v.team)))
        .in_memory()
        .unwrap();
    db.write(|tx| {
        tx.skip_rules();
        for i in 0..10_000u32 {
            tx.insert(Document {
                team: i % 20,
                rank: i,
                title: format!("document {i}"),
            })?;
        }
        Ok(())
    })
    .unwrap();
    db
}

fn page(c: &mut Criterion) {
    let db = db();
    let viewer = Viewer { team: 7 };
    let mut group = c.benchmark_group("page of 20 of one team's documents by rank");
    group.bench_function("filter written by hand", |b| {
        b.iter(|| {
            let tx = db.read().unwrap().skip_rules();
            let page = tx
                .query::<Document>()
                .filter(Document::team().eq(7u32))
                .order_by(Document::rank().asc())
                .paginate(None, 20)
                .unwrap();
            black_box(page.items.len())
        });
    });
    group.bench_function("read rule", |b| {
        b.iter(|| {
            let tx = db.read_as(&viewer).unwrap();
            let page = tx
                .query::<Document>()
                .order_by(Document::rank().asc())
                .paginate(None, 20)
                .unwrap();
            black_box(page.items.len())
        });
    });
    group.finish();
}

criterion_group!(benches, page);
criterion_main!(benches);
