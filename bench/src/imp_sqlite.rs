//! SQLite through rusqlite (bundled): WAL, `synchronous = FULL` or `NORMAL`, prepared (cached)
//! statements, foreign keys with `ON DELETE CASCADE`, indexes on the foreign keys, `UNIQUE` on
//! email. The page cache is set to 1 GiB, redb's default cache size.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::imp::{Imp, Res, page_all_after, row_sum};
use crate::workload::{Counts, PAGE, Workload};

const SCHEMA: &str = "
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published INTEGER NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX posts_author_id ON posts(author_id);
CREATE TABLE comments (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX comments_post_id ON comments(post_id);
";

const INSERT_USER: &str = "INSERT INTO users (email, name) VALUES (?1, ?2)";
const INSERT_POST: &str =
    "INSERT INTO posts (author_id, title, body, published, created) VALUES (?1, ?2, ?3, ?4, ?5)";
const INSERT_COMMENT: &str = "INSERT INTO comments (post_id, body, created) VALUES (?1, ?2, ?3)";
const POST_COLS: &str = "id, author_id, title, body, published, created";

#[allow(dead_code)] // decoded whole, as an application would
struct User {
    id: i64,
    email: String,
    name: String,
}

#[allow(dead_code)]
struct Post {
    id: i64,
    author: i64,
    title: String,
    body: String,
    published: bool,
    created: i64,
}

#[allow(dead_code)]
struct Comment {
    id: i64,
    post: i64,
    body: String,
    created: i64,
}

fn post_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Post> {
    Ok(Post {
        id: r.get(0)?,
        author: r.get(1)?,
        title: r.get(2)?,
        body: r.get(3)?,
        published: r.get(4)?,
        created: r.get(5)?,
    })
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
    })
}

fn comment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Comment> {
    Ok(Comment {
        id: r.get(0)?,
        post: r.get(1)?,
        body: r.get(2)?,
        created: r.get(3)?,
    })
}

/// SQLite integers are `i64`; the workload's ids are small.
fn sql(id: u64) -> i64 {
    i64::try_from(id).expect("ids fit an i64")
}

/// A user with its posts, each with its comments: what the 3-level load builds.
type Loaded = (User, Vec<(Post, Vec<Comment>)>);

fn post_sum(acc: u64, p: &Post) -> u64 {
    row_sum(acc, p.id as u64, p.title.len() + p.body.len())
}

/// Checksum, length and last id of a page.
fn page_sum(page: &[Post]) -> (u64, usize, Option<u64>) {
    let sum = page.iter().fold(0, post_sum);
    (sum, page.len(), page.last().map(|p| p.id as u64))
}

pub struct Sqlite {
    conn: Connection,
    deep_after: Option<u64>,
}

impl Sqlite {
    /// `synchronous` is `"FULL"` or `"NORMAL"`.
    pub fn open(dir: &Path, synchronous: &str) -> Res<Sqlite> {
        let conn = Connection::open(dir.join("bench.sqlite"))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        assert_eq!(mode.to_lowercase(), "wal");
        conn.pragma_update(None, "synchronous", synchronous)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -1_048_576)?; // KiB: 1 GiB
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(SCHEMA)?;
        Ok(Sqlite {
            conn,
            deep_after: None,
        })
    }

    fn page_after(&self, after: u64) -> Res<(u64, usize, Option<u64>)> {
        // One statement in autocommit mode: its own read transaction.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {POST_COLS} FROM posts WHERE id > ?1 ORDER BY id LIMIT {PAGE}"
        ))?;
        let page = stmt
            .query_map([sql(after)], post_row)?
            .collect::<rusqlite::Result<Vec<Post>>>()?;
        Ok(page_sum(&page))
    }
}

impl Imp for Sqlite {
    fn prepare(&mut self, _w: &Workload) -> Res<()> {
        Ok(())
    }

