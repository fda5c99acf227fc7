//! redorm, through its public API only.

use std::path::Path;

use redorm::prelude::*;
use redorm::{Cursor, Durability};

use crate::imp::{Imp, Res, row_sum};
use crate::workload::{Counts, PAGE, Workload};

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users")]
#[cfg_attr(feature = "relations", has_many(posts, Post, by = author_id))]
pub struct User {
    #[unique]
    pub email: String,
    pub name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts")]
#[cfg_attr(feature = "relations", has_many(comments, Comment, by = post_id))]
pub struct Post {
    // Without relations the foreign key is a plain indexed column; `belongs_to` creates the
    // same child-side index and checks the parent exists.
    #[cfg_attr(not(feature = "relations"), index)]
    #[cfg_attr(
        all(feature = "relations", not(feature = "cascade")),
        belongs_to(author, User)
    )]
    #[cfg_attr(feature = "cascade", belongs_to(author, User, on_delete = cascade))]
    pub author_id: Id<User>,
    pub title: String,
    pub body: String,
    pub published: bool,
    pub created: i64,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "comments")]
pub struct Comment {
    #[cfg_attr(not(feature = "relations"), index)]
    #[cfg_attr(
        all(feature = "relations", not(feature = "cascade")),
        belongs_to(post, Post)
    )]
    #[cfg_attr(feature = "cascade", belongs_to(post, Post, on_delete = cascade))]
    pub post_id: Id<Post>,
    pub body: String,
    pub created: i64,
}

/// How the 3-level load runs in this build.
pub fn three_level_path() -> &'static str {
    if cfg!(feature = "relations") {
        "tx.get_many(ids) then tx.load_into(&mut users, User::posts().with(Post::comments())), batched (relations feature)"
    } else {
        "FALLBACK: plain index queries per level (built without the `relations` feature)"
    }
}

/// How the cascade delete runs in this build.
pub fn delete_path() -> &'static str {
    if cfg!(feature = "cascade") {
        "tx.delete(user) with on_delete = cascade (cascade feature)"
    } else {
        "FALLBACK: comments, then posts, then the user, deleted by plain queries (built without the `cascade` feature)"
    }
}

#[derive(Default)]
struct Prepared {
    users: Vec<User>,
    posts: Vec<Post>,
    comments: Vec<Comment>,
    durable: Vec<Post>,
    titles: Vec<(Id<Post>, String)>,
    emails: Vec<(Id<User>, String)>,
}

pub struct Redorm {
    db: Db,
    user_ids: Vec<Id<User>>,
    post_ids: Vec<Id<Post>>,
    prepared: Prepared,
    deep_cursor: Option<Cursor>,
    /// Bulk-load with a loop of `insert` instead of `insert_many`.
    by_loop: bool,
}

fn id<T: Table>(raw: u64) -> Res<Id<T>> {
    Ok(format!("{}:{raw}", T::NAME).parse::<Id<T>>()?)
}

fn post_sum(acc: u64, p: &Doc<Post>) -> u64 {
    row_sum(acc, p.id.get(), p.title.len() + p.body.len())
}

impl Redorm {
    pub fn open(dir: &Path, by_loop: bool) -> Res<Redorm> {
        let db = Db::builder()
            .table::<User>()
            .table::<Post>()
            .table::<Comment>()
            .open(dir.join("redorm.redb"))?;
        Ok(Redorm {
            db,
            user_ids: Vec::new(),
            post_ids: Vec::new(),
            prepared: Prepared::default(),
            deep_cursor: None,
            by_loop,
        })
    }

    fn user(&self, raw: u64) -> Id<User> {
        self.user_ids[raw as usize - 1]
    }

    fn post(&self, raw: u64) -> Id<Post> {
        self.post_ids[raw as usize - 1]
    }
}

