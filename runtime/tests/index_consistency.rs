//! Property test: after any sequence of inserts, patches, replaces and deletes (including
//! refused ones), every index holds exactly the entries its rows imply.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

mod common;

use common::{Engine, Store, engines};
use proptest::prelude::*;
use redb::{ReadableDatabase, ReadableTable};
use redorm::prelude::*;
use redorm::{Column, Error};
use rstest_reuse::apply;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "people", index(by_city_age = [city, age]))]
struct Person {
    #[unique]
    handle: String,
    #[index]
    age: u8,
    city: Option<String>,
    #[unique]
    badge: Option<u8>,
}

#[derive(Debug, Clone)]
enum Op {
    Insert(Person),
    Patch(usize, Person),
    Replace(usize, Person),
    Delete(usize),
}

fn person() -> impl Strategy<Value = Person> {
    (
        prop::sample::select(vec!["a", "b", "c", "d", "e", ""]),
        0u8..4,
        prop::option::of(prop::sample::select(vec!["x", "y", "x\0"])),
        prop::option::of(0u8..3),
    )
        .prop_map(|(h, age, city, badge)| Person {
            handle: h.to_string(),
            age,
            city: city.map(str::to_string),
            badge,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => person().prop_map(Op::Insert),
        2 => (0usize..8, person()).prop_map(|(i, p)| Op::Patch(i, p)),
        1 => (0usize..8, person()).prop_map(|(i, p)| Op::Replace(i, p)),
        1 => (0usize..8).prop_map(Op::Delete),
    ]
}

fn key_of<C: Column>(c: &C, out: &mut Vec<u8>) {
    c.encode_key(out).unwrap();
}

/// Index name -> set of full keys, as the rows imply them.
fn expected(rows: &BTreeMap<u64, Person>) -> BTreeMap<&'static str, BTreeSet<Vec<u8>>> {
    let mut out: BTreeMap<&'static str, BTreeSet<Vec<u8>>> = BTreeMap::new();
    for (id, p) in rows {
        let mut push = |name: &'static str, mut k: Vec<u8>| {
            k.extend_from_slice(&id.to_be_bytes());
            out.entry(name).or_default().insert(k);
        };
        let mut k = Vec::new();
        key_of(&p.handle, &mut k);
        push("by_handle", k);
        let mut k = Vec::new();
        key_of(&p.age, &mut k);
        push("by_age", k);
        let mut k = Vec::new();
        key_of(&p.badge, &mut k);
        push("by_badge", k);
        let mut k = Vec::new();
        key_of(&p.city, &mut k);
        key_of(&p.age, &mut k);
        push("by_city_age", k);
    }
    out
}

const INDEXES: [&str; 4] = ["by_handle", "by_age", "by_badge", "by_city_age"];

/// Index name -> set of stored keys (non-empty indexes only), and the stored row ids, read
/// from the storage itself: with redb from the file, from a dump on the memory engine.
fn stored(store: &Store) -> (BTreeMap<&'static str, BTreeSet<Vec<u8>>>, BTreeSet<u64>) {
    match store.engine() {
        Engine::Redb => stored_in_redb(store.redb_path().unwrap()),
        Engine::Memory => {
            let dump = store.dump().unwrap();
            let mut out = BTreeMap::new();
            for name in INDEXES {
                let keys: BTreeSet<Vec<u8>> = dump
                    .entries(&format!("index:people#{name}"))
                    .map(|e| e.keys().cloned().collect())
                    .unwrap_or_default();
                if !keys.is_empty() {
                    out.insert(name, keys);
                }
            }
            let ids = dump
                .entries("rows:people")
                .unwrap()
                .keys()
                .map(|k| u64::from_be_bytes(k.as_slice().try_into().unwrap()))
                .collect();
            (out, ids)
        }
    }
}

