//! Concurrency stress on one file-backed `Db`: writer threads (inserts with foreign keys and
//! unique indexes, patches, cascading hard deletes, soft delete and undelete, scheduled
//! deletes, refused and abandoned writes), reader threads checking invariants inside each read
//! transaction, and the background job worker beside a thread that runs due jobs itself. At
//! the end, and again after reopening the file, the invariants hold and every committed write
//! (and no abandoned one) is there.
//!
//! The torn-read detectors: every writer transaction moves money between accounts (the
//! balances always sum to the same total), and every transaction that adds or removes a book
//! also updates its author's book count in the same transaction. Bounded by operation counts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use redorm::prelude::*;
use redorm::{Durability, Error, ManualClock, ReadTx, WriteTx};

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "accounts")]
struct Account {
    #[unique]
    name: String,
    balance: i64,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "authors", delete = soft)]
struct Author {
    #[unique]
    handle: String,
    #[index]
    writer: u32,
    /// How many books point at this author: kept in the same transaction as the books.
    books: u32,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "books")]
struct Book {
    #[belongs_to(author, Author, on_delete = cascade)]
    author_id: Id<Author>,
    #[unique]
    isbn: String,
    pages: u32,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "uploads", delete = scheduled(delay = "1s"))]
struct Upload {
    #[unique]
    path: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "thumbs")]
struct Thumb {
    #[belongs_to(upload, Upload, on_delete = cascade)]
    upload_id: Id<Upload>,
    #[unique]
    key: String,
}

const WRITERS: u32 = 3;
const READERS: usize = 3;
const OPS_PER_WRITER: u32 = 200;
/// Each reader checks at least this many snapshots, and goes on until the writers are done.
const MIN_READS: usize = 40;
const ACCOUNTS: u64 = 8;
const TOTAL: i64 = ACCOUNTS as i64 * 1000;
const THUMBS_PER_UPLOAD: usize = 2;

fn open(path: &Path, clock: &ManualClock) -> Db {
    Db::builder()
        .table::<Account>()
        .table::<Author>()
        .table::<Book>()
        .table::<Upload>()
        .table::<Thumb>()
        .clock(clock.clone())
        // A purge takes several batches (transactions): readers see the ones in between.
        .job_batch_rows(1)
        .open(path)
        .unwrap()
}

/// xorshift64*: a deterministic sequence per writer, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// What one writer knows it committed; writers only touch their own authors, books and
/// uploads (the accounts are shared by all).
#[derive(Debug, Default)]
struct Model {
    /// handle -> (id, soft-deleted)
    authors: BTreeMap<String, (Id<Author>, bool)>,
    /// isbn -> (id, author handle, pages)
    books: BTreeMap<String, (Id<Book>, String, u32)>,
    /// path -> (id, deleted: the job purges it)
    uploads: BTreeMap<String, (Id<Upload>, bool)>,
    /// Refused or abandoned writes seen.
    refused: usize,
    /// The largest author, book and upload id handed out to this writer (rows deleted since
    /// included).
    max_ids: [u64; 3],
}

impl Model {
    fn pick<'a, V>(
        map: &'a BTreeMap<String, V>,
        rng: &mut Rng,
        ok: impl Fn(&V) -> bool,
    ) -> Option<(&'a String, &'a V)> {
        let found: Vec<_> = map.iter().filter(|(_, v)| ok(v)).collect();
        if found.is_empty() {
            None
        } else {
            Some(found[rng.below(found.len())])
        }
    }
}

/// Moves money between two accounts: every writer transaction does this, so a reader that
/// sees part of a transaction sees the wrong total.
fn transfer(tx: &mut WriteTx, rng: &mut Rng) -> redorm::Result<()> {
    let from = 1 + rng.below(ACCOUNTS as usize) as u64;
    let to = 1 + (from + rng.below(ACCOUNTS as usize - 1) as u64) % ACCOUNTS;
    assert_ne!(from, to);
    let amount = 1 + rng.below(50) as i64;
    tx.patch(Id::<Account>::from_raw(from), |a| a.balance -= amount)?;
    tx.patch(Id::<Account>::from_raw(to), |a| a.balance += amount)
}

