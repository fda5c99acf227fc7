//! Micro-benchmarks of the index-key encoding: integers, strings and compound keys, as written
//! for every index entry and every probe. Run with `cargo bench -p redorm --bench key_codec`.

// A benchmark that fails should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use redorm::{Column, Id, Table, codec};

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users")]
struct User {
    name: String,
}

fn encode<C: Column>(v: &C, out: &mut Vec<u8>) {
    out.clear();
    v.encode_key(out).unwrap();
}

fn integers(c: &mut Criterion) {
    let mut g = c.benchmark_group("key/int");
    let mut out = Vec::with_capacity(64);
    g.bench_function("u64", |b| {
        b.iter(|| encode(black_box(&0x0123_4567_89AB_CDEFu64), &mut out))
    });
    g.bench_function("i64", |b| {
        b.iter(|| encode(black_box(&-1_234_567_890i64), &mut out))
    });
    g.bench_function("i32", |b| b.iter(|| encode(black_box(&-42i32), &mut out)));
    g.bench_function("f64", |b| b.iter(|| encode(black_box(&-3.25f64), &mut out)));
    g.bench_function("Option<i64> Some", |b| {
        b.iter(|| encode(black_box(&Some(7i64)), &mut out))
    });
    let id: Id<User> = "users:123456".parse().unwrap();
    g.bench_function("Id<T>", |b| b.iter(|| encode(black_box(&id), &mut out)));
    g.finish();
}

fn strings(c: &mut Criterion) {
    let mut g = c.benchmark_group("key/string");
    let mut out = Vec::with_capacity(512);
    for len in [8usize, 32, 256] {
        let s: String = "abcdefghijklmnopqrstuvwxyz0123456789"
            .chars()
            .cycle()
            .take(len)
            .collect();
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::new("encode", len), &s, |b, s| {
            b.iter(|| encode(black_box(s), &mut out))
        });
        let mut key = Vec::new();
        s.encode_key(&mut key).unwrap();
        g.bench_with_input(BenchmarkId::new("decode", len), &key, |b, key| {
            b.iter(|| {
                let mut input = black_box(key.as_slice());
                codec::get_key_bytes(&mut input).unwrap()
            })
        });
    }
    // Zero bytes are escaped: the worst case of the encoding.
    let zeros = "\0".repeat(32);
    g.throughput(Throughput::Bytes(32));
    g.bench_function("encode/32 zero bytes", |b| {
        b.iter(|| encode(black_box(&zeros), &mut out))
    });
    g.finish();
}

fn compound(c: &mut Criterion) {
    let mut g = c.benchmark_group("key/compound");
    let mut out = Vec::with_capacity(128);
    let email = String::from("ada.lovelace@example.com");
    let id: Id<User> = "users:987654".parse().unwrap();
    // What an index entry of `index(by_author_created = [author_id, created])` holds, with the
    // row id appended the way the storage layer does.
    g.bench_function("(Id, i64) + row id", |b| {
        b.iter(|| {
            out.clear();
            black_box(&id).encode_key(&mut out).unwrap();
            black_box(&1_700_000_000_000i64)
                .encode_key(&mut out)
                .unwrap();
            out.extend_from_slice(&black_box(42u64).to_be_bytes());
        })
    });
    g.bench_function("(String, i64) + row id", |b| {
        b.iter(|| {
            out.clear();
            black_box(&email).encode_key(&mut out).unwrap();
            black_box(&-5i64).encode_key(&mut out).unwrap();
            out.extend_from_slice(&black_box(42u64).to_be_bytes());
        })
    });
    g.bench_function("(Option<String>, bool, u32)", |b| {
        let name = Some(String::from("team red"));
        b.iter(|| {
            out.clear();
            black_box(&name).encode_key(&mut out).unwrap();
            black_box(&true).encode_key(&mut out).unwrap();
            black_box(&7u32).encode_key(&mut out).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, integers, strings, compound);
criterion_main!(benches);