impl Imp for Redorm {
    fn prepare(&mut self, w: &Workload) -> Res<()> {
        let post = |p: &crate::workload::PostData| -> Res<Post> {
            Ok(Post {
                author_id: id(p.author)?,
                title: p.title.clone(),
                body: p.body.clone(),
                published: p.published,
                created: p.created,
            })
        };
        self.prepared.users = w
            .users
            .iter()
            .map(|u| User {
                email: u.email.clone(),
                name: u.name.clone(),
            })
            .collect();
        self.prepared.posts = w.posts.iter().map(post).collect::<Res<_>>()?;
        self.prepared.comments = w
            .comments
            .iter()
            .map(|c| {
                Ok(Comment {
                    post_id: id(c.post)?,
                    body: c.body.clone(),
                    created: c.created,
                })
            })
            .collect::<Res<_>>()?;
        self.prepared.durable = w.durable_posts.iter().map(post).collect::<Res<_>>()?;
        self.prepared.titles = w
            .title_updates
            .iter()
            .map(|(p, t)| Ok((id(*p)?, t.clone())))
            .collect::<Res<_>>()?;
        self.prepared.emails = w
            .email_updates
            .iter()
            .map(|(u, e)| Ok((id(*u)?, e.clone())))
            .collect::<Res<_>>()?;
        Ok(())
    }

    fn bulk_insert(&mut self, _w: &Workload) -> Res<u64> {
        let users = std::mem::take(&mut self.prepared.users);
        let posts = std::mem::take(&mut self.prepared.posts);
        let comments = std::mem::take(&mut self.prepared.comments);
        let n = (users.len() + posts.len() + comments.len()) as u64;
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        if self.by_loop {
            for u in users {
                self.user_ids.push(tx.insert(u)?);
            }
            for p in posts {
                self.post_ids.push(tx.insert(p)?);
            }
            for c in comments {
                tx.insert(c)?;
            }
        } else {
            self.user_ids = tx.insert_many(users)?;
            self.post_ids = tx.insert_many(posts)?;
            tx.insert_many(comments)?;
        }
        tx.commit()?;
        Ok(n)
    }

    fn durable_inserts(&mut self, _w: &Workload) -> Res<u64> {
        let posts = std::mem::take(&mut self.prepared.durable);
        let mut sum = 0u64;
        for p in posts {
            let id = self.db.write(|tx| tx.insert(p))?;
            sum = row_sum(sum, id.get(), 0);
            self.post_ids.push(id);
        }
        Ok(sum)
    }

    fn gets(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.read()?;
        let mut sum = 0u64;
        for &raw in &w.get_ids {
            let p = tx.get(self.post(raw))?.expect("post exists");
            sum = post_sum(sum, &p);
        }
        Ok(sum)
    }

    fn email_lookups(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.read()?;
        let mut sum = 0u64;
        for &i in &w.email_lookups {
            let u = tx
                .get_by(User::by_email(), w.users[i].email.as_str())?
                .expect("user exists");
            sum = row_sum(sum, u.id.get(), u.name.len());
        }
        Ok(sum)
    }

    fn posts_of(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.read()?;
        let mut sum = 0u64;
        for &raw in &w.posts_of {
            let posts = tx
                .query::<Post>()
                .filter(Post::author_id().eq(self.user(raw)))
                .all()?;
            for p in &posts {
                sum = post_sum(sum, p);
            }
        }
        Ok(sum)
    }

    #[cfg(feature = "relations")]
    fn three_level(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.read()?;
        let ids = w.three_level.iter().map(|&raw| self.user(raw));
        let mut users: Vec<Doc<User>> = tx.get_many(ids)?.into_iter().flatten().collect();
        assert_eq!(users.len(), w.three_level.len(), "every user exists");
        // Both levels below load in one batch for all the users.
        // A level here reads ~10 000 distinct keys: past the default fan-out guard on purpose.
        let rel = User::posts()
            .allow_fan_out()
            .with(Post::comments().allow_fan_out());
        tx.load_into(&mut users, rel)?;
        let mut sum = 0u64;
        for user in &users {
            sum = row_sum(sum, user.id.get(), user.name.len());
            for p in user.get(User::posts()) {
                sum = post_sum(sum, p);
                for c in p.get(Post::comments()) {
                    sum = row_sum(sum, c.id.get(), c.body.len());
                }
            }
        }
        Ok(sum)
    }

