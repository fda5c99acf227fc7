//! The semantics settled in the second round of queries: ties in an order follow the id in the
//! direction of the last order key on every path, a relation's default order is id order
//! whichever index serves its probe, and range operators never match `None`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, engines};
use redorm::prelude::*;
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "authors")]
#[has_many(posts, Scored, by = author_id)]
struct Author {
    name: String,
}

/// The same order through an index, ...
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "scored")]
struct Scored {
    #[belongs_to(author, Author, on_delete = cascade)]
    author_id: Id<Author>,
    #[index]
    score: u32,
    plain: u32,
}

fn scored_db(engine: Engine) -> (Db, Id<Author>) {
    let db = Db::builder()
        .table::<Author>()
        .table::<Scored>()
        .open_on(engine);
    let a = db
        .write(|tx| {
            let a = tx.insert(Author { name: "a".into() })?;
            for s in [2, 1, 2, 1, 2] {
                tx.insert(Scored {
                    author_id: a,
                    score: s,
                    plain: s,
                })?;
            }
            Ok(a)
        })
        .unwrap();
    (db, a)
}

fn ids<T>(docs: &[Doc<T>]) -> Vec<u64> {
    docs.iter().map(|d| d.id.get()).collect()
}

#[apply(engines)]
fn descending_ties_follow_the_id_descending_on_every_path(engine: Engine) {
    let (db, _) = scored_db(engine);
    let tx = db.read().unwrap();
    let by_index = tx.query::<Scored>().order_by(Scored::score().desc());
    assert!(
        by_index
            .explain()
            .contains("order: served by the index (descending)")
    );
    let sorted = tx
        .query::<Scored>()
        .order_by(Scored::plain().desc())
        .allow_full_scan();
    assert!(
        sorted
            .explain()
            .contains("order: sorted in memory by plain desc")
    );
    let want = vec![5, 3, 1, 4, 2];
    assert_eq!(ids(&by_index.all().unwrap()), want);
    assert_eq!(ids(&sorted.all().unwrap()), want);
    let users = tx
        .query::<Author>()
        .with(Author::posts().order_by(Scored::plain().desc()))
        .all()
        .unwrap();
    assert_eq!(ids(users[0].get(Author::posts())), want);
    let users = tx
        .query::<Author>()
        .with(Author::posts().order_by(Scored::score().desc()))
        .all()
        .unwrap();
    assert_eq!(ids(users[0].get(Author::posts())), want);
    // Under a limit, every path keeps the same rows.
    assert_eq!(ids(&by_index.clone_limit(2)), [5, 3]);
    assert_eq!(
        ids(&tx
            .query::<Scored>()
            .order_by(Scored::plain().desc())
            .allow_full_scan()
            .limit(2)
            .all()
            .unwrap()),
        [5, 3]
    );
    let users = tx
        .query::<Author>()
        .with(Author::posts().order_by(Scored::plain().desc()).limit(2))
        .all()
        .unwrap();
    assert_eq!(ids(users[0].get(Author::posts())), [5, 3]);
    // Pages, both through the index and sorted in memory.
    for q in [
        tx.query::<Scored>().order_by(Scored::score().desc()),
        tx.query::<Scored>()
            .order_by(Scored::plain().desc())
            .allow_full_scan(),
    ] {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = q.paginate(cursor.as_ref(), 2).unwrap();
            seen.extend(ids(&page.items));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, want);
    }
}

trait LimitHelper {
    fn clone_limit(&self, n: usize) -> Vec<Doc<Scored>>;
}
impl LimitHelper for redorm::Query<'_, Scored> {
    fn clone_limit(&self, n: usize) -> Vec<Doc<Scored>> {
        self.all().unwrap().into_iter().take(n).collect()
    }
}

#[apply(engines)]
fn ascending_ties_follow_the_id_ascending_on_every_path(engine: Engine) {
    let (db, _) = scored_db(engine);
    let tx = db.read().unwrap();
    let want = vec![2, 4, 1, 3, 5];
    let q = tx.query::<Scored>().order_by(Scored::score().asc());
    assert_eq!(ids(&q.all().unwrap()), want);
    let q = tx
        .query::<Scored>()
        .order_by(Scored::plain().asc())
        .allow_full_scan();
    assert_eq!(ids(&q.all().unwrap()), want);
    let users = tx
        .query::<Author>()
        .with(Author::posts().order_by(Scored::plain().asc()))
        .all()
        .unwrap();
    assert_eq!(ids(users[0].get(Author::posts())), want);
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "pairs", index(by_a_b = [a, b]))]
struct Pair {
    a: u32,
    b: u32,
}