    fn bulk_insert(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.conn.transaction()?;
        let mut n = 0u64;
        {
            let mut ins = tx.prepare_cached(INSERT_USER)?;
            for u in &w.users {
                ins.execute(params![u.email, u.name])?;
                n += 1;
            }
            let mut ins = tx.prepare_cached(INSERT_POST)?;
            for p in &w.posts {
                ins.execute(params![
                    sql(p.author),
                    p.title,
                    p.body,
                    p.published,
                    p.created
                ])?;
                n += 1;
            }
            let mut ins = tx.prepare_cached(INSERT_COMMENT)?;
            for c in &w.comments {
                ins.execute(params![sql(c.post), c.body, c.created])?;
                n += 1;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    fn durable_inserts(&mut self, w: &Workload) -> Res<u64> {
        let mut sum = 0u64;
        for p in &w.durable_posts {
            let tx = self.conn.transaction()?;
            tx.prepare_cached(INSERT_POST)?.execute(params![
                sql(p.author),
                p.title,
                p.body,
                p.published,
                p.created
            ])?;
            let id = tx.last_insert_rowid() as u64;
            tx.commit()?;
            sum = row_sum(sum, id, 0);
        }
        Ok(sum)
    }

    fn gets(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.conn.transaction()?;
        let mut sum = 0u64;
        {
            let mut stmt =
                tx.prepare_cached(&format!("SELECT {POST_COLS} FROM posts WHERE id = ?1"))?;
            for &id in &w.get_ids {
                let p = stmt.query_row([sql(id)], post_row)?;
                sum = post_sum(sum, &p);
            }
        }
        tx.commit()?;
        Ok(sum)
    }

    fn email_lookups(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.conn.transaction()?;
        let mut sum = 0u64;
        {
            let mut stmt =
                tx.prepare_cached("SELECT id, email, name FROM users WHERE email = ?1")?;
            for &i in &w.email_lookups {
                let u = stmt
                    .query_row([&w.users[i].email], user_row)
                    .optional()?
                    .expect("user exists");
                sum = row_sum(sum, u.id as u64, u.name.len());
            }
        }
        tx.commit()?;
        Ok(sum)
    }

    fn posts_of(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.conn.transaction()?;
        let mut sum = 0u64;
        {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {POST_COLS} FROM posts WHERE author_id = ?1"
            ))?;
            for &uid in &w.posts_of {
                let found = stmt
                    .query_map([sql(uid)], post_row)?
                    .collect::<rusqlite::Result<Vec<Post>>>()?;
                sum = sum.wrapping_add(page_sum(&found).0);
            }
        }
        tx.commit()?;
        Ok(sum)
    }

    fn three_level(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.conn.transaction()?;
        let mut sum = 0u64;
        {
            let mut user_stmt =
                tx.prepare_cached("SELECT id, email, name FROM users WHERE id = ?1")?;
            let mut posts_stmt = tx.prepare_cached(&format!(
                "SELECT {POST_COLS} FROM posts WHERE author_id = ?1"
            ))?;
            let mut comments_stmt = tx.prepare_cached(
                "SELECT id, post_id, body, created FROM comments WHERE post_id = ?1",
            )?;
            let mut loaded: Vec<Loaded> = Vec::with_capacity(w.three_level.len());
            for &uid in &w.three_level {
                let u = user_stmt.query_row([sql(uid)], user_row)?;
                sum = row_sum(sum, u.id as u64, u.name.len());
                let posts = posts_stmt
                    .query_map([sql(uid)], post_row)?
                    .collect::<rusqlite::Result<Vec<Post>>>()?;
                let mut ps = Vec::with_capacity(posts.len());
                for p in posts {
                    sum = post_sum(sum, &p);
                    let cs = comments_stmt
                        .query_map([p.id], comment_row)?
                        .collect::<rusqlite::Result<Vec<Comment>>>()?;
                    for c in &cs {
                        sum = row_sum(sum, c.id as u64, c.body.len());
                    }
                    ps.push((p, cs));
                }
                loaded.push((u, ps));
            }
            std::hint::black_box(&loaded);
        }
        tx.commit()?;
        Ok(sum)
    }

    fn page_all(&mut self, deep: usize) -> Res<u64> {
        let (sum, deep_after) = page_all_after(deep, |after| self.page_after(after))?;
        self.deep_after = deep_after;
        Ok(sum)
    }

    fn page_offset_deep(&mut self, deep: usize, reps: usize) -> Res<u64> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {POST_COLS} FROM posts ORDER BY id LIMIT {PAGE} OFFSET ?1"
        ))?;
        let mut sum = 0u64;
        for _ in 0..reps {
            let page = stmt
                .query_map([deep as i64], post_row)?
                .collect::<rusqlite::Result<Vec<Post>>>()?;
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
        let tx = self.conn.transaction()?;
        let mut sum = 0u64;
        {
            let mut stmt = tx.prepare_cached("UPDATE posts SET title = ?1 WHERE id = ?2")?;
            for (id, title) in &w.title_updates {
                assert_eq!(stmt.execute(params![title, sql(*id)])?, 1);
                sum = row_sum(sum, *id, title.len());
            }
        }
        tx.commit()?;
        Ok(sum)
    }

    fn update_emails(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.conn.transaction()?;
        let mut sum = 0u64;
        {
            let mut stmt = tx.prepare_cached("UPDATE users SET email = ?1 WHERE id = ?2")?;
            for (id, email) in &w.email_updates {
                assert_eq!(stmt.execute(params![email, sql(*id)])?, 1);
                sum = row_sum(sum, *id, email.len());
            }
        }
        tx.commit()?;
        Ok(sum)
    }

    fn delete_users(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.conn.transaction()?;
        let mut sum = 0u64;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM users WHERE id = ?1")?;
            for &uid in &w.deletes {
                assert_eq!(stmt.execute([sql(uid)])?, 1);
                sum = row_sum(sum, uid, 0);
            }
        }
        tx.commit()?;
        Ok(sum)
    }

    fn counts(&mut self) -> Res<Counts> {
        let count = |table: &str| -> Res<u64> {
            let n: i64 =
                self.conn
                    .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
            Ok(n as u64)
        };
        Ok(Counts {
            users: count("users")?,
            posts: count("posts")?,
            comments: count("comments")?,
        })
    }
}
