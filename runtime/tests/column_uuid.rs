//! `uuid::Uuid` as a column type (feature `uuid`): row and key encodings (property tests),
//! then an indexed and unique `Uuid` column through ranges, order, pages and a violation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cmp::Ordering;

mod common;

use common::{Engine, OpenOn, engines};
use proptest::prelude::*;
use redorm::prelude::*;
use redorm::{Cursor, Error};
use rstest_reuse::apply;
use uuid::Uuid;

fn key<C: Column>(v: &C) -> Vec<u8> {
    let mut out = Vec::new();
    v.encode_key(&mut out).expect("encodable");
    out
}

fn roundtrip<C: Column + PartialEq>(v: &C) {
    let mut out = Vec::new();
    v.encode_value(&mut out).expect("encodable");
    let mut input = out.as_slice();
    let back = C::decode_value(&mut input).expect("decodes");
    assert!(input.is_empty(), "decode left {} bytes", input.len());
    assert_eq!(&back, v);
}

fn uuid() -> impl Strategy<Value = Uuid> {
    prop_oneof![
        any::<[u8; 16]>().prop_map(Uuid::from_bytes),
        // Values that differ in one late byte, and the extremes.
        (0u8..4).prop_map(|b| Uuid::from_u128(u128::from(b))),
        Just(Uuid::nil()),
        Just(Uuid::max()),
    ]
}

proptest! {
    #[test]
    fn uuid_keys_follow_uuid_order(a in uuid(), b in uuid()) {
        prop_assert_eq!(key(&a).cmp(&key(&b)), a.cmp(&b));
        roundtrip(&a);
    }

    #[test]
    fn optional_uuid_keys_put_none_first(a in proptest::option::of(uuid()), b in proptest::option::of(uuid())) {
        prop_assert_eq!(key(&a).cmp(&key(&b)), a.cmp(&b));
        roundtrip(&a);
    }

    /// A uuid in a compound key is self-delimiting: (uuid, string) keys compare as the tuple.
    #[test]
    fn compound_uuid_keys_follow_tuple_order(a in uuid(), s in ".{0,4}", b in uuid(), t in ".{0,4}") {
        let mut ka = key(&a); ka.extend(key(&s));
        let mut kb = key(&b); kb.extend(key(&t));
        prop_assert_eq!(ka.cmp(&kb), (a, s.as_bytes()).cmp(&(b, t.as_bytes())));
    }

    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let mut input = bytes.as_slice();
        match Uuid::decode_value(&mut input) {
            Ok(u) => prop_assert_eq!(u.as_bytes().as_slice(), &bytes[..16]),
            Err(e) => {
                prop_assert!(bytes.len() < 16);
                prop_assert_eq!(e.detail, "unexpected end of data while reading a uuid");
            }
        }
        let _ = <Option<Uuid>>::decode_value(&mut bytes.as_slice());
        let _ = <Vec<Uuid>>::decode_value(&mut bytes.as_slice());
    }
}

#[test]
fn encodings_are_the_sixteen_bytes() {
    let u = Uuid::from_u128(0x0011_2233_4455_6677_8899_aabb_ccdd_eeff);
    let mut row = Vec::new();
    u.encode_value(&mut row).unwrap();
    assert_eq!(row, u.as_bytes());
    assert_eq!(key(&u), u.as_bytes());
    assert_eq!(Uuid::type_name(), "Uuid");
    assert_eq!(<Option<Uuid>>::type_name(), "Option<Uuid>");
    assert_eq!(key(&Uuid::nil()).cmp(&key(&Uuid::max())), Ordering::Less);
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "sessions")]
struct Session {
    #[unique]
    token: Uuid,
    #[index]
    device: Option<Uuid>,
    label: String,
}