#[apply(engines)]
fn an_index_whose_later_columns_would_break_ties_does_not_serve_the_order(engine: Engine) {
    // Ordering by `a` alone: ties must come by id, not by `b`.
    let db = Db::builder().table::<Pair>().open_on(engine);
    db.write(|tx| {
        for (a, b) in [(1, 9), (1, 3), (0, 5), (1, 1)] {
            tx.insert(Pair { a, b })?;
        }
        Ok(())
    })
    .unwrap();
    let tx = db.read().unwrap();
    let q = tx
        .query::<Pair>()
        .order_by(Pair::a().desc())
        .allow_full_scan();
    assert_eq!(ids(&q.all().unwrap()), [4, 2, 1, 3]);
    let q = tx
        .query::<Pair>()
        .order_by(Pair::a().asc())
        .allow_full_scan();
    assert_eq!(ids(&q.all().unwrap()), [3, 1, 2, 4]);
    // Ordered by every column of the index, the index serves it (ties are whole-key ties).
    let q = tx
        .query::<Pair>()
        .order_by(Pair::a().desc())
        .order_by(Pair::b().desc());
    assert!(
        q.explain().contains("served by the index (descending)"),
        "{}",
        q.explain()
    );
    assert_eq!(ids(&q.all().unwrap()), [1, 2, 4, 3]);
    // Pinned by equality, the rest of the index serves the order.
    let q = tx
        .query::<Pair>()
        .filter(Pair::a().eq(1u32))
        .order_by(Pair::b().desc());
    assert!(
        q.explain().contains("served by the index (descending)"),
        "{}",
        q.explain()
    );
    assert_eq!(ids(&q.all().unwrap()), [1, 2, 4]);
}

// ---- a relation's default order ----------------------------------------------------------

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "messages")]
#[many_to_many(tags, Tag, through = Tagging, from = message_id, to = tag_id)]
#[has_many(taggings, Tagging, by = message_id)]
struct Message {
    text: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "tags")]
struct Tag {
    name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "taggings", unique(by_pair = [message_id, tag_id]))]
struct Tagging {
    #[belongs_to(message, Message, on_delete = cascade)]
    message_id: Id<Message>,
    #[belongs_to(tag, Tag, on_delete = cascade)]
    tag_id: Id<Tag>,
}

#[apply(engines)]
fn relations_without_order_come_in_id_order_whatever_index_serves_the_probe(engine: Engine) {
    let db = Db::builder()
        .table::<Message>()
        .table::<Tag>()
        .table::<Tagging>()
        .open_on(engine);
    let (m1, m2, tags) = db
        .write(|tx| {
            let m1 = tx.insert(Message { text: "one".into() })?;
            let m2 = tx.insert(Message { text: "two".into() })?;
            let mut tags = Vec::new();
            for n in ["t1", "t2", "t3", "t4", "t5"] {
                tags.push(tx.insert(Tag { name: n.into() })?);
            }
            // Linked in an order that is not tag order.
            for i in [4, 0, 3, 1, 2] {
                tx.insert(Tagging {
                    message_id: m1,
                    tag_id: tags[i],
                })?;
            }
            for i in [2, 0] {
                tx.insert(Tagging {
                    message_id: m2,
                    tag_id: tags[i],
                })?;
            }
            Ok((m1, m2, tags))
        })
        .unwrap();
    let tx = db.read().unwrap();
    let before = tx.stats();
    let msgs = tx
        .query::<Message>()
        .with(Message::tags())
        .with(Message::taggings())
        .all()
        .unwrap();
    let after = tx.stats();
    assert_eq!(msgs[0].id, m1);
    assert_eq!(msgs[1].id, m2);
    let tag_ids = |d: &Doc<Message>| -> Vec<Id<Tag>> {
        d.get(Message::tags()).iter().map(|t| t.id).collect()
    };
    // Join-row order, not tag order.
    assert_eq!(
        tag_ids(&msgs[0]),
        [tags[4], tags[0], tags[3], tags[1], tags[2]]
    );
    assert_eq!(tag_ids(&msgs[1]), [tags[2], tags[0]]);
    // Children in id order.
    assert_eq!(ids(msgs[0].get(Message::taggings())), [1, 2, 3, 4, 5]);
    assert_eq!(ids(msgs[1].get(Message::taggings())), [6, 7]);
    // Batched: one probe per parent per relation, plus the message scan.
    assert_eq!(after.index_scans - before.index_scans, 4);
    // A limit keeps the first rows of that order.
    let msgs = tx
        .query::<Message>()
        .with(Message::tags().limit(3))
        .with(Message::taggings().limit(3))
        .all()
        .unwrap();
    assert_eq!(tag_ids(&msgs[0]), [tags[4], tags[0], tags[3]]);
    assert_eq!(ids(msgs[0].get(Message::taggings())), [1, 2, 3]);
    // Lazy loading agrees.
    let lazy: Vec<Id<Tag>> = tx
        .load(&msgs[0], Message::tags())
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(lazy, [tags[4], tags[0], tags[3], tags[1], tags[2]]);
}

