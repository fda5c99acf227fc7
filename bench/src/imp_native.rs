//! native_db 0.8 with primary and secondary keys (it links its own redb 2.x).
//!
//! native_db has no foreign keys, no cascade and no id generator, so this side does what an
//! application on it has to: ids are given by the caller, a post or comment is inserted only
//! after reading that its parent exists, and deleting a user deletes its comments and posts
//! first. It has no durability setting: every commit is durable (redb's `Immediate`).

use std::path::Path;

// `ToKey` must be in scope for the code `#[native_db]` generates.
use native_db::{Builder, Database, Models, ToKey, native_db};
use native_model::{Model, native_model};
use serde::{Deserialize, Serialize};

use crate::imp::{Imp, Res, page_all_after, row_sum};
use crate::workload::{Counts, PAGE, PostData, Workload};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[native_model(id = 1, version = 1)]
#[native_db]
pub struct NUser {
    #[primary_key]
    pub id: u64,
    #[secondary_key(unique)]
    pub email: String,
    pub name: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[native_model(id = 2, version = 1)]
#[native_db]
pub struct NPost {
    #[primary_key]
    pub id: u64,
    #[secondary_key]
    pub author_id: u64,
    pub title: String,
    pub body: String,
    pub published: bool,
    pub created: i64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[native_model(id = 3, version = 1)]
#[native_db]
pub struct NComment {
    #[primary_key]
    pub id: u64,
    #[secondary_key]
    pub post_id: u64,
    pub body: String,
    pub created: i64,
}

/// A user with its posts, each with its comments: what the 3-level load builds.
type Loaded = (NUser, Vec<(NPost, Vec<NComment>)>);

fn post_sum(acc: u64, p: &NPost) -> u64 {
    row_sum(acc, p.id, p.title.len() + p.body.len())
}

/// Checksum, length and last id of a page.
fn page_sum(page: &[NPost]) -> (u64, usize, Option<u64>) {
    let sum = page.iter().fold(0, post_sum);
    (sum, page.len(), page.last().map(|p| p.id))
}

fn npost(id: u64, p: &PostData) -> NPost {
    NPost {
        id,
        author_id: p.author,
        title: p.title.clone(),
        body: p.body.clone(),
        published: p.published,
        created: p.created,
    }
}

#[derive(Default)]
struct Prepared {
    users: Vec<NUser>,
    posts: Vec<NPost>,
    comments: Vec<NComment>,
    durable: Vec<NPost>,
}

pub struct NativeDb {
    db: Database<'static>,
    prepared: Prepared,
    deep_after: Option<u64>,
}

impl NativeDb {
    pub fn open(dir: &Path) -> Res<NativeDb> {
        let mut models = Models::new();
        models.define::<NUser>()?;
        models.define::<NPost>()?;
        models.define::<NComment>()?;
        // The database borrows its models for its whole life; one per run is fine to leak.
        let models: &'static Models = Box::leak(Box::new(models));
        let db = Builder::new().create(models, dir.join("native.db"))?;
        Ok(NativeDb {
            db,
            prepared: Prepared::default(),
            deep_after: None,
        })
    }

    fn page_after(&self, after: u64) -> Res<(u64, usize, Option<u64>)> {
        let r = self.db.r_transaction()?;
        let scan = r.scan().primary::<NPost>()?;
        let page = scan
            .range(after + 1..)?
            .take(PAGE)
            .collect::<Result<Vec<NPost>, _>>()?;
        Ok(page_sum(&page))
    }
}

impl Imp for NativeDb {
    fn prepare(&mut self, w: &Workload) -> Res<()> {
        self.prepared.users = w
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| NUser {
                id: i as u64 + 1,
                email: u.email.clone(),
                name: u.name.clone(),
            })
            .collect();
        self.prepared.posts = w
            .posts
            .iter()
            .enumerate()
            .map(|(i, p)| npost(i as u64 + 1, p))
            .collect();
        self.prepared.comments = w
            .comments
            .iter()
            .enumerate()
            .map(|(i, c)| NComment {
                id: i as u64 + 1,
                post_id: c.post,
                body: c.body.clone(),
                created: c.created,
            })
            .collect();
        let first = w.posts.len() as u64 + 1;
        self.prepared.durable = w
            .durable_posts
            .iter()
            .enumerate()
            .map(|(i, p)| npost(first + i as u64, p))
            .collect();
        Ok(())
    }

    fn bulk_insert(&mut self, _w: &Workload) -> Res<u64> {
        let users = std::mem::take(&mut self.prepared.users);
        let posts = std::mem::take(&mut self.prepared.posts);
        let comments = std::mem::take(&mut self.prepared.comments);
        let mut n = 0u64;
        let rw = self.db.rw_transaction()?;
        for u in users {
            rw.insert(u)?;
            n += 1;
        }
        for p in posts {
            assert!(
                rw.get().primary::<NUser>(p.author_id)?.is_some(),
                "author exists"
            );
            rw.insert(p)?;
            n += 1;
        }
        for c in comments {
            assert!(
                rw.get().primary::<NPost>(c.post_id)?.is_some(),
                "post exists"
            );
            rw.insert(c)?;
            n += 1;
        }
        rw.commit()?;
        Ok(n)
    }