/// Runs `f` and a transfer in one write transaction, durable every few commits (redb's
/// non-durable commits are visible at once and reach the disk with the next durable one).
fn write<R>(
    db: &Db,
    n: u32,
    rng: &mut Rng,
    f: impl FnOnce(&mut WriteTx) -> redorm::Result<R>,
) -> redorm::Result<R> {
    db.write(|tx| {
        if !n.is_multiple_of(4) {
            tx.set_durability(Durability::None)?;
        }
        let out = f(tx)?;
        transfer(tx, rng)?;
        Ok(out)
    })
}

fn writer(db: &Db, clock: &ManualClock, w: u32) -> Model {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((u64::from(w) + 1) * 0x1000_0000_01b3));
    let mut m = Model::default();
    for n in 0..OPS_PER_WRITER {
        let live_author = |v: &(Id<Author>, bool)| !v.1;
        match rng.below(12) {
            // A book for a live author, counted on the author in the same transaction.
            0..=2 => {
                let Some((handle, &(author, _))) = Model::pick(&m.authors, &mut rng, live_author)
                else {
                    add_author(db, &mut rng, &mut m, w, n);
                    continue;
                };
                let handle = handle.clone();
                let isbn = format!("w{w}-b{n}");
                let id = write(db, n, &mut rng, |tx| {
                    let id = tx.insert(Book {
                        author_id: author,
                        isbn: isbn.clone(),
                        pages: n,
                    })?;
                    tx.patch(author, |a| a.books += 1)?;
                    Ok(id)
                })
                .unwrap();
                m.books.insert(isbn, (id, handle, n));
                m.max_ids[1] = m.max_ids[1].max(id.get());
            }
            3 => add_author(db, &mut rng, &mut m, w, n),
            // Patch a book.
            4 => {
                let Some((isbn, &(id, _, _))) = Model::pick(&m.books, &mut rng, |_| true) else {
                    continue;
                };
                let isbn = isbn.clone();
                write(db, n, &mut rng, |tx| tx.patch(id, |b| b.pages = 1000 + n)).unwrap();
                m.books.get_mut(&isbn).unwrap().2 = 1000 + n;
            }
            // Hard-delete a book of a live author, uncounting it.
            5 => {
                let authors = &m.authors;
                let Some((isbn, (id, handle, _))) =
                    Model::pick(&m.books, &mut rng, |(_, h, _)| !authors[h].1)
                else {
                    continue;
                };
                let (isbn, id, author) = (isbn.clone(), *id, authors[handle].0);
                write(db, n, &mut rng, |tx| {
                    tx.delete(id)?;
                    tx.patch(author, |a| a.books -= 1)
                })
                .unwrap();
                m.books.remove(&isbn);
            }
            // Soft-delete an author (its books stay, pointing at it).
            6 => {
                let Some((handle, &(id, _))) = Model::pick(&m.authors, &mut rng, live_author)
                else {
                    continue;
                };
                let handle = handle.clone();
                write(db, n, &mut rng, |tx| tx.delete(id)).unwrap();
                m.authors.get_mut(&handle).unwrap().1 = true;
            }
            // Undelete one.
            7 => {
                let Some((handle, &(id, _))) = Model::pick(&m.authors, &mut rng, |v| v.1) else {
                    continue;
                };
                let handle = handle.clone();
                write(db, n, &mut rng, |tx| tx.undelete(id)).unwrap();
                m.authors.get_mut(&handle).unwrap().1 = false;
            }
            // Hard-delete an author, live or soft-deleted: its books go with it (cascade).
            8 => {
                let Some((handle, &(id, _))) = Model::pick(&m.authors, &mut rng, |_| true) else {
                    continue;
                };
                let handle = handle.clone();
                write(db, n, &mut rng, |tx| tx.hard_delete(id)).unwrap();
                m.authors.remove(&handle);
                m.books.retain(|_, (_, h, _)| *h != handle);
            }
            // An upload with its thumbnails.
            9 => {
                let path = format!("w{w}-u{n}");
                let id = write(db, n, &mut rng, |tx| {
                    let id = tx.insert(Upload { path: path.clone() })?;
                    for t in 0..THUMBS_PER_UPLOAD {
                        tx.insert(Thumb {
                            upload_id: id,
                            key: format!("{path}-t{t}"),
                        })?;
                    }
                    Ok(id)
                })
                .unwrap();
                m.uploads.insert(path, (id, false));
                m.max_ids[2] = m.max_ids[2].max(id.get());
            }
            // A scheduled delete: soft now, purged by a job once the clock passes the delay.
            10 => {
                let Some((path, &(id, _))) = Model::pick(&m.uploads, &mut rng, |v| !v.1) else {
                    continue;
                };
                let path = path.clone();
                write(db, n, &mut rng, |tx| tx.delete(id)).unwrap();
                m.uploads.get_mut(&path).unwrap().1 = true;
                clock.advance(Duration::from_millis(400));
            }
            // Refused and abandoned writes: nothing of them may show.
            _ => {
                if let Some((isbn, _)) = Model::pick(&m.books, &mut rng, |_| true) {
                    // A duplicate isbn is refused; the transaction goes on and commits.
                    let isbn = isbn.clone();
                    let author = m.books[&isbn].1.clone();
                    let author = m.authors[&author].0;
                    write(db, n, &mut rng, |tx| {
                        let err = tx
                            .insert(Book {
                                author_id: author,
                                isbn: isbn.clone(),
                                pages: 0,
                            })
                            .unwrap_err();
                        // (Unique checks come before foreign-key checks: the author may be
                        // soft-deleted by now.)
                        assert!(
                            matches!(
                                err,
                                Error::Unique {
                                    table: "books",
                                    index: "by_isbn",
                                    ..
                                }
                            ),
                            "{err:?}"
                        );
                        Ok(())
                    })
                    .unwrap();
                }
                // Writes, then an error: rolled back whole.
                let err = write(db, n, &mut rng, |tx| {
                    tx.insert(Author {
                        handle: format!("w{w}-abandoned{n}"),
                        writer: w,
                        books: 0,
                    })?;
                    transfer(tx, &mut Rng(u64::from(n) + 7))?;
                    Err::<(), _>(Error::hook("abandoned"))
                })
                .unwrap_err();
                assert!(
                    matches!(err, Error::Hook(ref m) if m == "abandoned"),
                    "{err:?}"
                );
                m.refused += 1;
            }
        }
        if w == 0 && n.is_multiple_of(10) {
            // A second job runner beside the worker.
            let report = db.run_due_jobs().unwrap();
            assert_eq!(report.failed, Vec::new(), "{report:?}");
        }
    }
    m
}