// ---- ranges and None ---------------------------------------------------------------------

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "temps")]
struct Temp {
    #[index]
    t: Option<f64>,
    u: Option<i32>,
}

fn temps(engine: Engine) -> Db {
    let db = Db::builder().table::<Temp>().open_on(engine);
    db.write(|tx| {
        for (t, u) in [
            (None, None),
            (Some(-3.0), Some(-3)),
            (Some(0.0), Some(0)),
            (None, None),
            (Some(5.5), Some(5)),
        ] {
            tx.insert(Temp { t, u })?;
        }
        Ok(())
    })
    .unwrap();
    db
}

#[apply(engines)]
fn range_operators_never_match_none_through_an_index_or_a_post_filter(engine: Engine) {
    let db = temps(engine);
    let tx = db.read().unwrap();
    let idx = |f: redorm::Filter<Temp>| -> Vec<u64> {
        let q = tx.query::<Temp>().filter(f);
        assert!(
            q.explain().contains("access: index by_t"),
            "{}",
            q.explain()
        );
        let rows = ids(&q.all().unwrap());
        assert_eq!(q.count().unwrap(), rows.len());
        rows
    };
    let post = |f: redorm::Filter<Temp>| -> Vec<u64> {
        let q = tx.query::<Temp>().filter(f).allow_full_scan();
        assert!(q.explain().contains("post-filter"), "{}", q.explain());
        ids(&q.all().unwrap())
    };
    assert_eq!(idx(Temp::t().lt(0.0)), [2]);
    assert_eq!(idx(Temp::t().lte(0.0)), [2, 3]);
    assert_eq!(idx(Temp::t().gt(-10.0)), [2, 3, 5]);
    assert_eq!(idx(Temp::t().gte(0.0)), [3, 5]);
    assert_eq!(idx(Temp::t().between(-10.0, 1.0)), [2, 3]);
    assert_eq!(idx(Temp::t().lt(None)), Vec::<u64>::new());
    assert_eq!(idx(Temp::t().lte(None)), Vec::<u64>::new());
    assert_eq!(idx(Temp::t().gte(None)), [2, 3, 5]);
    assert_eq!(idx(Temp::t().eq(None)), [1, 4]);
    assert_eq!(idx(Temp::t().is_null()), [1, 4]);
    assert_eq!(post(Temp::u().lt(0)), [2]);
    assert_eq!(post(Temp::u().lte(0)), [2, 3]);
    assert_eq!(post(Temp::u().gt(-10)), [2, 3, 5]);
    assert_eq!(post(Temp::u().gte(0)), [3, 5]);
    assert_eq!(post(Temp::u().between(-10, 1)), [2, 3]);
    assert_eq!(post(Temp::u().lte(None)), Vec::<u64>::new());
    assert_eq!(post(Temp::u().eq(None)), [1, 4]);
    // ne and not_in are Rust's `!=`: None is not equal to Some(x), so they match None rows.
    assert_eq!(post(Temp::u().ne(0)), [1, 2, 4, 5]);
    assert_eq!(post(Temp::u().not_in([0, 5])), [1, 2, 4]);
    assert_eq!(post(Temp::u().ne(None)), [2, 3, 5]);
    // `not` of a range is the complement, None included.
    assert_eq!(post(Temp::u().lt(0).not()), [1, 3, 4, 5]);
    // Ordering still puts None first.
    let q = tx.query::<Temp>().order_by(Temp::t().asc());
    assert_eq!(ids(&q.all().unwrap()), [1, 4, 2, 3, 5]);
    let q = tx
        .query::<Temp>()
        .order_by(Temp::u().asc())
        .allow_full_scan();
    assert_eq!(ids(&q.all().unwrap()), [1, 4, 2, 3, 5]);
}