    fn durable_inserts(&mut self, _w: &Workload) -> Res<u64> {
        let posts = std::mem::take(&mut self.prepared.durable);
        let mut sum = 0u64;
        for p in posts {
            let id = p.id;
            let rw = self.db.rw_transaction()?;
            assert!(
                rw.get().primary::<NUser>(p.author_id)?.is_some(),
                "author exists"
            );
            rw.insert(p)?;
            rw.commit()?;
            sum = row_sum(sum, id, 0);
        }
        Ok(sum)
    }

    fn gets(&mut self, w: &Workload) -> Res<u64> {
        let r = self.db.r_transaction()?;
        let mut sum = 0u64;
        for &id in &w.get_ids {
            let p: NPost = r.get().primary(id)?.expect("post exists");
            sum = post_sum(sum, &p);
        }
        Ok(sum)
    }

    fn email_lookups(&mut self, w: &Workload) -> Res<u64> {
        let r = self.db.r_transaction()?;
        let mut sum = 0u64;
        for &i in &w.email_lookups {
            let u: NUser = r
                .get()
                .secondary(NUserKey::email, w.users[i].email.as_str())?
                .expect("user exists");
            sum = row_sum(sum, u.id, u.name.len());
        }
        Ok(sum)
    }

    fn posts_of(&mut self, w: &Workload) -> Res<u64> {
        let r = self.db.r_transaction()?;
        let mut sum = 0u64;
        for &uid in &w.posts_of {
            let scan = r.scan().secondary::<NPost>(NPostKey::author_id)?;
            let found = scan.range(uid..=uid)?.collect::<Result<Vec<NPost>, _>>()?;
            sum = sum.wrapping_add(page_sum(&found).0);
        }
        Ok(sum)
    }

    fn three_level(&mut self, w: &Workload) -> Res<u64> {
        let r = self.db.r_transaction()?;
        let mut sum = 0u64;
        let mut loaded: Vec<Loaded> = Vec::with_capacity(w.three_level.len());
        for &uid in &w.three_level {
            let u: NUser = r.get().primary(uid)?.expect("user exists");
            sum = row_sum(sum, u.id, u.name.len());
            let posts: Vec<NPost> = r
                .scan()
                .secondary::<NPost>(NPostKey::author_id)?
                .range(uid..=uid)?
                .collect::<Result<_, _>>()?;
            let mut ps = Vec::with_capacity(posts.len());
            for p in posts {
                sum = post_sum(sum, &p);
                let cs: Vec<NComment> = r
                    .scan()
                    .secondary::<NComment>(NCommentKey::post_id)?
                    .range(p.id..=p.id)?
                    .collect::<Result<_, _>>()?;
                for c in &cs {
                    sum = row_sum(sum, c.id, c.body.len());
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
            let r = self.db.r_transaction()?;
            let scan = r.scan().primary::<NPost>()?;
            let page = scan
                .all()?
                .skip(deep)
                .take(PAGE)
                .collect::<Result<Vec<NPost>, _>>()?;
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
        let rw = self.db.rw_transaction()?;
        let mut sum = 0u64;
        for (id, title) in &w.title_updates {
            let old: NPost = rw.get().primary(*id)?.expect("post exists");
            let mut new = old.clone();
            new.title.clone_from(title);
            rw.update(old, new)?;
            sum = row_sum(sum, *id, title.len());
        }
        rw.commit()?;
        Ok(sum)
    }

    fn update_emails(&mut self, w: &Workload) -> Res<u64> {
        let rw = self.db.rw_transaction()?;
        let mut sum = 0u64;
        for (id, email) in &w.email_updates {
            let old: NUser = rw.get().primary(*id)?.expect("user exists");
            let mut new = old.clone();
            new.email.clone_from(email);
            rw.update(old, new)?;
            sum = row_sum(sum, *id, email.len());
        }
        rw.commit()?;
        Ok(sum)
    }

    fn delete_users(&mut self, w: &Workload) -> Res<u64> {
        let rw = self.db.rw_transaction()?;
        let mut sum = 0u64;
        for &uid in &w.deletes {
            let posts: Vec<NPost> = rw
                .scan()
                .secondary::<NPost>(NPostKey::author_id)?
                .range(uid..=uid)?
                .collect::<Result<_, _>>()?;
            for p in posts {
                let comments: Vec<NComment> = rw
                    .scan()
                    .secondary::<NComment>(NCommentKey::post_id)?
                    .range(p.id..=p.id)?
                    .collect::<Result<_, _>>()?;
                for c in comments {
                    rw.remove(c)?;
                }
                rw.remove(p)?;
            }
            let user: NUser = rw.get().primary(uid)?.expect("user exists");
            rw.remove(user)?;
            sum = row_sum(sum, uid, 0);
        }
        rw.commit()?;
        Ok(sum)
    }

    fn counts(&mut self) -> Res<Counts> {
        let r = self.db.r_transaction()?;
        Ok(Counts {
            users: r.len().primary::<NUser>()?,
            posts: r.len().primary::<NPost>()?,
            comments: r.len().primary::<NComment>()?,
        })
    }
}
