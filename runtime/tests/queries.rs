//! Queries: every operator, every plan shape (asserting rows and the plan), strict mode,
//! counting, streaming, and the bad inputs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Engine, OpenOn, engines};
use redorm::prelude::*;
use redorm::{Error, Filter};
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(
    name = "posts",
    index(by_author_created = [author, created]),
    index(by_status_score = [status, score])
)]
struct Post {
    author: u32,
    created: i64,
    #[index]
    title: String,
    status: String,
    score: f64,
    subtitle: Option<String>,
    body: String,
}

fn post(author: u32, created: i64, title: &str, status: &str, score: f64) -> Post {
    Post {
        author,
        created,
        title: title.to_string(),
        status: status.to_string(),
        score,
        subtitle: if author.is_multiple_of(2) {
            Some(format!("sub {title}"))
        } else {
            None
        },
        body: format!("body of {title}"),
    }
}

fn db(engine: Engine) -> Db {
    let db = Db::builder().table::<Post>().open_on(engine);
    db.write(|tx| {
        let rows = [
            post(1, 10, "alpha", "draft", 1.5),
            post(1, 20, "beta", "live", -2.0),
            post(2, 15, "gamma", "live", 3.25),
            post(2, 5, "delta", "draft", 0.0),
            post(3, 30, "epsilon", "live", 10.0),
            post(1, 40, "alphabet", "archived", 7.0),
            post(3, 25, "zeta", "draft", -0.5),
        ];
        for p in rows {
            tx.insert(p)?;
        }
        Ok(())
    })
    .unwrap();
    db
}

fn titles(docs: &[Doc<Post>]) -> Vec<&str> {
    docs.iter().map(|d| d.title.as_str()).collect()
}

