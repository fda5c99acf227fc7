//! Group commit: concurrent `write_grouped` calls share transactions and durable commits, and
//! each call stays all or nothing on its own — exact rows after concurrent writers, refused and
//! panicking callers taking back only their own work, and fewer commits than calls.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use redorm::prelude::*;
use redorm::{DbBuilder, Error};

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "accounts")]
struct Account {
    #[unique]
    name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "entries")]
struct Entry {
    #[belongs_to(account, Account, on_delete = cascade)]
    account_id: Id<Account>,
    #[unique]
    key: u64,
}

fn builder(commits: &Arc<AtomicUsize>) -> DbBuilder {
    let commits = commits.clone();
    Db::builder()
        .table::<Account>()
        .table::<Entry>()
        .after_commit(move |_| {
            commits.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
}

#[test]
fn concurrent_callers_each_keep_exactly_their_own_work() {
    let dir = tempfile::tempdir().unwrap();
    let commits = Arc::new(AtomicUsize::new(0));
    let db = builder(&commits).open(dir.path().join("g.redb")).unwrap();
    let accounts: Vec<Id<Account>> = db
        .write(|tx| {
            (0..8)
                .map(|i| {
                    tx.insert(Account {
                        name: format!("a{i}"),
                    })
                })
                .collect()
        })
        .unwrap();
    commits.store(0, Ordering::SeqCst);
    let (threads, per) = (8u64, 40u64);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let db = db.clone();
            let account = accounts[t as usize];
            std::thread::spawn(move || {
                let mut refused = 0;
                for i in 0..per {
                    let key = t * 1000 + i;
                    db.write_grouped(move |tx| {
                        tx.insert(Entry {
                            account_id: account,
                            key,
                        })
                    })
                    .unwrap();
                    // Every fifth call also tries a duplicate after a good insert: the whole
                    // call is refused, its good insert taken back with it.
                    if i % 5 == 0 {
                        let dup = db.write_grouped(move |tx| {
                            tx.insert(Entry {
                                account_id: account,
                                key: key + 500,
                            })?;
                            tx.insert(Entry {
                                account_id: account,
                                key,
                            })
                        });
                        assert!(
                            matches!(dup, Err(ref e) if e.is_unique(Entry::by_key())),
                            "{dup:?}"
                        );
                        refused += 1;
                    }
                }
                refused
            })
        })
        .collect();
    let refused: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(refused, threads * per / 5);
    let tx = db.read().unwrap();
    let mut keys: Vec<u64> = tx
        .query::<Entry>()
        .all()
        .unwrap()
        .into_iter()
        .map(|e| e.key)
        .collect();
    keys.sort_unstable();
    let mut want: Vec<u64> = (0..threads)
        .flat_map(|t| (0..per).map(move |i| t * 1000 + i))
        .collect();
    want.sort_unstable();
    assert_eq!(keys, want);
    assert!(db.check_integrity().unwrap().is_ok());
    // Never more commits than calls (usually far fewer under contention; not asserted, as it
    // depends on scheduling).
    assert!(commits.load(Ordering::SeqCst) <= (threads * per * 6 / 5) as usize);
}

#[test]
fn callers_waiting_together_share_one_commit() {
    let commits = Arc::new(AtomicUsize::new(0));
    let db = builder(&commits)
        .group_commit_window(Duration::from_millis(200))
        .in_memory()
        .unwrap();
    let account = db
        .write(|tx| tx.insert(Account { name: "a".into() }))
        .unwrap();
    commits.store(0, Ordering::SeqCst);
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8u64)
        .map(|k| {
            let (db, barrier) = (db.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                db.write_grouped(move |tx| {
                    tx.insert(Entry {
                        account_id: account,
                        key: k,
                    })
                })
                .unwrap()
            })
        })
        .collect();
    let ids: Vec<Id<Entry>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(ids.len(), 8);
    assert_eq!(db.read().unwrap().query::<Entry>().count().unwrap(), 8);
    // Eight calls queued within the first one's 200 ms window: fewer than eight commits.
    let n = commits.load(Ordering::SeqCst);
    assert!((1..8).contains(&n), "{n} commits for 8 calls");
}

#[test]
fn a_panicking_caller_panics_alone() {
    let commits = Arc::new(AtomicUsize::new(0));
    let db = builder(&commits)
        .group_commit_window(Duration::from_millis(100))
        .in_memory()
        .unwrap();
    let account = db
        .write(|tx| tx.insert(Account { name: "a".into() }))
        .unwrap();
    let barrier = Arc::new(Barrier::new(3));
    let spawn = |key: u64, panics: bool| {
        let (db, barrier) = (db.clone(), barrier.clone());
        std::thread::spawn(move || {
            barrier.wait();
            db.write_grouped(move |tx| {
                tx.insert(Entry {
                    account_id: account,
                    key,
                })?;
                assert!(!panics, "caller {key} gives up");
                Ok(())
            })
        })
    };
    let a = spawn(1, false);
    let b = spawn(2, true);
    let c = spawn(3, false);
    assert!(a.join().unwrap().is_ok());
    let panicked = b.join().unwrap_err();
    assert_eq!(
        panicked.downcast_ref::<String>().map(String::as_str),
        Some("caller 2 gives up")
    );
    assert!(c.join().unwrap().is_ok());
    let tx = db.read().unwrap();
    let mut keys: Vec<u64> = tx
        .query::<Entry>()
        .all()
        .unwrap()
        .iter()
        .map(|e| e.key)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, [1, 3]);
    // The database goes on.
    db.write_grouped(move |tx| {
        tx.insert(Entry {
            account_id: account,
            key: 4,
        })
        .map(drop)
    })
    .unwrap();
    let err = db
        .write_grouped(|tx| tx.insert(Account { name: "a".into() }).map(drop))
        .unwrap_err();
    assert!(matches!(err, Error::Unique { .. }));
}
