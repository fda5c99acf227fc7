//! The job store: scheduled deletions as entries of the jobs keyspace, added by a scheduled
//! delete, cancelled by undelete or a hard delete, read by the job runner.

use std::ops::Bound;

use super::tx::WriteTx;
use crate::codec;
use crate::error::Result;
use crate::model::DeleteMode;
use crate::storage::{ReadTxn, Source, Space};

/// The counter that numbers jobs.
pub(crate) const JOB_COUNTER: &str = "__redorm_jobs";

impl WriteTx {
    pub(crate) fn add_job(&mut self, due: i64, table: &str, id: u64, token: u64) -> Result<()> {
        let job_id = self.bump_counter(JOB_COUNTER, "the job counter")?;
        let key = crate::write::schedule::job_key(due, job_id);
        let value = crate::write::schedule::Job {
            table: table.to_string(),
            id,
            token,
        }
        .encode();
        self.store.put_meta(Space::Jobs, &key, &value)
    }

    /// Removes the scheduled deletions of row `id` of `slot`.
    pub(crate) fn cancel_jobs(&mut self, slot: usize, id: u64) -> Result<()> {
        let schema = &self.db.tables[slot].schema;
        // Only scheduled tables store jobs: other deletes have nothing to look for.
        if !matches!(schema.delete, DeleteMode::Scheduled { .. }) {
            return Ok(());
        }
        let name = schema.name;
        let mut doomed = Vec::new();
        self.store.txn().scan(
            Space::Jobs,
            Bound::Unbounded,
            Bound::Unbounded,
            false,
            |k: &[u8], v: &[u8]| {
                if let Some(job) = crate::write::schedule::Job::decode(v)
                    && job.table == name
                    && job.id == id
                {
                    doomed.push(k.to_vec());
                }
                Ok(true)
            },
        )?;
        for k in doomed {
            self.store.remove_meta(Space::Jobs, &k)?;
        }
        Ok(())
    }
}

/// A stored job: purge row `id` of `table` if it is still soft-deleted with `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    pub(crate) table: String,
    pub(crate) id: u64,
    pub(crate) token: u64,
}

impl Job {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        codec::put_bytes(&mut out, self.table.as_bytes());
        codec::put_varint(&mut out, self.id);
        codec::put_varint(&mut out, self.token);
        out
    }

    pub(crate) fn decode(mut bytes: &[u8]) -> Option<Job> {
        let table = codec::get_bytes(&mut bytes, "table").ok()?;
        let table = String::from_utf8(table.to_vec()).ok()?;
        let id = codec::get_varint(&mut bytes).ok()?;
        let token = codec::get_varint(&mut bytes).ok()?;
        Some(Job { table, id, token })
    }
}

/// Length of a job key: the due time, then the job's number, 8 bytes each.
pub(crate) const JOB_KEY_LEN: usize = 16;

/// Jobs sort by due time: the time, sign-flipped big-endian, then the job's own number.
pub(crate) fn job_key(due: i64, job_id: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(16);
    k.extend_from_slice(&((due as u64) ^ (1 << 63)).to_be_bytes());
    k.extend_from_slice(&job_id.to_be_bytes());
    k
}

/// The job's number in a job key.
pub(crate) fn job_number(key: &[u8]) -> Option<u64> {
    let b: [u8; 8] = key.get(8..JOB_KEY_LEN)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

pub(crate) fn due_of(key: &[u8]) -> Option<i64> {
    let b: [u8; 8] = key.get(..8)?.try_into().ok()?;
    Some((u64::from_be_bytes(b) ^ (1 << 63)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_keys_sort_by_due_time_then_number() {
        assert!(job_key(-5, 9) < job_key(3, 1));
        assert!(job_key(3, 1) < job_key(3, 2));
        assert_eq!(due_of(&job_key(-42, 7)), Some(-42));
        let job = Job {
            table: "users".into(),
            id: 7,
            token: 3,
        };
        assert_eq!(Job::decode(&job.encode()), Some(job));
        assert_eq!(Job::decode(&[0xff]), None);
    }
}
