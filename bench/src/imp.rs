//! What every implementation provides: one method per timed operation.
//!
//! Each method does the whole operation (transactions included) and returns a checksum of what
//! it read or wrote, compared across implementations so that they are seen to do the same work.
//! `prepare` runs before the clock starts: it builds the owned values an API needs (redorm and
//! native_db take rows by value; SQLite and hand-written redb encode from borrowed data).

use crate::workload::{Counts, PAGE, Workload};

pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

pub trait Imp {
    /// Untimed: builds the inputs this implementation takes by value.
    fn prepare(&mut self, w: &Workload) -> Res<()>;
    /// Every user, post and comment in one transaction.
    fn bulk_insert(&mut self, w: &Workload) -> Res<u64>;
    /// `w.durable_posts`, each in its own durable transaction.
    fn durable_inserts(&mut self, w: &Workload) -> Res<u64>;
    /// Posts by id, in one read transaction.
    fn gets(&mut self, w: &Workload) -> Res<u64>;
    /// Users by unique email, in one read transaction.
    fn email_lookups(&mut self, w: &Workload) -> Res<u64>;
    /// All posts of each user, through the author index, in one read transaction.
    fn posts_of(&mut self, w: &Workload) -> Res<u64>;
    /// Each user with its posts and their comments, in one read transaction.
    fn three_level(&mut self, w: &Workload) -> Res<u64>;
    /// Every post, `PAGE` at a time by cursor, one read transaction per page; remembers the
    /// cursor after `deep` rows for `page_cursor_deep`.
    fn page_all(&mut self, deep: usize) -> Res<u64>;
    /// `reps` times the page at offset `deep`, one read transaction each.
    fn page_offset_deep(&mut self, deep: usize, reps: usize) -> Res<u64>;
    /// `reps` times the page after the remembered cursor, one read transaction each.
    fn page_cursor_deep(&mut self, reps: usize) -> Res<u64>;
    /// Post titles (not indexed), in one transaction.
    fn update_titles(&mut self, w: &Workload) -> Res<u64>;
    /// User emails (unique index), in one transaction.
    fn update_emails(&mut self, w: &Workload) -> Res<u64>;
    /// Users with their posts and comments, in one transaction.
    fn delete_users(&mut self, w: &Workload) -> Res<u64>;
    /// Row counts.
    fn counts(&mut self) -> Res<Counts>;
}

/// What a checksum sees of a row: its id and the length of its text. A sum, so the order in
/// which an implementation returns rows does not matter.
/// Keyset paging through every post for the implementations that page by "id after": calls
/// `page_after(after)` (checksum, rows, last id) until a short page, and returns the checksum
/// and the id after which the page at `deep` rows starts.
pub fn page_all_after(
    deep: usize,
    mut page_after: impl FnMut(u64) -> Res<(u64, usize, Option<u64>)>,
) -> Res<(u64, Option<u64>)> {
    let (mut after, mut seen, mut sum, mut deep_after) = (0u64, 0usize, 0u64, None);
    loop {
        let (s, n, last) = page_after(after)?;
        sum = sum.wrapping_add(s);
        seen += n;
        if seen == deep {
            deep_after = last;
        }
        match last {
            Some(l) if n == PAGE => after = l,
            _ => return Ok((sum, deep_after)),
        }
    }
}

pub fn row_sum(acc: u64, id: u64, text_len: usize) -> u64 {
    acc.wrapping_add(id.wrapping_mul(31).wrapping_add(text_len as u64))
}
