//! Group commit: 8 threads each making 50 durable single-row inserts with a foreign-key check,
//! on a file, with `db.write` (one commit and fsync per call) and with `db.write_grouped`
//! (concurrent calls share commits), in one run. Run with
//! `cargo bench -p redorm --bench group_commit`; compare the two lines of the same run.

// A benchmark that fails should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use redorm::prelude::*;

#[derive(Table, Debug, Clone)]
#[table(name = "accounts")]
struct Account {
    name: String,
}

#[derive(Table, Debug, Clone)]
#[table(name = "entries")]
struct Entry {
    #[belongs_to(account, Account, on_delete = cascade)]
    account_id: Id<Account>,
    amount: i64,
}

const THREADS: u64 = 8;
const PER_THREAD: u64 = 50;

fn run(db: &Db, accounts: &[Id<Account>], grouped: bool, counter: &Arc<AtomicU64>) {
    std::thread::scope(|s| {
        for &account in accounts.iter().take(THREADS as usize) {
            let (db, counter) = (db.clone(), counter.clone());
            s.spawn(move || {
                for _ in 0..PER_THREAD {
                    let amount = counter.fetch_add(1, Ordering::Relaxed) as i64;
                    let row = Entry {
                        account_id: account,
                        amount,
                    };
                    if grouped {
                        db.write_grouped(move |tx| tx.insert(row)).unwrap();
                    } else {
                        db.write(move |tx| tx.insert(row)).unwrap();
                    }
                }
            });
        }
    });
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::builder()
        .table::<Account>()
        .table::<Entry>()
        .open(dir.path().join("bench.redb"))
        .unwrap();
    let accounts: Vec<Id<Account>> = db
        .write(|tx| {
            (0..THREADS)
                .map(|i| {
                    tx.insert(Account {
                        name: format!("a{i}"),
                    })
                })
                .collect()
        })
        .unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let mut group = c.benchmark_group("8 threads x 50 durable inserts with a foreign key");
    group.sample_size(10);
    group.throughput(Throughput::Elements(THREADS * PER_THREAD));
    group.bench_function("db.write (a commit per call)", |b| {
        b.iter(|| run(&db, &accounts, false, &counter));
    });
    group.bench_function("db.write_grouped (shared commits)", |b| {
        b.iter(|| run(&db, &accounts, true, &counter));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
