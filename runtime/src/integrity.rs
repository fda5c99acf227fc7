//! The integrity check: everything the runtime keeps in step, compared in one snapshot —
//! every row decodes, every row has exactly its index entries and every index entry its row,
//! unique indexes hold no duplicate, every foreign key resolves, no counter is behind what it
//! numbered, and every stored job can run.

use std::collections::HashMap;
use std::fmt;
use std::ops::Bound;

use crate::catalog::{Catalog, full_key};
use crate::error::Result;
use crate::jobs::{JobKey, job_problem};
use crate::storage::{self, ReadStore, ReadTxn, Source, Space};
use crate::write::schedule::JOB_COUNTER;
use crate::write::{TOKEN_COUNTER, job_number};

/// What [`Db::check_integrity`](crate::Db::check_integrity) found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    /// Tables checked (the registered ones).
    pub tables: usize,
    /// Rows read, soft-deleted ones included.
    pub rows: u64,
    /// Index entries read.
    pub index_entries: u64,
    /// Stored jobs read.
    pub jobs: u64,
    /// Everything that is not as the runtime keeps it; empty for a healthy file.
    pub problems: Vec<IntegrityProblem>,
}

impl IntegrityReport {
    /// Whether nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for IntegrityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tables, {} rows, {} index entries, {} jobs: ",
            self.tables, self.rows, self.index_entries, self.jobs
        )?;
        if self.problems.is_empty() {
            return write!(f, "no problem");
        }
        write!(f, "{} problem(s)", self.problems.len())?;
        for p in &self.problems {
            write!(f, "\n- {p}")?;
        }
        Ok(())
    }
}

/// One thing the integrity check found wrong. No write of redorm leaves any of these behind:
/// each means the file was damaged, or changed by other code than redorm's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IntegrityProblem {
    /// A row whose bytes do not decode.
    UnreadableRow {
        /// Table name.
        table: String,
        /// Row id.
        id: u64,
        /// The decoding error.
        error: String,
    },
    /// A row without the entry it should have in an index.
    MissingIndexEntry {
        /// Table name.
        table: String,
        /// Index name.
        index: String,
        /// Row id.
        id: u64,
    },
    /// An index entry that no row gives (its row is missing, or holds other values).
    StrayIndexEntry {
        /// Table name.
        table: String,
        /// Index name.
        index: String,
        /// The row id at the end of the key (`None`: the key is too short to hold one).
        id: Option<u64>,
    },
    /// Two rows holding the same key of a unique index.
    DuplicateUnique {
        /// Table name.
        table: String,
        /// Index name.
        index: String,
        /// The two rows.
        ids: [u64; 2],
    },
    /// A foreign key pointing at a row that does not exist.
    DanglingReference {
        /// Table of the row holding the key.
        table: String,
        /// That row.
        id: u64,
        /// The foreign-key column.
        column: String,
        /// The table it points into.
        target: String,
        /// The id it holds.
        target_id: u64,
    },
    /// A counter lower than a number it already gave out (an id sequence behind a row id, the
    /// delete-token counter behind a token, the job counter behind a job): the next value it
    /// gives would collide.
    CounterBehind {
        /// The counter.
        counter: String,
        /// Its stored value.
        value: u64,
        /// The highest number in use.
        highest: u64,
    },
    /// A counter at `u64::MAX`, which no write reaches: the next number it gives would
    /// overflow, so the writes that need it fail with `Error::Corrupt`.
    CounterAtLimit {
        /// The counter.
        counter: String,
    },
    /// A counter whose stored value does not decode.
    UnreadableCounter {
        /// The counter.
        counter: String,
        /// The decoding error.
        error: String,
    },
    /// A stored job that cannot run.
    BadJob {
        /// Its key, for [`Db::remove_job`](crate::Db::remove_job).
        key: JobKey,
        /// What is wrong with it.
        problem: String,
    },
}

impl fmt::Display for IntegrityProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntegrityProblem::UnreadableRow { table, id, error } => {
                write!(f, "row {table}:{id} does not decode: {error}")
            }
            IntegrityProblem::MissingIndexEntry { table, index, id } => {
                write!(f, "row {table}:{id} has no entry in index `{index}`")
            }
            IntegrityProblem::StrayIndexEntry { table, index, id } => match id {
                Some(id) => write!(
                    f,
                    "index `{index}` of `{table}` has an entry for row {id}, which no row gives"
                ),
                None => write!(
                    f,
                    "index `{index}` of `{table}` has a key too short for an id"
                ),
            },
            IntegrityProblem::DuplicateUnique { table, index, ids } => write!(
                f,
                "rows {table}:{} and {table}:{} hold the same key of unique index `{index}`",
                ids[0], ids[1]
            ),
            IntegrityProblem::DanglingReference {
                table,
                id,
                column,
                target,
                target_id,
            } => write!(
                f,
                "row {table}:{id} has `{column}` = {target}:{target_id}, which does not exist"
            ),
            IntegrityProblem::CounterBehind {
                counter,
                value,
                highest,
            } => write!(
                f,
                "counter `{counter}` is {value}, behind {highest} already in use"
            ),
            IntegrityProblem::CounterAtLimit { counter } => {
                write!(
                    f,
                    "counter `{counter}` is at u64::MAX, which no write reaches"
                )
            }
            IntegrityProblem::UnreadableCounter { counter, error } => {
                write!(f, "counter `{counter}` does not decode: {error}")
            }
            IntegrityProblem::BadJob { key, problem } => write!(f, "job {key}: {problem}"),
        }
    }
}