fn run(
    db: &Db,
    f: impl FnOnce(redorm::Query<'_, Post>) -> redorm::Query<'_, Post>,
) -> (Vec<String>, String) {
    let tx = db.read().unwrap();
    let q = f(tx.query::<Post>());
    let rows = q.all().unwrap();
    (
        titles(&rows).into_iter().map(String::from).collect(),
        q.explain(),
    )
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[apply(engines)]
fn equality_on_a_compound_prefix_uses_the_index_in_index_order(engine: Engine) {
    let db = db(engine);
    let (rows, plan) = run(&db, |q| q.filter(Post::author().eq(1u32)));
    assert_eq!(rows, ["alpha", "beta", "alphabet"]);
    assert_eq!(
        lines(&plan),
        [
            "query posts",
            "access: index by_author_created (1 probe: author = 1)",
            "order: index order (ascending)"
        ]
    );
}

#[apply(engines)]
fn range_after_equalities_narrows_the_scan(engine: Engine) {
    let db = db(engine);
    let (rows, plan) = run(&db, |q| {
        q.filter(
            Post::author()
                .eq(1u32)
                .and(Post::created().gt(10i64))
                .and(Post::created().lte(40i64)),
        )
    });
    assert_eq!(rows, ["beta", "alphabet"]);
    assert_eq!(
        lines(&plan)[1],
        "access: index by_author_created (1 probe: author = 1), range created > 10 AND created <= 40"
    );
    let (rows, _) = run(&db, |q| {
        q.filter(
            Post::author()
                .eq(3u32)
                .and(Post::created().between(25i64, 30i64)),
        )
    });
    assert_eq!(rows, ["zeta", "epsilon"]);
}

#[apply(engines)]
fn in_becomes_several_probes_merged_in_order(engine: Engine) {
    let db = db(engine);
    let (rows, plan) = run(&db, |q| {
        q.filter(Post::author().in_([3u32, 1]))
            .order_by(Post::created().desc())
    });
    assert_eq!(rows, ["alphabet", "epsilon", "zeta", "beta", "alpha"]);
    assert_eq!(
        lines(&plan)[1..],
        [
            "access: index by_author_created (2 probes: author IN [1, 3])",
            "order: served by the index (descending), probes merged"
        ]
    );
    // A same-column OR of equalities is planned the same way.
    let (rows, plan) = run(&db, |q| {
        q.filter(Post::author().eq(3u32).or(Post::author().eq(1u32)))
            .order_by(Post::created().asc())
    });
    assert_eq!(rows, ["alpha", "beta", "zeta", "epsilon", "alphabet"]);
    assert!(plan.contains("2 probes"), "{plan}");
}

#[apply(engines)]
fn an_empty_in_matches_nothing(engine: Engine) {
    let db = db(engine);
    let (rows, _) = run(&db, |q| q.filter(Post::author().in_(Vec::<u32>::new())));
    assert!(rows.is_empty());
    let tx = db.read().unwrap();
    assert_eq!(
        tx.query::<Post>()
            .filter(Post::author().in_(Vec::<u32>::new()))
            .count()
            .unwrap(),
        0
    );
}

#[apply(engines)]
fn order_served_by_the_index_or_sorted_in_memory(engine: Engine) {
    let db = db(engine);
    let (rows, plan) = run(&db, |q| {
        q.filter(Post::author().eq(2u32))
            .order_by(Post::created().desc())
    });
    assert_eq!(rows, ["gamma", "delta"]);
    assert_eq!(lines(&plan)[2], "order: served by the index (descending)");

    let (rows, plan) = run(&db, |q| {
        q.filter(Post::author().eq(1u32))
            .order_by(Post::title().desc())
    });
    assert_eq!(rows, ["beta", "alphabet", "alpha"]);
    assert_eq!(lines(&plan)[2], "order: sorted in memory by title desc");

    // An order on an indexed column with no filter reads that index.
    let (rows, plan) = run(&db, |q| q.order_by(Post::title().asc()).limit(3));
    assert_eq!(rows, ["alpha", "alphabet", "beta"]);
    assert_eq!(lines(&plan)[1], "access: index by_title (1 probe)");
}

#[apply(engines)]
fn several_order_keys(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let rows = tx
        .query::<Post>()
        .filter(Post::status().in_(["draft", "live"]))
        .order_by(Post::status().asc())
        .order_by(Post::score().desc())
        .all()
        .unwrap();
    assert_eq!(
        titles(&rows),
        ["alpha", "delta", "zeta", "epsilon", "gamma", "beta"]
    );
}

#[apply(engines)]
fn post_filters_with_limit_count_matching_rows_not_rows_read(engine: Engine) {
    let db = db(engine);
    let (rows, plan) = run(&db, |q| {
        q.filter(Post::status().eq("live").and(Post::title().contains("e")))
            .limit(2)
    });
    // live: beta(-2.0), gamma(3.25), epsilon(10.0) in score order; all contain "e"? beta yes,
    // gamma no, epsilon yes.
    assert_eq!(rows, ["beta", "epsilon"]);
    assert_eq!(
        lines(&plan)[1..],
        [
            "access: index by_status_score (1 probe: status = \"live\")",
            "order: index order (ascending)",
            "post-filter: title contains \"e\"",
            "limit: 2"
        ]
    );
}

#[apply(engines)]
fn starts_with_is_a_range_on_a_string_index(engine: Engine) {
    let db = db(engine);
    let (rows, plan) = run(&db, |q| q.filter(Post::title().starts_with("alpha")));
    assert_eq!(rows, ["alpha", "alphabet"]);
    assert_eq!(
        lines(&plan)[1],
        "access: index by_title (1 probe), range title starts_with \"alpha\""
    );
    let (rows, plan) = run(&db, |q| q.filter(Post::title().like("alpha%t")));
    assert_eq!(rows, ["alphabet"]);
    assert_eq!(
        lines(&plan)[1..],
        [
            "access: index by_title (1 probe), range title like \"alpha%t\"",
            "order: index order (ascending)",
            "post-filter: title like \"alpha%t\""
        ]
    );
    // A pattern that is a literal prefix then `%` is decided by the range alone.
    let (rows, plan) = run(&db, |q| q.filter(Post::title().like("alpha%")));
    assert_eq!(rows, ["alpha", "alphabet"]);
    assert!(!plan.contains("post-filter"), "{plan}");
    // Without wildcards `like` is equality: the prefix range narrows, the row check decides.
    let (rows, plan) = run(&db, |q| q.filter(Post::title().like("alpha")));
    assert_eq!(rows, ["alpha"]);
    assert!(plan.contains("post-filter: title like \"alpha\""), "{plan}");
}

#[apply(engines)]
fn every_operator(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let q = |f: Filter<Post>| {
        let mut t: Vec<String> = tx
            .query::<Post>()
            .filter(f)
            .allow_full_scan()
            .all()
            .unwrap()
            .iter()
            .map(|d| d.title.clone())
            .collect();
        t.sort();
        t
    };
    assert_eq!(q(Post::score().eq(0.0)), ["delta"]);
    assert_eq!(
        q(Post::status().ne("live")),
        ["alpha", "alphabet", "delta", "zeta"]
    );
    assert_eq!(q(Post::score().gt(3.25)), ["alphabet", "epsilon"]);
    assert_eq!(q(Post::score().gte(3.25)), ["alphabet", "epsilon", "gamma"]);
    assert_eq!(q(Post::score().lt(0.0)), ["beta", "zeta"]);
    assert_eq!(q(Post::score().lte(0.0)), ["beta", "delta", "zeta"]);
    assert_eq!(
        q(Post::created().between(10i64, 20i64)),
        ["alpha", "beta", "gamma"]
    );
    assert_eq!(
        q(Post::author().in_([2u32, 3])),
        ["delta", "epsilon", "gamma", "zeta"]
    );
    assert_eq!(
        q(Post::author().not_in([2u32, 3])),
        ["alpha", "alphabet", "beta"]
    );
    assert_eq!(
        q(Post::subtitle().is_null()),
        ["alpha", "alphabet", "beta", "epsilon", "zeta"]
    );
    assert_eq!(q(Post::subtitle().is_not_null()), ["delta", "gamma"]);
    assert_eq!(q(Post::subtitle().eq("sub gamma")), ["gamma"]);
    assert_eq!(q(Post::subtitle().starts_with("sub d")), ["delta"]);
    assert_eq!(
        q(Post::title().starts_with("")),
        [
            "alpha", "alphabet", "beta", "delta", "epsilon", "gamma", "zeta"
        ]
    );
    assert_eq!(q(Post::title().ends_with("ta")), ["beta", "delta", "zeta"]);
    assert_eq!(q(Post::title().contains("ph")), ["alpha", "alphabet"]);
    assert_eq!(q(Post::title().like("_eta")), ["beta", "zeta"]);
    assert_eq!(
        q(Post::title().like("%a")),
        ["alpha", "beta", "delta", "gamma", "zeta"]
    );
    assert_eq!(
        q(Post::title().like("Alpha%")),
        Vec::<String>::new(),
        "like is case-sensitive"
    );
    assert_eq!(
        q(Post::status().eq("live").not()),
        ["alpha", "alphabet", "delta", "zeta"]
    );
    assert_eq!(
        q(Post::author()
            .eq(1u32)
            .and(Post::status().eq("draft"))
            .or(Post::score().gt(9.0))),
        ["alpha", "epsilon"]
    );
    assert_eq!(
        q(!Post::author().eq(1u32)),
        ["delta", "epsilon", "gamma", "zeta"]
    );
}

#[apply(engines)]
fn strict_mode_names_the_operator_no_index_serves_and_what_to_do_instead(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let advice = |f: redorm::Filter<Post>| match tx.query::<Post>().filter(f).all() {
        Err(Error::IndexRequired { suggestion, .. }) => suggestion,
        other => panic!("expected IndexRequired, got {other:?}"),
    };
    // `title` is indexed: the index exists and cannot serve these, so none is suggested.
    assert_eq!(
        advice(Post::title().contains("pha")),
        "`contains` on `title` is never served by an index (an index serves equality, ranges \
         and prefixes): keep the searchable words in a related table with an index on the \
         word, or match a prefix (starts_with) of an indexed copy (e.g. lowercased)"
    );
    assert_eq!(
        advice(Post::title().ends_with("pha")),
        "`ends_with` on `title` is never served by an index (an index serves equality, ranges \
         and prefixes): store the reversed string in an indexed column and use starts_with on it"
    );
    assert_eq!(
        advice(Post::title().ne("alpha")),
        "`ne` on `title` is never served by an index (an index serves equality, ranges and \
         prefixes): ask for the values you want (eq, in_ or a range), which an index serves"
    );
    assert!(advice(Post::title().not_in(["a"])).starts_with("`not_in` on `title` is never served"),);
    assert!(
        advice(Post::title().like("%a")).starts_with("`like with a leading wildcard` on `title`")
    );
    assert_eq!(
        advice(Post::title().eq("a").or(Post::body().eq("b"))),
        "no index serves `(title = \"a\" OR body = \"b\")` (an OR across columns or \
         operators): run one query per branch"
    );
    // A servable part without an index and an unservable one: both pieces of advice.
    assert_eq!(
        advice(Post::body().eq("x").and(Post::title().contains("a"))),
        "Add `index(by_body = [body])` to the table's #[table(...)] attribute; `contains` on \
         `title` is never served by an index (an index serves equality, ranges and prefixes): \
         keep the searchable words in a related table with an index on the word, or match a \
         prefix (starts_with) of an indexed copy (e.g. lowercased)"
    );
}

#[apply(engines)]
fn strict_mode_refuses_full_scans_and_names_an_index(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let err = tx
        .query::<Post>()
        .filter(Post::body().eq("body of beta"))
        .all()
        .unwrap_err();
    match &err {
        Error::IndexRequired {
            table,
            filter,
            suggestion,
        } => {
            assert_eq!(*table, "posts");
            assert_eq!(filter, "the filter body = \"body of beta\"");
            assert_eq!(
                suggestion,
                "Add `index(by_body = [body])` to the table's #[table(...)] attribute"
            );
        }
        other => panic!("expected IndexRequired, got {other:?}"),
    }
    assert!(err.to_string().contains(".allow_full_scan()"), "{err}");
    // An unserved order is a full scan too.
    let err = tx
        .query::<Post>()
        .order_by(Post::body().asc())
        .all()
        .unwrap_err();
    assert!(
        matches!(&err, Error::IndexRequired { suggestion, .. } if suggestion.starts_with("Add `index(by_body = [body])`")),
        "{err:?}"
    );
    // allow_full_scan, or strict(false), runs it.
    let rows = tx
        .query::<Post>()
        .filter(Post::body().eq("body of beta"))
        .allow_full_scan()
        .all()
        .unwrap();
    assert_eq!(titles(&rows), ["beta"]);
    let lax = Db::builder().table::<Post>().strict(false).open_on(engine);
    assert!(
        lax.read()
            .unwrap()
            .query::<Post>()
            .filter(Post::body().eq("x"))
            .all()
            .unwrap()
            .is_empty()
    );
    // No filter and no order reads by id: never an error.
    assert_eq!(tx.query::<Post>().all().unwrap().len(), 7);
    let plan = tx.query::<Post>().filter(Post::body().eq("x")).explain();
    assert!(
        plan.ends_with("full scan: refused in strict mode\n"),
        "{plan}"
    );
}

#[apply(engines)]
fn using_forces_an_index(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let q = tx
        .query::<Post>()
        .filter(Post::author().eq(1u32))
        .using(Post::by_title());
    assert_eq!(titles(&q.all().unwrap()), ["alpha", "alphabet", "beta"]);
    assert_eq!(
        lines(&q.explain())[1..],
        [
            "access: index by_title (1 probe)",
            "order: index order (ascending)",
            "post-filter: author = 1",
            "full scan: allowed"
        ]
    );
}

#[apply(engines)]
fn first_first_or_err_unique_count(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let q = || tx.query::<Post>().filter(Post::author().eq(1u32));
    assert_eq!(q().first().unwrap().unwrap().title, "alpha");
    assert_eq!(q().count().unwrap(), 3);
    assert_eq!(q().limit(2).count().unwrap(), 2);
    assert_eq!(q().offset(2).count().unwrap(), 1);
    assert_eq!(tx.query::<Post>().count().unwrap(), 7);
    assert_eq!(
        q().filter(Post::title().contains("bet")).count().unwrap(),
        2
    );
    let err = q().unique().unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotUnique {
                table: "posts",
                first: 1,
                second: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        tx.query::<Post>()
            .filter(Post::title().eq("zeta"))
            .unique()
            .unwrap()
            .unwrap()
            .author,
        3
    );
    assert!(
        tx.query::<Post>()
            .filter(Post::title().eq("nope"))
            .unique()
            .unwrap()
            .is_none()
    );
    let err = tx
        .query::<Post>()
        .filter(Post::title().eq("nope"))
        .first_or_err()
        .unwrap_err();
    assert!(
        matches!(&err, Error::NoMatch { table: "posts", filter } if filter == "title = \"nope\""),
        "{err:?}"
    );
}

#[apply(engines)]
fn offset_limit_and_their_edges(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let q = || tx.query::<Post>().filter(Post::author().eq(1u32));
    assert_eq!(titles(&q().offset(1).limit(1).all().unwrap()), ["beta"]);
    assert!(
        q().offset(10).all().unwrap().is_empty(),
        "an offset past the end is empty"
    );
    assert!(q().limit(0).all().unwrap().is_empty(), "limit(0) is empty");
    assert!(q().limit(0).first().unwrap().is_none());
    assert_eq!(q().limit(0).count().unwrap(), 0);
    assert_eq!(q().limit(0).iter().unwrap().count(), 0);
}

#[apply(engines)]
fn iter_streams_every_row_in_order(engine: Engine) {
    let db = Db::builder().table::<Post>().open_on(engine);
    db.write(|tx| {
        for i in 0..1000 {
            tx.insert(post(
                i % 7,
                i64::from(i),
                &format!("t{i:04}"),
                "live",
                f64::from(i),
            ))?;
        }
        Ok(())
    })
    .unwrap();
    let tx = db.read().unwrap();
    let mut n = 0;
    let mut last = f64::NEG_INFINITY;
    for doc in tx
        .query::<Post>()
        .filter(Post::status().eq("live"))
        .order_by(Post::score().asc())
        .iter()
        .unwrap()
    {
        let doc = doc.unwrap();
        assert!(doc.score > last);
        last = doc.score;
        n += 1;
    }
    assert_eq!(n, 1000);
    let some: Vec<_> = tx
        .query::<Post>()
        .offset(995)
        .iter()
        .unwrap()
        .map(|d| d.unwrap().id.get())
        .collect();
    assert_eq!(some, [996, 997, 998, 999, 1000]);
}

#[apply(engines)]
fn queries_in_a_write_transaction_see_its_writes(engine: Engine) {
    let db = db(engine);
    db.write(|tx| {
        tx.insert(post(9, 1, "fresh", "live", 0.5))?;
        let found = tx.query::<Post>().filter(Post::author().eq(9u32)).all()?;
        assert_eq!(titles(&found), ["fresh"]);
        Ok(())
    })
    .unwrap();
}

#[apply(engines)]
fn ordering_of_floats_and_options_follows_key_order(engine: Engine) {
    let db = db(engine);
    let tx = db.read().unwrap();
    let rows = tx
        .query::<Post>()
        .filter(Post::status().in_(["draft", "live", "archived"]))
        .order_by(Post::score().asc())
        .all()
        .unwrap();
    let scores: Vec<f64> = rows.iter().map(|d| d.score).collect();
    assert_eq!(scores, [-2.0, -0.5, 0.0, 1.5, 3.25, 7.0, 10.0]);
    let rows = tx
        .query::<Post>()
        .order_by(Post::subtitle().asc())
        .allow_full_scan()
        .all()
        .unwrap();
    // None first, then by value; equal keys by id.
    assert_eq!(
        titles(&rows),
        [
            "alpha", "beta", "epsilon", "alphabet", "zeta", "delta", "gamma"
        ]
    );
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "notes", delete = soft, index(by_group_rank = [group, rank]))]
struct Note {
    group: u8,
    rank: u32,
    text: String,
}

type Shape<'a> = Box<dyn Fn() -> redorm::Query<'a, Note> + 'a>;

#[apply(engines)]
fn offset_skips_the_same_rows_whatever_the_plan(engine: Engine) {
    let db = Db::builder().table::<Note>().open_on(engine);
    db.write(|tx| {
        for i in 0..300u32 {
            let id = tx.insert(Note {
                group: (i % 3) as u8,
                rank: i / 7,
                text: format!("t{}", i % 5),
            })?;
            if i % 11 == 0 {
                tx.delete(id)?; // soft-deleted rows must not be counted by offset
            }
        }
        Ok(())
    })
    .unwrap();
    let tx = db.read().unwrap();
    let tx = &tx;
    let shapes: Vec<Shape<'_>> = vec![
        Box::new(move || tx.query::<Note>()),
        Box::new(move || tx.query::<Note>().include_deleted()),
        Box::new(move || tx.query::<Note>().filter(Note::group().eq(1u8))),
        Box::new(move || {
            tx.query::<Note>()
                .filter(Note::group().eq(1u8))
                .include_deleted()
        }),
        Box::new(move || {
            tx.query::<Note>()
                .filter(Note::group().eq(2u8))
                .order_by(Note::rank().desc())
        }),
        Box::new(move || {
            tx.query::<Note>()
                .filter(Note::group().in_([0u8, 2]))
                .order_by(Note::rank().asc())
        }),
        Box::new(move || {
            tx.query::<Note>()
                .filter(Note::group().eq(0u8).and(Note::text().eq("t3")))
        }),
        Box::new(move || {
            tx.query::<Note>()
                .order_by(Note::text().asc())
                .allow_full_scan()
        }),
    ];
    for (n, shape) in shapes.iter().enumerate() {
        let all: Vec<u64> = shape().all().unwrap().iter().map(|d| d.id.get()).collect();
        assert!(!all.is_empty(), "shape {n}");
        for k in [0, 1, 5, 37, all.len() - 1, all.len(), all.len() + 3] {
            let got: Vec<u64> = shape()
                .offset(k)
                .all()
                .unwrap()
                .iter()
                .map(|d| d.id.get())
                .collect();
            assert_eq!(got, all[k.min(all.len())..], "shape {n}, offset {k}");
            let streamed: Vec<u64> = shape()
                .offset(k)
                .iter()
                .unwrap()
                .map(|d| d.unwrap().id.get())
                .collect();
            assert_eq!(
                streamed,
                all[k.min(all.len())..],
                "shape {n}, offset {k}, iter"
            );
            let first = shape().offset(k).first().unwrap().map(|d| d.id.get());
            assert_eq!(first, all.get(k).copied(), "shape {n}, offset {k}, first");
            let two: Vec<u64> = shape()
                .offset(k)
                .limit(2)
                .all()
                .unwrap()
                .iter()
                .map(|d| d.id.get())
                .collect();
            assert_eq!(
                two,
                all[k.min(all.len())..(k + 2).min(all.len())],
                "shape {n}, offset {k}, limit 2"
            );
        }
    }
}
