//! The comparative benchmark: the same workload against redorm, hand-written redb, SQLite
//! (rusqlite, `synchronous = FULL` and `NORMAL`) and native_db, in one run.
//!
//! ```sh
//! cargo run -p bench --release -- --users 10000 [--seed 42] [--rounds 5] [--reps 3] \
//!     [--only redorm,redb,sqlite-full,sqlite-normal,native_db]
//! ```
//!
//! Prints one Markdown table (operation × implementation: throughput and time relative to the
//! hand-written redb baseline), then whether every implementation ends with the same row counts
//! and produced the same checksum for each operation. See `BENCHMARKS.md`.
//!
//! Each round of each implementation runs in a child process (this binary with `--child`) on a
//! fresh temp directory, so that none inherits another's heap, threads or caches.

// A benchmark that hits something unexpected should stop loudly: unwrap/expect/panic are the
// right tools here, unlike in the library.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod imp;
mod imp_native;
mod imp_redb;
mod imp_redorm;
mod imp_sqlite;
mod workload;

use std::process::ExitCode;
use std::time::Instant;

use imp::{Imp, Res};
use workload::{Counts, PAGE, Workload};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Redorm,
    /// redorm with the bulk load written as a loop of `insert` (what `insert_many` replaces).
    RedormLoop,
    Redb,
    SqliteFull,
    SqliteNormal,
    NativeDb,
}

const ALL: [Which; 6] = [
    Which::Redorm,
    Which::RedormLoop,
    Which::Redb,
    Which::SqliteFull,
    Which::SqliteNormal,
    Which::NativeDb,
];