fn add_author(db: &Db, rng: &mut Rng, m: &mut Model, w: u32, n: u32) {
    let handle = format!("w{w}-a{n}");
    let id = write(db, n, rng, |tx| {
        tx.insert(Author {
            handle: handle.clone(),
            writer: w,
            books: 0,
        })
    })
    .unwrap();
    m.authors.insert(handle, (id, false));
    m.max_ids[0] = m.max_ids[0].max(id.get());
}

/// The invariants every snapshot must satisfy, checked inside one read transaction.
fn check_snapshot(tx: &ReadTx) {
    let sum = |tx: &ReadTx| -> (usize, i64) {
        let accounts = tx.query::<Account>().all().unwrap();
        (accounts.len(), accounts.iter().map(|a| a.balance).sum())
    };
    assert_eq!(
        sum(tx),
        (ACCOUNTS as usize, TOTAL),
        "a torn read of the accounts"
    );

    // Counts agree with the rows, per visibility.
    let authors = tx.query::<Author>().include_deleted().all().unwrap();
    let live = tx.query::<Author>().all().unwrap();
    let deleted = tx.query::<Author>().only_deleted().all().unwrap();
    assert_eq!(
        tx.query::<Author>().include_deleted().count().unwrap(),
        authors.len()
    );
    assert_eq!(tx.query::<Author>().count().unwrap(), live.len());
    assert_eq!(
        tx.query::<Author>().only_deleted().count().unwrap(),
        deleted.len()
    );
    assert_eq!(live.len() + deleted.len(), authors.len());
    assert!(live.iter().all(|a| a.deleted_at().is_none()));
    assert!(deleted.iter().all(|a| a.deleted_at().is_some()));
    let by_writer: usize = (0..WRITERS)
        .map(|w| {
            tx.query::<Author>()
                .filter(Author::writer().eq(w))
                .include_deleted()
                .count()
                .unwrap()
        })
        .sum();
    assert_eq!(by_writer, authors.len());

    // Every book's author exists, and each author counts exactly its books.
    let books = tx.query::<Book>().all().unwrap();
    assert_eq!(tx.query::<Book>().count().unwrap(), books.len());
    let author_ids: BTreeSet<Id<Author>> = authors.iter().map(|a| a.id).collect();
    for b in &books {
        assert!(
            author_ids.contains(&b.author_id),
            "book {b:?} lost its author"
        );
    }
    for a in &authors {
        let n = tx
            .query::<Book>()
            .filter(Book::author_id().eq(a.id))
            .count()
            .unwrap();
        assert_eq!(
            n, a.books as usize,
            "author {a:?} counts {} books, has {n}",
            a.books
        );
    }
    let isbns: BTreeSet<&str> = books.iter().map(|b| b.isbn.as_str()).collect();
    assert_eq!(isbns.len(), books.len(), "a unique isbn twice");
    for b in books.iter().step_by(7) {
        let found = tx
            .get_by(Book::by_isbn(), b.isbn.as_str())
            .unwrap()
            .unwrap();
        assert_eq!(found.id, b.id);
    }
    for a in authors.iter().step_by(5) {
        let found = tx.get_by(Author::by_handle(), a.handle.as_str()).unwrap();
        // `get_by` finds live rows only.
        assert_eq!(
            found.map(|f| f.id),
            a.deleted_at().is_none().then_some(a.id)
        );
    }

    // Every thumbnail's upload exists; a live upload has all of its thumbnails (a purge removes
    // them batch by batch, before the upload itself).
    let uploads = tx.query::<Upload>().include_deleted().all().unwrap();
    let thumbs = tx.query::<Thumb>().all().unwrap();
    assert_eq!(tx.query::<Thumb>().count().unwrap(), thumbs.len());
    assert_eq!(
        tx.query::<Upload>().include_deleted().count().unwrap(),
        uploads.len()
    );
    for u in &uploads {
        let n = thumbs.iter().filter(|t| t.upload_id == u.id).count();
        if u.deleted_at().is_none() {
            assert_eq!(n, THUMBS_PER_UPLOAD, "live upload {u:?}");
        } else {
            assert!(n <= THUMBS_PER_UPLOAD, "deleted upload {u:?}");
        }
    }
    let upload_ids: BTreeSet<Id<Upload>> = uploads.iter().map(|u| u.id).collect();
    for t in &thumbs {
        assert!(
            upload_ids.contains(&t.upload_id),
            "thumb {t:?} lost its upload"
        );
    }

    // No abandoned write is visible.
    assert!(authors.iter().all(|a| !a.handle.contains("abandoned")));

    // The snapshot did not move while it was read.
    assert_eq!(sum(tx), (ACCOUNTS as usize, TOTAL));
    assert_eq!(tx.query::<Book>().count().unwrap(), books.len());
}