fn u(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Six sessions with tokens 1..=6 inserted out of order; devices 10 (odd tokens), none (even).
fn fill(db: &Db) {
    db.write(|tx| {
        for n in [4u128, 1, 6, 3, 5, 2] {
            tx.insert(Session {
                token: u(n),
                device: (n % 2 == 1).then(|| u(10)),
                label: format!("s{n}"),
            })?;
        }
        Ok(())
    })
    .unwrap();
}

fn labels(docs: &[Doc<Session>]) -> Vec<&str> {
    docs.iter().map(|d| d.label.as_str()).collect()
}

#[apply(engines)]
fn index_ranges_on_a_uuid_column(engine: Engine) {
    let db = Db::builder().table::<Session>().open_on(engine);
    fill(&db);
    let tx = db.read().unwrap();
    let q = tx
        .query::<Session>()
        .filter(Session::token().between(u(2), u(4)));
    assert_eq!(
        q.explain().lines().nth(1),
        Some(
            "access: index by_token (1 probe), range token BETWEEN \
             00000000-0000-0000-0000-000000000002 AND 00000000-0000-0000-0000-000000000004"
        )
    );
    assert_eq!(labels(&q.all().unwrap()), ["s2", "s3", "s4"]);
    let gt = tx.query::<Session>().filter(Session::token().gt(u(4)));
    assert_eq!(labels(&gt.all().unwrap()), ["s5", "s6"]);
    // A range on the optional column skips the `None`s; `eq` pins it.
    let on_device = tx.query::<Session>().filter(Session::device().gte(u(0)));
    assert_eq!(labels(&on_device.all().unwrap()), ["s1", "s3", "s5"]);
    let exact = tx.query::<Session>().filter(Session::device().eq(u(10)));
    assert_eq!(exact.count().unwrap(), 3);
    let got = tx.get_by(Session::by_token(), u(6)).unwrap().unwrap();
    assert_eq!((got.token, got.device), (u(6), None));
}

#[apply(engines)]
fn order_by_a_uuid_descending(engine: Engine) {
    let db = Db::builder().table::<Session>().open_on(engine);
    fill(&db);
    let tx = db.read().unwrap();
    let q = tx.query::<Session>().order_by(Session::token().desc());
    assert_eq!(
        q.explain().lines().nth(2),
        Some("order: served by the index (descending)")
    );
    assert_eq!(
        labels(&q.all().unwrap()),
        ["s6", "s5", "s4", "s3", "s2", "s1"]
    );
    let firsts = tx
        .query::<Session>()
        .filter(Session::token().lt(u(6)))
        .order_by(Session::token().desc())
        .limit(2);
    assert_eq!(labels(&firsts.all().unwrap()), ["s5", "s4"]);
}

#[apply(engines)]
fn pages_by_uuid_through_string_cursors(engine: Engine) {
    let db = Db::builder().table::<Session>().open_on(engine);
    fill(&db);
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let tx = db.read().unwrap();
        let q = tx.query::<Session>().order_by(Session::token().asc());
        let parsed: Option<Cursor> = cursor.as_deref().map(|c| c.parse().unwrap());
        let page = q.paginate(parsed.as_ref(), 4).unwrap();
        pages.push(labels(&page.items).join(","));
        match page.next_cursor {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, ["s1,s2,s3,s4", "s5,s6"]);
}

#[apply(engines)]
fn a_taken_uuid_is_a_unique_violation(engine: Engine) {
    let db = Db::builder().table::<Session>().open_on(engine);
    fill(&db);
    let holder = db
        .read()
        .unwrap()
        .get_by(Session::by_token(), u(3))
        .unwrap()
        .unwrap()
        .id;
    let err = db
        .write(|tx| {
            tx.insert(Session {
                token: u(3),
                device: None,
                label: "again".into(),
            })
        })
        .unwrap_err();
    match &err {
        Error::Unique {
            table,
            index,
            value,
            existing,
        } => {
            assert_eq!(
                (*table, *index, value.as_str(), *existing),
                (
                    "sessions",
                    "by_token",
                    "00000000-0000-0000-0000-000000000003",
                    holder.get()
                )
            );
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
    assert_eq!(db.read().unwrap().query::<Session>().count().unwrap(), 6);
}