impl Which {
    fn key(self) -> &'static str {
        match self {
            Which::Redorm => "redorm",
            Which::RedormLoop => "redorm-loop",
            Which::Redb => "redb",
            Which::SqliteFull => "sqlite-full",
            Which::SqliteNormal => "sqlite-normal",
            Which::NativeDb => "native_db",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Which::Redorm => "redorm",
            Which::RedormLoop => "redorm, bulk load by insert loop",
            Which::Redb => "redb (hand-written)",
            Which::SqliteFull => "SQLite FULL",
            Which::SqliteNormal => "SQLite NORMAL",
            Which::NativeDb => "native_db",
        }
    }

    fn open(self, dir: &std::path::Path) -> Res<Box<dyn Imp>> {
        Ok(match self {
            Which::Redorm => Box::new(imp_redorm::Redorm::open(dir, false)?),
            Which::RedormLoop => Box::new(imp_redorm::Redorm::open(dir, true)?),
            Which::Redb => Box::new(imp_redb::HandRedb::open(dir)?),
            Which::SqliteFull => Box::new(imp_sqlite::Sqlite::open(dir, "FULL")?),
            Which::SqliteNormal => Box::new(imp_sqlite::Sqlite::open(dir, "NORMAL")?),
            Which::NativeDb => Box::new(imp_native::NativeDb::open(dir)?),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Bulk,
    Durable,
    Gets,
    Emails,
    PostsOf,
    ThreeLevel,
    PageAll,
    PageOffset,
    PageCursor,
    Titles,
    EmailUpdates,
    Deletes,
}

impl OpKind {
    /// Read-only operations can be repeated on the same data: they are, and the median time
    /// is reported. Writes change the data and run once.
    fn read_only(self) -> bool {
        matches!(
            self,
            OpKind::Gets
                | OpKind::Emails
                | OpKind::PostsOf
                | OpKind::ThreeLevel
                | OpKind::PageAll
                | OpKind::PageOffset
                | OpKind::PageCursor
        )
    }
}

struct Op {
    kind: OpKind,
    label: String,
    unit: &'static str,
    /// How many units one run of the operation does (throughput = count / seconds).
    count: u64,
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn ops(w: &Workload) -> Vec<Op> {
    let s = &w.sizes;
    let t = thousands;
    let pages = w.total_posts().div_ceil(PAGE);
    vec![
        Op {
            kind: OpKind::Bulk,
            label: format!(
                "bulk insert, 1 tx ({} users + {} posts + {} comments)",
                t(w.users.len()),
                t(w.posts.len()),
                t(w.comments.len())
            ),
            unit: "rows",
            count: w.bulk_rows() as u64,
        },
        Op {
            kind: OpKind::Durable,
            label: format!("{} post inserts, 1 durable tx each", t(s.durable_inserts)),
            unit: "inserts",
            count: s.durable_inserts as u64,
        },
        Op {
            kind: OpKind::Gets,
            label: format!("{} random posts by id", t(s.gets)),
            unit: "gets",
            count: s.gets as u64,
        },
        Op {
            kind: OpKind::Emails,
            label: format!("{} users by unique email", t(s.email_lookups)),
            unit: "lookups",
            count: s.email_lookups as u64,
        },
        Op {
            kind: OpKind::PostsOf,
            label: format!("posts of {} random users (index)", t(s.posts_of_users)),
            unit: "users",
            count: s.posts_of_users as u64,
        },
        Op {
            kind: OpKind::ThreeLevel,
            label: format!(
                "users → posts → comments, {} random users",
                t(s.three_level_users)
            ),
            unit: "users",
            count: s.three_level_users as u64,
        },
        Op {
            kind: OpKind::PageAll,
            label: format!(
                "all {} posts by cursor, {PAGE}/page, 1 tx/page",
                t(w.total_posts())
            ),
            unit: "pages",
            count: pages as u64,
        },
        Op {
            kind: OpKind::PageOffset,
            label: format!("page at 90 % depth by offset ({} ×)", t(s.offset_page_reps)),
            unit: "pages",
            count: s.offset_page_reps as u64,
        },
        Op {
            kind: OpKind::PageCursor,
            label: format!("page at 90 % depth by cursor ({} ×)", t(s.cursor_page_reps)),
            unit: "pages",
            count: s.cursor_page_reps as u64,
        },
        Op {
            kind: OpKind::Titles,
            label: format!("{} updates, non-indexed column, 1 tx", t(s.title_updates)),
            unit: "updates",
            count: s.title_updates as u64,
        },
        Op {
            kind: OpKind::EmailUpdates,
            label: format!(
                "{} updates, unique-indexed column, 1 tx",
                t(s.email_updates)
            ),
            unit: "updates",
            count: s.email_updates as u64,
        },
        Op {
            kind: OpKind::Deletes,
            label: format!(
                "delete {} users + posts + comments (cascade), 1 tx",
                t(s.deletes)
            ),
            unit: "users",
            count: s.deletes as u64,
        },
    ]
}

fn run_op(imp: &mut dyn Imp, w: &Workload, kind: OpKind) -> Res<u64> {
    let s = &w.sizes;
    match kind {
        OpKind::Bulk => imp.bulk_insert(w),
        OpKind::Durable => imp.durable_inserts(w),
        OpKind::Gets => imp.gets(w),
        OpKind::Emails => imp.email_lookups(w),
        OpKind::PostsOf => imp.posts_of(w),
        OpKind::ThreeLevel => imp.three_level(w),
        OpKind::PageAll => imp.page_all(w.deep_offset()),
        OpKind::PageOffset => imp.page_offset_deep(w.deep_offset(), s.offset_page_reps),
        OpKind::PageCursor => imp.page_cursor_deep(s.cursor_page_reps),
        OpKind::Titles => imp.update_titles(w),
        OpKind::EmailUpdates => imp.update_emails(w),
        OpKind::Deletes => imp.delete_users(w),
    }
}

struct Measured {
    /// Every timed run of the operation, in seconds.
    samples: Vec<f64>,
    check: u64,
}

impl Measured {
    /// The median sample.
    fn secs(&self) -> f64 {
        let mut s = self.samples.clone();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    }
}

struct Run {
    which: Which,
    results: Vec<Measured>,
    counts: Counts,
}

/// One round: a fresh database for `which`, every operation in order.
fn run(which: Which, w: &Workload, ops: &[Op], reps: usize) -> Res<Run> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("redorm-bench-{}-", which.key()))
        .tempdir()?;
    let mut imp = which.open(dir.path())?;
    imp.prepare(w)?;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        let runs = if op.kind.read_only() { reps } else { 1 };
        let mut times = Vec::with_capacity(runs);
        let mut check = None;
        for _ in 0..runs {
            let start = Instant::now();
            let c = run_op(imp.as_mut(), w, op.kind)?;
            times.push(start.elapsed().as_secs_f64());
            assert!(
                check.is_none_or(|prev| prev == c),
                "{}: `{}` read different rows when repeated",
                which.key(),
                op.label
            );
            check = Some(c);
        }
        let m = Measured {
            samples: times,
            check: check.expect("ran at least once"),
        };
        let secs = m.secs();
        eprintln!(
            "  {:<14} {:<66} {:>8.3} s {:>9}/s{}",
            which.key(),
            op.label,
            secs,
            rate(op.count as f64 / secs),
            if runs > 1 {
                let (lo, hi) = m
                    .samples
                    .iter()
                    .fold((f64::MAX, 0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
                format!("  (median of {runs}: {lo:.3}..{hi:.3} s)")
            } else {
                String::new()
            }
        );
        results.push(m);
    }
    let counts = imp.counts()?;
    drop(imp);
    drop(dir);
    Ok(Run {
        which,
        results,
        counts,
    })
}

// The dependency versions this crate pins (bench/Cargo.toml and the workspace's redb pin).
const REDB: &str = "4.5.0";
const RUSQLITE: &str = "0.41.1";
const NATIVE_DB: &str = "0.8.2";

/// The first three fields of `/proc/loadavg`, where there is one: other work on the machine
/// shows up in the numbers, so the output says how busy it was.
fn loadavg() -> Option<String> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

fn rate(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.0}k", x / 1e3)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

struct Args {
    /// Internal: run one round of one implementation and print its results for the parent.
    child: bool,
    users: usize,
    rounds: usize,
    reps: usize,
    seed: u64,
    only: Vec<Which>,
}

const USAGE: &str = "usage: bench [--users N (default 10000)] [--seed S (default 42)] \
[--only redorm,redb,sqlite-full,sqlite-normal,native_db (or sqlite for both)] \
[--rounds N (default 5): whole runs, each on fresh databases] \
[--reps R (default 3): runs of each read-only operation per round]; \
every cell is the median of its samples";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        child: false,
        users: 10_000,
        rounds: 5,
        reps: 3,
        seed: 42,
        only: ALL.to_vec(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--users" => {
                args.users = value("--users")?
                    .replace('_', "")
                    .parse()
                    .map_err(|e| format!("--users: {e}"))?;
                if args.users < 2 {
                    return Err("--users must be at least 2".into());
                }
            }
            "--rounds" => {
                args.rounds = value("--rounds")?
                    .parse()
                    .map_err(|e| format!("--rounds: {e}"))?;
                if args.rounds == 0 {
                    return Err("--rounds must be at least 1".into());
                }
            }
            "--reps" => {
                args.reps = value("--reps")?
                    .parse()
                    .map_err(|e| format!("--reps: {e}"))?;
                if args.reps == 0 {
                    return Err("--reps must be at least 1".into());
                }
            }
            "--seed" => {
                args.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?;
            }
            "--only" => {
                let mut only = Vec::new();
                for name in value("--only")?.split(',') {
                    match name.trim() {
                        "sqlite" => only.extend([Which::SqliteFull, Which::SqliteNormal]),
                        n => only.push(
                            *ALL.iter()
                                .find(|w| w.key() == n)
                                .ok_or(format!("--only: unknown implementation `{n}`"))?,
                        ),
                    }
                }
                // Keep the table's column order.
                args.only = ALL.iter().copied().filter(|w| only.contains(w)).collect();
            }
            "--child" => args.child = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if args.child {
        return match child(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match bench(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The child side: one round of one implementation, results on stdout (one line per
/// operation: `op <index> <checksum> <seconds>...`, then `counts <users> <posts> <comments>`).
fn child(args: &Args) -> Res<()> {
    let [which] = args.only[..] else {
        return Err("--child runs exactly one implementation (--only <name>)".into());
    };
    let w = Workload::generate(args.users, args.seed);
    let ops = ops(&w);
    let r = run(which, &w, &ops, args.reps)?;
    for (i, m) in r.results.iter().enumerate() {
        let samples: Vec<String> = m.samples.iter().map(|s| format!("{s:e}")).collect();
        println!("op {i} {} {}", m.check, samples.join(" "));
    }
    let c = r.counts;
    println!("counts {} {} {}", c.users, c.posts, c.comments);
    Ok(())
}

/// Runs one round of `which` in a fresh process, so that no implementation inherits another's
/// heap, threads or caches, and parses what it prints.
fn run_child(which: Which, args: &Args) -> Res<Run> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["--child", "--only", which.key()])
        .args(["--users", &args.users.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .args(["--reps", &args.reps.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("the {} run failed ({})", which.key(), out.status).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let mut results = Vec::new();
    let mut counts = None;
    for line in text.lines() {
        let mut f = line.split_whitespace();
        match f.next() {
            Some("op") => {
                let i: usize = f.next().ok_or("op index")?.parse()?;
                assert_eq!(i, results.len(), "operations in order");
                let check = f.next().ok_or("op checksum")?.parse()?;
                let samples = f.map(str::parse).collect::<Result<Vec<f64>, _>>()?;
                results.push(Measured { samples, check });
            }
            Some("counts") => {
                let n: Vec<u64> = f.map(str::parse).collect::<Result<_, _>>()?;
                counts = Some(Counts {
                    users: n[0],
                    posts: n[1],
                    comments: n[2],
                });
            }
            _ => {
                return Err(
                    format!("unexpected output from the {} run: {line}", which.key()).into(),
                );
            }
        }
    }
    Ok(Run {
        which,
        results,
        counts: counts.ok_or("the child printed no row counts")?,
    })
}

fn bench(args: &Args) -> Res<bool> {
    eprintln!(
        "generating the workload: {} users, seed {}",
        args.users, args.seed
    );
    let w = Workload::generate(args.users, args.seed);
    let ops = ops(&w);
    let load_before = loadavg();
    let mut runs: Vec<Run> = Vec::new();
    for round in 1..=args.rounds {
        for &which in &args.only {
            eprintln!("round {round}/{}: {}", args.rounds, which.title());
            let r = run_child(which, args)?;
            match runs.iter_mut().find(|x| x.which == which) {
                None => runs.push(r),
                Some(acc) => {
                    // The workload is deterministic: every round must read and write the same.
                    for (i, (a, b)) in acc.results.iter_mut().zip(r.results).enumerate() {
                        assert_eq!(
                            a.check,
                            b.check,
                            "{}: `{}` differs between rounds",
                            which.key(),
                            ops[i].label
                        );
                        a.samples.extend(b.samples);
                    }
                    assert_eq!(
                        acc.counts,
                        r.counts,
                        "{}: row counts differ between rounds",
                        which.key()
                    );
                }
            }
        }
    }
    let load_after = loadavg();

    // ---- the table ----
    let base = runs.iter().find(|r| r.which == Which::Redb);
    println!();
    println!(
        "{} users, seed {}, {} rounds × {} repetitions of each read-only operation; \
         throughput per second, median of the samples (time relative to hand-written redb)",
        thousands(args.users),
        args.seed,
        args.rounds,
        args.reps
    );
    println!();
    let mut header = String::from("| operation | unit |");
    let mut rule = String::from("|---|---|");
    for r in &runs {
        header.push_str(&format!(" {} |", r.which.title()));
        rule.push_str("---:|");
    }
    println!("{header}");
    println!("{rule}");
    for (i, op) in ops.iter().enumerate() {
        let mut line = format!("| {} | {} |", op.label, op.unit);
        for r in &runs {
            let m = &r.results[i];
            let per_sec = op.count as f64 / m.secs();
            let ratio = match base {
                Some(b) => format!(" ({:.2}×)", m.secs() / b.results[i].secs()),
                None => String::new(),
            };
            line.push_str(&format!(" {}{ratio} |", rate(per_sec)));
        }
        println!("{line}");
    }
    println!();
    println!(
        "(×: the implementation's time divided by hand-written redb's for the same work; \
         1.30× = 30 % slower, 0.50× = twice as fast)"
    );
    println!();
    println!(
        "versions: redb {REDB} (redorm and hand-written), SQLite {} through rusqlite {RUSQLITE} \
         (bundled), native_db {NATIVE_DB} (its own redb 2.x)",
        rusqlite::version()
    );
    if let (Some(a), Some(b)) = (load_before, load_after) {
        println!("load average (1, 5, 15 min) before: {a}; after: {b}");
    }
    if runs.iter().any(|r| r.which == Which::Redorm) {
        println!("redorm 3-level load: {}", imp_redorm::three_level_path());
        println!("redorm cascade delete: {}", imp_redorm::delete_path());
    }

    // ---- agreement ----
    let mut ok = true;
    let names: Vec<&str> = runs.iter().map(|r| r.which.key()).collect();
    for (i, op) in ops.iter().enumerate() {
        let first = runs[0].results[i].check;
        if runs.iter().any(|r| r.results[i].check != first) {
            ok = false;
            let all: Vec<String> = runs
                .iter()
                .map(|r| format!("{}={:#x}", r.which.key(), r.results[i].check))
                .collect();
            println!("CHECKSUMS DISAGREE for `{}`: {}", op.label, all.join(", "));
        }
    }
    if ok {
        println!(
            "checksums of all {} operations agree across {}",
            ops.len(),
            names.join(", ")
        );
    }
    let counts = runs[0].counts;
    if runs.iter().all(|r| r.counts == counts) {
        println!("row counts agree across {}: {counts}", names.join(", "));
    } else {
        ok = false;
        for r in &runs {
            println!("ROW COUNTS DISAGREE: {}: {}", r.which.key(), r.counts);
        }
    }
    Ok(ok)
}