/// Checks the whole database in one read snapshot (writers go on meanwhile). It holds one
/// table's index keys in memory at a time.
pub(crate) fn check(db: &Catalog) -> Result<IntegrityReport> {
    let store = ReadStore::begin(&db.engine)?;
    let mut report = IntegrityReport {
        tables: db.tables.len(),
        ..IntegrityReport::default()
    };
    let mut highest_token = 0;
    for info in &db.tables {
        let table = info.schema.name;
        let indexes = &info.schema.indexes;
        let mut expected: Vec<Vec<Vec<u8>>> = vec![Vec::new(); indexes.len()];
        let mut unique: Vec<HashMap<Vec<u8>, u64>> = vec![HashMap::new(); indexes.len()];
        let mut references: Vec<(u64, usize, u64)> = Vec::new();
        let mut highest_id = 0;
        let problems = &mut report.problems;
        let mut rows = 0;
        store.scan_rows(
            table,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            &mut |id, bytes| {
                rows += 1;
                highest_id = highest_id.max(id);
                let facts = match (info.row_facts)(info, id, bytes) {
                    Ok(facts) => facts,
                    Err(e) => {
                        problems.push(IntegrityProblem::UnreadableRow {
                            table: table.to_string(),
                            id,
                            error: e.to_string(),
                        });
                        return Ok(true);
                    }
                };
                if let Some((_, token)) = facts.deleted {
                    highest_token = highest_token.max(token);
                }
                for (pos, key) in facts.keys.iter().enumerate() {
                    expected[pos].push(full_key(&key.prefix, id));
                    let counts = key.checked && !(info.released[pos] && facts.deleted.is_some());
                    if counts && let Some(other) = unique[pos].insert(key.prefix.clone(), id) {
                        problems.push(IntegrityProblem::DuplicateUnique {
                            table: table.to_string(),
                            index: indexes[pos].name.to_string(),
                            ids: [other, id],
                        });
                    }
                }
                for (pos, value) in facts.fks.iter().enumerate() {
                    if let Some(target) = value {
                        references.push((id, pos, *target));
                    }
                }
                Ok(true)
            },
        )?;
        report.rows += rows;
        for (pos, mut keys) in expected.into_iter().enumerate() {
            keys.sort_unstable();
            let index = indexes[pos].name;
            let mut keys = keys.into_iter().peekable();
            let problems = &mut report.problems;
            let missing = |key: &[u8]| IntegrityProblem::MissingIndexEntry {
                table: table.to_string(),
                index: index.to_string(),
                id: storage::id_of_index_key(key).unwrap_or(0),
            };
            let mut entries = 0;
            store.scan_index(
                &info.index_tables[pos],
                Bound::Unbounded,
                Bound::Unbounded,
                false,
                &mut |stored| {
                    entries += 1;
                    while let Some(want) = keys.next_if(|want| want.as_slice() < stored) {
                        problems.push(missing(&want));
                    }
                    if keys.next_if(|want| want.as_slice() == stored).is_none() {
                        problems.push(IntegrityProblem::StrayIndexEntry {
                            table: table.to_string(),
                            index: index.to_string(),
                            id: storage::id_of_index_key(stored),
                        });
                    }
                    Ok(true)
                },
            )?;
            report.problems.extend(keys.map(|want| missing(&want)));
            report.index_entries += entries;
        }
        for (id, pos, target_id) in references {
            let fk = &info.schema.foreign_keys[pos];
            if store.with_row(fk.target, target_id, |_| Ok(()))?.is_none() {
                report.problems.push(IntegrityProblem::DanglingReference {
                    table: table.to_string(),
                    id,
                    column: info.schema.columns[fk.column].name.to_string(),
                    target: fk.target.to_string(),
                    target_id,
                });
            }
        }
        check_counter(&store, table, highest_id, &mut report.problems);
    }
    check_counter(&store, TOKEN_COUNTER, highest_token, &mut report.problems);

    let mut highest_job = 0;
    let mut jobs = 0;
    let problems = &mut report.problems;
    store.txn().scan(
        Space::Jobs,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
        |key, value| {
            jobs += 1;
            highest_job = highest_job.max(job_number(key).unwrap_or(0));
            if let (_, Some(problem)) = job_problem(db, key, value) {
                problems.push(IntegrityProblem::BadJob {
                    key: JobKey(key.to_vec()),
                    problem,
                });
            }
            Ok(true)
        },
    )?;
    report.jobs = jobs;
    check_counter(&store, JOB_COUNTER, highest_job, &mut report.problems);
    Ok(report)
}

/// Counter `name` must not be behind `highest`, the largest number it gave out.
fn check_counter(
    store: &ReadStore,
    name: &str,
    highest: u64,
    problems: &mut Vec<IntegrityProblem>,
) {
    match store.counter(name) {
        Ok(value) if value < highest => problems.push(IntegrityProblem::CounterBehind {
            counter: name.to_string(),
            value,
            highest,
        }),
        Ok(u64::MAX) => problems.push(IntegrityProblem::CounterAtLimit {
            counter: name.to_string(),
        }),
        Ok(_) => {}
        Err(e) => problems.push(IntegrityProblem::UnreadableCounter {
            counter: name.to_string(),
            error: e.to_string(),
        }),
    }
}