fn stored_in_redb(
    path: &std::path::Path,
) -> (BTreeMap<&'static str, BTreeSet<Vec<u8>>>, BTreeSet<u64>) {
    let raw = redb::Database::open(path).unwrap();
    let txn = raw.begin_read().unwrap();
    let mut out = BTreeMap::new();
    for name in INDEXES {
        let table_name = format!("people#{name}");
        let def: redb::TableDefinition<'_, &[u8], ()> = redb::TableDefinition::new(&table_name);
        let t = txn.open_table(def).unwrap();
        let keys: BTreeSet<Vec<u8>> = t
            .iter()
            .unwrap()
            .map(|e| e.unwrap().0.value().to_vec())
            .collect();
        if !keys.is_empty() {
            out.insert(name, keys);
        }
    }
    let rows_def: redb::TableDefinition<'_, u64, &[u8]> = redb::TableDefinition::new("people");
    let ids = txn
        .open_table(rows_def)
        .unwrap()
        .iter()
        .unwrap()
        .map(|e| e.unwrap().0.value())
        .collect();
    (out, ids)
}

fn unique_ok(rows: &BTreeMap<u64, Person>, skip: Option<u64>, p: &Person) -> bool {
    rows.iter()
        .filter(|(id, _)| Some(**id) != skip)
        .all(|(_, o)| o.handle != p.handle && (p.badge.is_none() || o.badge != p.badge))
}

#[apply(engines)]
fn indexes_match_rows_after_random_writes(engine: Engine) {
    proptest!(ProptestConfig::with_cases(64), |(ops in prop::collection::vec(op(), 1..30))| {
        let store = Store::new(engine);
        let mut model: BTreeMap<u64, Person> = BTreeMap::new();
        let mut ids: Vec<u64> = Vec::new();
        {
            let db = store.open(Db::builder().table::<Person>());
            for op in ops {
                let pick = |i: usize| ids.get(i % ids.len().max(1)).copied().unwrap_or(999);
                match op {
                    Op::Insert(p) => {
                        let ok = unique_ok(&model, None, &p);
                        let r = db.write(|tx| tx.insert(p.clone()));
                        prop_assert_eq!(r.is_ok(), ok, "insert {:?} -> {:?}", p, r);
                        if let Ok(id) = r { model.insert(id.get(), p); ids.push(id.get()); }
                        else { let is_unique = matches!(r, Err(Error::Unique { .. })); prop_assert!(is_unique); }
                    }
                    Op::Patch(i, p) | Op::Replace(i, p) if ids.is_empty() => { let _ = (i, p); }
                    Op::Patch(i, p) => {
                        let id = pick(i);
                        let exists = model.contains_key(&id);
                        let ok = exists && unique_ok(&model, Some(id), &p);
                        let r = db.write(|tx| tx.patch(Id::<Person>::from_raw(id), |row| *row = p.clone()));
                        prop_assert_eq!(r.is_ok(), ok);
                        if ok { model.insert(id, p); }
                    }
                    Op::Replace(i, p) => {
                        let id = pick(i);
                        let exists = model.contains_key(&id);
                        let ok = exists && unique_ok(&model, Some(id), &p);
                        let r = db.write(|tx| tx.replace(Id::<Person>::from_raw(id), p.clone()));
                        prop_assert_eq!(r.is_ok(), ok);
                        if ok { model.insert(id, p); }
                    }
                    Op::Delete(i) => {
                        let id = pick(i);
                        let r = db.write(|tx| tx.delete(Id::<Person>::from_raw(id)));
                        prop_assert_eq!(r.is_ok(), model.remove(&id).is_some());
                    }
                }
            }
            // Every row reads back as the model says.
            let tx = db.read().unwrap();
            for (id, p) in &model {
                prop_assert_eq!(&tx.get(Id::<Person>::from_raw(*id)).unwrap().unwrap().into_inner(), p);
            }
        }
        let (indexes, row_ids) = stored(&store);
        prop_assert_eq!(row_ids, model.keys().copied().collect::<BTreeSet<_>>());
        prop_assert_eq!(indexes, expected(&model));
    });
}