/// The database holds exactly what the writers committed (uploads that were deleted are
/// purged by now).
fn check_models(db: &Db, models: &[Model]) {
    let report = db.check_integrity().unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.tables, 5);
    assert_eq!(db.pending_jobs().unwrap(), Vec::new());
    let tx = db.read().unwrap();
    check_snapshot(&tx);
    let mut authors = BTreeMap::new();
    let mut books = BTreeMap::new();
    let mut uploads = BTreeSet::new();
    for m in models {
        for (handle, &(id, deleted)) in &m.authors {
            authors.insert(handle.clone(), (id, deleted));
        }
        for (isbn, (id, author, pages)) in &m.books {
            books.insert(isbn.clone(), (*id, m.authors[author].0, *pages));
        }
        for (path, &(id, deleted)) in &m.uploads {
            let stored = tx.get_including_deleted(id).unwrap();
            if deleted {
                assert!(stored.is_none(), "deleted upload {path} was not purged");
            } else {
                assert_eq!(stored.unwrap().path, *path);
                uploads.insert(id);
            }
        }
    }
    let stored: BTreeMap<String, (Id<Author>, bool)> = tx
        .query::<Author>()
        .include_deleted()
        .all()
        .unwrap()
        .into_iter()
        .map(|a| (a.handle.clone(), (a.id, a.deleted_at().is_some())))
        .collect();
    assert_eq!(stored, authors);
    let stored: BTreeMap<String, (Id<Book>, Id<Author>, u32)> = tx
        .query::<Book>()
        .all()
        .unwrap()
        .into_iter()
        .map(|b| (b.isbn.clone(), (b.id, b.author_id, b.pages)))
        .collect();
    assert_eq!(stored, books);
    let stored: BTreeSet<Id<Upload>> = tx
        .query::<Upload>()
        .include_deleted()
        .all()
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(stored, uploads);
    assert_eq!(
        tx.query::<Thumb>().count().unwrap(),
        uploads.len() * THUMBS_PER_UPLOAD
    );
}

