//! The baseline: the same data in redb tables an expert would design by hand, no ORM.
//!
//! * `users`, `posts`, `comments`: `u64 id -> row`, rows as compact binary (fixed-width
//!   integers, `u16`-length-prefixed strings);
//! * secondary indexes as `(value, id) -> ()` keys: `users_by_email (&str, u64)`,
//!   `posts_by_author (u64, u64)`, `comments_by_post (u64, u64)`.
//!
//! It keeps the same guarantees as the others: emails are checked unique, and a post or comment
//! is inserted only when its parent exists.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::imp::{Imp, Res, page_all_after, row_sum};
use crate::workload::{Counts, PAGE, Workload};

const USERS: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("users");
const POSTS: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("posts");
const COMMENTS: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("comments");
const USERS_BY_EMAIL: TableDefinition<'static, (&str, u64), ()> =
    TableDefinition::new("users_by_email");
const POSTS_BY_AUTHOR: TableDefinition<'static, (u64, u64), ()> =
    TableDefinition::new("posts_by_author");
const COMMENTS_BY_POST: TableDefinition<'static, (u64, u64), ()> =
    TableDefinition::new("comments_by_post");

// ---- rows --------------------------------------------------------------------------------

// Decoded whole, as an application would; not every field is read by the benchmark.
#[allow(dead_code)]
struct User {
    email: String,
    name: String,
}

#[allow(dead_code)]
struct Post {
    author: u64,
    created: i64,
    published: bool,
    title: String,
    body: String,
}

#[allow(dead_code)]
struct Comment {
    post: u64,
    created: i64,
    body: String,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let len = u16::try_from(s.len()).expect("strings in this workload fit a u16 length");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn get_str(input: &mut &[u8]) -> String {
    let len = u16::from_le_bytes([input[0], input[1]]) as usize;
    let s = std::str::from_utf8(&input[2..2 + len]).expect("valid UTF-8");
    *input = &input[2 + len..];
    s.to_string()
}

fn get_u64(input: &mut &[u8]) -> u64 {
    let (head, rest) = input.split_at(8);
    *input = rest;
    u64::from_le_bytes(head.try_into().expect("8 bytes"))
}

fn encode_user(out: &mut Vec<u8>, email: &str, name: &str) {
    out.clear();
    put_str(out, email);
    put_str(out, name);
}

fn decode_user(mut b: &[u8]) -> User {
    let email = get_str(&mut b);
    let name = get_str(&mut b);
    User { email, name }
}

fn encode_post(
    out: &mut Vec<u8>,
    author: u64,
    created: i64,
    published: bool,
    title: &str,
    body: &str,
) {
    out.clear();
    out.extend_from_slice(&author.to_le_bytes());
    out.extend_from_slice(&created.to_le_bytes());
    out.push(u8::from(published));
    put_str(out, title);
    put_str(out, body);
}

fn decode_post(mut b: &[u8]) -> Post {
    let author = get_u64(&mut b);
    let created = get_u64(&mut b) as i64;
    let published = b[0] != 0;
    b = &b[1..];
    let title = get_str(&mut b);
    let body = get_str(&mut b);
    Post {
        author,
        created,
        published,
        title,
        body,
    }
}

fn encode_comment(out: &mut Vec<u8>, post: u64, created: i64, body: &str) {
    out.clear();
    out.extend_from_slice(&post.to_le_bytes());
    out.extend_from_slice(&created.to_le_bytes());
    put_str(out, body);
}

fn decode_comment(mut b: &[u8]) -> Comment {
    let post = get_u64(&mut b);
    let created = get_u64(&mut b) as i64;
    let body = get_str(&mut b);
    Comment {
        post,
        created,
        body,
    }
}

/// A user with its posts, each with its comments: what the 3-level load builds.
type Loaded = (User, Vec<(Post, Vec<Comment>)>);

fn post_sum(acc: u64, id: u64, p: &Post) -> u64 {
    row_sum(acc, id, p.title.len() + p.body.len())
}

/// Checksum, length and last id of a page.
fn page_sum(page: &[(u64, Post)]) -> (u64, usize, Option<u64>) {
    let sum = page.iter().fold(0, |acc, (id, p)| post_sum(acc, *id, p));
    (sum, page.len(), page.last().map(|(id, _)| *id))
}

/// Reads that both transaction kinds' tables can do.
fn email_taken<T: ReadableTable<(&'static str, u64), ()>>(
    by_email: &T,
    email: &str,
    except: Option<u64>,
) -> Res<bool> {
    for entry in by_email.range((email, 0u64)..=(email, u64::MAX))? {
        let (k, _) = entry?;
        if Some(k.value().1) != except {
            return Ok(true);
        }
    }
    Ok(false)
}

fn ids_under<T: ReadableTable<(u64, u64), ()>>(index: &T, parent: u64) -> Res<Vec<u64>> {
    let mut ids = Vec::new();
    for entry in index.range((parent, 0u64)..=(parent, u64::MAX))? {
        ids.push(entry?.0.value().1);
    }
    Ok(ids)
}

// ---- the implementation ------------------------------------------------------------------

pub struct HandRedb {
    db: Database,
    deep_after: Option<u64>,
}

impl HandRedb {
    pub fn open(dir: &Path) -> Res<HandRedb> {
        let db = Database::create(dir.join("hand.redb"))?;
        Ok(HandRedb {
            db,
            deep_after: None,
        })
    }