    #[cfg(not(feature = "relations"))]
    fn three_level(&mut self, w: &Workload) -> Res<u64> {
        let tx = self.db.read()?;
        let mut sum = 0u64;
        for &raw in &w.three_level {
            let user = tx.get(self.user(raw))?.expect("user exists");
            sum = row_sum(sum, user.id.get(), user.name.len());
            let posts = tx
                .query::<Post>()
                .filter(Post::author_id().eq(user.id))
                .all()?;
            for p in &posts {
                sum = post_sum(sum, p);
                let comments = tx
                    .query::<Comment>()
                    .filter(Comment::post_id().eq(p.id))
                    .all()?;
                for c in &comments {
                    sum = row_sum(sum, c.id.get(), c.body.len());
                }
            }
        }
        Ok(sum)
    }

    fn page_all(&mut self, deep: usize) -> Res<u64> {
        let mut cursor: Option<Cursor> = None;
        let mut seen = 0usize;
        let mut sum = 0u64;
        loop {
            let tx = self.db.read()?;
            let page = tx.query::<Post>().paginate(cursor.as_ref(), PAGE)?;
            for p in &page.items {
                sum = post_sum(sum, p);
            }
            seen += page.items.len();
            cursor = page.next_cursor;
            if seen == deep {
                self.deep_cursor = cursor.clone();
            }
            if cursor.is_none() {
                break;
            }
        }
        Ok(sum)
    }

    fn page_offset_deep(&mut self, deep: usize, reps: usize) -> Res<u64> {
        let mut sum = 0u64;
        for _ in 0..reps {
            let tx = self.db.read()?;
            let page = tx.query::<Post>().offset(deep).limit(PAGE).all()?;
            for p in &page {
                sum = post_sum(sum, p);
            }
        }
        Ok(sum)
    }

    fn page_cursor_deep(&mut self, reps: usize) -> Res<u64> {
        let cursor = self
            .deep_cursor
            .clone()
            .expect("page_all saw the deep page");
        let mut sum = 0u64;
        for _ in 0..reps {
            let tx = self.db.read()?;
            let page = tx.query::<Post>().paginate(Some(&cursor), PAGE)?;
            for p in &page.items {
                sum = post_sum(sum, p);
            }
        }
        Ok(sum)
    }

    fn update_titles(&mut self, _w: &Workload) -> Res<u64> {
        let updates = std::mem::take(&mut self.prepared.titles);
        let mut sum = 0u64;
        let mut tx = self.db.begin_write()?;
        for (id, title) in updates {
            sum = row_sum(sum, id.get(), title.len());
            tx.patch(id, move |p| p.title = title)?;
        }
        tx.commit()?;
        Ok(sum)
    }

    fn update_emails(&mut self, _w: &Workload) -> Res<u64> {
        let updates = std::mem::take(&mut self.prepared.emails);
        let mut sum = 0u64;
        let mut tx = self.db.begin_write()?;
        for (id, email) in updates {
            sum = row_sum(sum, id.get(), email.len());
            tx.patch(id, move |u| u.email = email)?;
        }
        tx.commit()?;
        Ok(sum)
    }

    #[cfg(feature = "cascade")]
    fn delete_users(&mut self, w: &Workload) -> Res<u64> {
        let mut sum = 0u64;
        let mut tx = self.db.begin_write()?;
        for &raw in &w.deletes {
            tx.delete(self.user(raw))?;
            sum = row_sum(sum, raw, 0);
        }
        tx.commit()?;
        Ok(sum)
    }

    #[cfg(not(feature = "cascade"))]
    fn delete_users(&mut self, w: &Workload) -> Res<u64> {
        let mut sum = 0u64;
        let mut tx = self.db.begin_write()?;
        for &raw in &w.deletes {
            let user = self.user(raw);
            let posts = tx
                .query::<Post>()
                .filter(Post::author_id().eq(user))
                .all()?;
            for p in posts {
                let comments = tx
                    .query::<Comment>()
                    .filter(Comment::post_id().eq(p.id))
                    .all()?;
                for c in comments {
                    tx.delete(c.id)?;
                }
                tx.delete(p.id)?;
            }
            tx.delete(user)?;
            sum = row_sum(sum, raw, 0);
        }
        tx.commit()?;
        Ok(sum)
    }

    fn counts(&mut self) -> Res<Counts> {
        let tx = self.db.read()?;
        Ok(Counts {
            users: tx.query::<User>().count()? as u64,
            posts: tx.query::<Post>().count()? as u64,
            comments: tx.query::<Comment>().count()? as u64,
        })
    }
}