#[test]
fn writers_readers_and_the_job_worker_share_one_db() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stress.redb");
    let clock = ManualClock::new(1_000_000);
    let db = open(&path, &clock);
    db.write(|tx| {
        for i in 0..ACCOUNTS {
            tx.insert(Account {
                name: format!("acct{i}"),
                balance: 1000,
            })?;
        }
        Ok(())
    })
    .unwrap();

    let worker = db.start_worker(Duration::from_millis(2));
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (db, done, reads) = (db.clone(), done.clone(), reads.clone());
            thread::spawn(move || {
                let mut n = 0;
                while n < MIN_READS || !done.load(Ordering::SeqCst) {
                    check_snapshot(&db.read().unwrap());
                    if n.is_multiple_of(25) {
                        // The integrity check reads one snapshot too, beside the writers.
                        let report = db.check_integrity().unwrap();
                        assert!(report.is_ok(), "{report}");
                    }
                    n += 1;
                }
                reads.fetch_add(n, Ordering::SeqCst);
            })
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (db, clock) = (db.clone(), clock.clone());
            thread::spawn(move || writer(&db, &clock, w))
        })
        .collect();
    let models: Vec<Model> = writers.into_iter().map(|h| h.join().unwrap()).collect();
    done.store(true, Ordering::SeqCst);
    for r in readers {
        r.join().unwrap();
    }
    assert!(reads.load(Ordering::SeqCst) >= READERS * MIN_READS);
    assert!(models.iter().any(|m| m.refused > 0));

    // The worker's last run went through; then everything due is run to the end.
    // (On a loaded machine the worker may not have been scheduled yet: then there is no run.)
    if let Some(last) = worker.last_run() {
        let last = last.unwrap();
        assert_eq!(last.failed, Vec::new(), "{last:?}");
    }
    worker.stop();
    clock.advance(Duration::from_secs(3600));
    let report = db.run_due_jobs().unwrap();
    assert_eq!(report.failed, Vec::new(), "{report:?}");
    assert_eq!(db.run_due_jobs().unwrap(), redorm::JobReport::default());
    // Make the tail of non-durable commits durable.
    db.write(|tx| transfer(tx, &mut Rng(1))).unwrap();
    check_models(&db, &models);
    drop(db);

    let db = open(&path, &clock);
    check_models(&db, &models);
    assert_eq!(db.run_due_jobs().unwrap(), redorm::JobReport::default());
    // The id sequences reached the disk with the rows: new ids are past every id handed out.
    let max = |i: usize| models.iter().map(|m| m.max_ids[i]).max().unwrap();
    let ids = db
        .write(|tx| {
            let a = tx.insert(Author {
                handle: "after".into(),
                writer: 0,
                books: 1,
            })?;
            let b = tx.insert(Book {
                author_id: a,
                isbn: "after".into(),
                pages: 1,
            })?;
            let u = tx.insert(Upload {
                path: "after".into(),
            })?;
            Ok([a.get(), b.get(), u.get()])
        })
        .unwrap();
    for (i, id) in ids.into_iter().enumerate() {
        assert!(
            id > max(i),
            "table {i}: new id {id}, but {} was handed out",
            max(i)
        );
    }
}