    /// The page of posts after id `after` (exclusive), from a new read transaction, as the
    /// `Vec` an application would return.
    fn page_after(&self, after: u64) -> Res<(u64, usize, Option<u64>)> {
        let tx = self.db.begin_read()?;
        let posts = tx.open_table(POSTS)?;
        let mut page = Vec::with_capacity(PAGE);
        for entry in posts.range(after + 1..)?.take(PAGE) {
            let (k, v) = entry?;
            page.push((k.value(), decode_post(v.value())));
        }
        Ok(page_sum(&page))
    }
}

impl Imp for HandRedb {
    fn prepare(&mut self, _w: &Workload) -> Res<()> {
        Ok(())
    }

    fn bulk_insert(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.begin_write()?;
        let mut n = 0u64;
        {
            let mut users = tx.open_table(USERS)?;
            let mut by_email = tx.open_table(USERS_BY_EMAIL)?;
            let mut posts = tx.open_table(POSTS)?;
            let mut by_author = tx.open_table(POSTS_BY_AUTHOR)?;
            let mut comments = tx.open_table(COMMENTS)?;
            let mut by_post = tx.open_table(COMMENTS_BY_POST)?;
            let mut buf = Vec::with_capacity(512);
            for (i, u) in w.users.iter().enumerate() {
                let id = i as u64 + 1;
                assert!(!email_taken(&by_email, &u.email, None)?, "duplicate email");
                encode_user(&mut buf, &u.email, &u.name);
                users.insert(id, buf.as_slice())?;
                by_email.insert((u.email.as_str(), id), ())?;
                n += 1;
            }
            for (i, p) in w.posts.iter().enumerate() {
                let id = i as u64 + 1;
                assert!(users.get(p.author)?.is_some(), "author exists");
                encode_post(
                    &mut buf,
                    p.author,
                    p.created,
                    p.published,
                    &p.title,
                    &p.body,
                );
                posts.insert(id, buf.as_slice())?;
                by_author.insert((p.author, id), ())?;
                n += 1;
            }
            for (i, c) in w.comments.iter().enumerate() {
                let id = i as u64 + 1;
                assert!(posts.get(c.post)?.is_some(), "post exists");
                encode_comment(&mut buf, c.post, c.created, &c.body);
                comments.insert(id, buf.as_slice())?;
                by_post.insert((c.post, id), ())?;
                n += 1;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    fn durable_inserts(&mut self, w: &Workload) -> Res<u64> {
        let mut buf = Vec::with_capacity(512);
        let mut sum = 0u64;
        for p in &w.durable_posts {
            let tx = self.db.begin_write()?;
            let id;
            {
                let mut posts = tx.open_table(POSTS)?;
                let users = tx.open_table(USERS)?;
                let mut by_author = tx.open_table(POSTS_BY_AUTHOR)?;
                assert!(users.get(p.author)?.is_some(), "author exists");
                id = posts.last()?.map_or(0, |(k, _)| k.value()) + 1;
                encode_post(
                    &mut buf,
                    p.author,
                    p.created,
                    p.published,
                    &p.title,
                    &p.body,
                );
                posts.insert(id, buf.as_slice())?;
                by_author.insert((p.author, id), ())?;
            }
            tx.commit()?;
            sum = row_sum(sum, id, 0);
        }
        Ok(sum)
    }

    fn gets(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.begin_read()?;
        let posts = tx.open_table(POSTS)?;
        let mut sum = 0u64;
        for &id in &w.get_ids {
            let p = decode_post(posts.get(id)?.expect("post exists").value());
            sum = post_sum(sum, id, &p);
        }
        Ok(sum)
    }

    fn email_lookups(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.begin_read()?;
        let users = tx.open_table(USERS)?;
        let by_email = tx.open_table(USERS_BY_EMAIL)?;
        let mut sum = 0u64;
        for &i in &w.email_lookups {
            let email = w.users[i].email.as_str();
            let (k, _) = by_email
                .range((email, 0u64)..=(email, u64::MAX))?
                .next()
                .expect("user exists")?;
            let id = k.value().1;
            let u = decode_user(users.get(id)?.expect("row exists").value());
            sum = row_sum(sum, id, u.name.len());
        }
        Ok(sum)
    }

    fn posts_of(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.begin_read()?;
        let posts = tx.open_table(POSTS)?;
        let by_author = tx.open_table(POSTS_BY_AUTHOR)?;
        let mut sum = 0u64;
        for &uid in &w.posts_of {
            let mut found = Vec::new();
            for entry in by_author.range((uid, 0u64)..=(uid, u64::MAX))? {
                let pid = entry?.0.value().1;
                found.push((
                    pid,
                    decode_post(posts.get(pid)?.expect("row exists").value()),
                ));
            }
            sum = sum.wrapping_add(page_sum(&found).0);
        }
        Ok(sum)
    }

    fn three_level(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.begin_read()?;
        let users = tx.open_table(USERS)?;
        let posts = tx.open_table(POSTS)?;
        let comments = tx.open_table(COMMENTS)?;
        let by_author = tx.open_table(POSTS_BY_AUTHOR)?;
        let by_post = tx.open_table(COMMENTS_BY_POST)?;
        let mut sum = 0u64;
        // Built as the nested structure an application would use.
        let mut loaded: Vec<Loaded> = Vec::with_capacity(w.three_level.len());
        for &uid in &w.three_level {
            let u = decode_user(users.get(uid)?.expect("user exists").value());
            sum = row_sum(sum, uid, u.name.len());
            let mut ps = Vec::new();
            for entry in by_author.range((uid, 0u64)..=(uid, u64::MAX))? {
                let pid = entry?.0.value().1;
                let p = decode_post(posts.get(pid)?.expect("row exists").value());
                sum = post_sum(sum, pid, &p);
                let mut cs = Vec::new();
                for entry in by_post.range((pid, 0u64)..=(pid, u64::MAX))? {
                    let cid = entry?.0.value().1;
                    let c = decode_comment(comments.get(cid)?.expect("row exists").value());
                    sum = row_sum(sum, cid, c.body.len());
                    cs.push(c);
                }
                ps.push((p, cs));
            }
            loaded.push((u, ps));
        }
        std::hint::black_box(&loaded);
        Ok(sum)
    }

    fn page_all(&mut self, deep: usize) -> Res<u64> {
        let (sum, deep_after) = page_all_after(deep, |after| self.page_after(after))?;
        self.deep_after = deep_after;
        Ok(sum)
    }

    fn page_offset_deep(&mut self, deep: usize, reps: usize) -> Res<u64> {
        let mut sum = 0u64;
        for _ in 0..reps {
            let tx = self.db.begin_read()?;
            let posts = tx.open_table(POSTS)?;
            // Skipping walks the B-tree leaves without decoding the rows.
            let mut page = Vec::with_capacity(PAGE);
            for entry in posts.iter()?.skip(deep).take(PAGE) {
                let (k, v) = entry?;
                page.push((k.value(), decode_post(v.value())));
            }
            sum = sum.wrapping_add(page_sum(&page).0);
        }
        Ok(sum)
    }

    fn page_cursor_deep(&mut self, reps: usize) -> Res<u64> {
        let after = self.deep_after.expect("page_all saw the deep page");
        let mut sum = 0u64;
        for _ in 0..reps {
            sum = sum.wrapping_add(self.page_after(after)?.0);
        }
        Ok(sum)
    }

    fn update_titles(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.begin_write()?;
        let mut sum = 0u64;
        {
            let mut posts = tx.open_table(POSTS)?;
            let mut buf = Vec::with_capacity(512);
            for (id, title) in &w.title_updates {
                let mut p = decode_post(posts.get(*id)?.expect("post exists").value());
                p.title.clone_from(title);
                encode_post(
                    &mut buf,
                    p.author,
                    p.created,
                    p.published,
                    &p.title,
                    &p.body,
                );
                posts.insert(*id, buf.as_slice())?;
                sum = row_sum(sum, *id, title.len());
            }
        }
        tx.commit()?;
        Ok(sum)
    }

    fn update_emails(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.begin_write()?;
        let mut sum = 0u64;
        {
            let mut users = tx.open_table(USERS)?;
            let mut by_email = tx.open_table(USERS_BY_EMAIL)?;
            let mut buf = Vec::with_capacity(128);
            for (id, email) in &w.email_updates {
                let u = decode_user(users.get(*id)?.expect("user exists").value());
                if u.email != *email {
                    assert!(
                        !email_taken(&by_email, email, Some(*id))?,
                        "duplicate email"
                    );
                    by_email.remove((u.email.as_str(), *id))?;
                    by_email.insert((email.as_str(), *id), ())?;
                }
                encode_user(&mut buf, email, &u.name);
                users.insert(*id, buf.as_slice())?;
                sum = row_sum(sum, *id, email.len());
            }
        }
        tx.commit()?;
        Ok(sum)
    }

    fn delete_users(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.begin_write()?;
        let mut sum = 0u64;
        {
            let mut users = tx.open_table(USERS)?;
            let mut by_email = tx.open_table(USERS_BY_EMAIL)?;
            let mut posts = tx.open_table(POSTS)?;
            let mut by_author = tx.open_table(POSTS_BY_AUTHOR)?;
            let mut comments = tx.open_table(COMMENTS)?;
            let mut by_post = tx.open_table(COMMENTS_BY_POST)?;
            for &uid in &w.deletes {
                for pid in ids_under(&by_author, uid)? {
                    for cid in ids_under(&by_post, pid)? {
                        comments.remove(cid)?;
                        by_post.remove((pid, cid))?;
                    }
                    posts.remove(pid)?;
                    by_author.remove((uid, pid))?;
                }
                let removed = users.remove(uid)?.expect("user exists");
                let u = decode_user(removed.value());
                drop(removed);
                by_email.remove((u.email.as_str(), uid))?;
                sum = row_sum(sum, uid, 0);
            }
        }
        tx.commit()?;
        Ok(sum)
    }

    fn counts(&mut self) -> Res<Counts> {
        let tx = self.db.begin_read()?;
        Ok(Counts {
            users: tx.open_table(USERS)?.len()?,
            posts: tx.open_table(POSTS)?.len()?,
            comments: tx.open_table(COMMENTS)?.len()?,
        })
    }
}
