//! Micro-benchmarks of the row encoding: encoding and decoding a typical struct through the
//! code `#[derive(Table)]` generates, and single column values. Run with
//! `cargo bench -p redorm --bench row_codec`.

// A benchmark that fails should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use redorm::prelude::*;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users")]
struct User {
    #[unique]
    email: String,
}

/// A typical row: a foreign key, short and long text, flags, a timestamp, an optional and a
/// list column.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", index(by_author_created = [author_id, created]))]
struct Post {
    author_id: Id<User>,
    #[index]
    title: String,
    body: String,
    published: bool,
    created: i64,
    score: f64,
    subtitle: Option<String>,
    tags: Vec<String>,
}

fn post() -> Post {
    Post {
        author_id: "users:4242".parse().unwrap(),
        title: "A typical title of about forty characters".into(),
        body: "lorem ipsum dolor sit amet "
            .repeat(8)
            .chars()
            .take(200)
            .collect(),
        published: true,
        created: 1_700_000_123_456,
        score: 4.5,
        subtitle: Some("and a subtitle".into()),
        tags: vec!["rust".into(), "redb".into(), "orm".into()],
    }
}

fn rows(c: &mut Criterion) {
    let value = post();
    let mut bytes = Vec::new();
    value.encode_row(&mut bytes).unwrap();
    let mut g = c.benchmark_group("row/post");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    let mut out = Vec::with_capacity(512);
    g.bench_function("encode", |b| {
        b.iter(|| {
            out.clear();
            black_box(&value).encode_row(&mut out).unwrap();
        })
    });
    g.bench_function("decode", |b| {
        b.iter(|| {
            let mut input = black_box(bytes.as_slice());
            Post::decode_row(None, &mut input).unwrap()
        })
    });
    // A row written by an older version of the struct: decoding goes through a stored layout
    // (here the same columns, so only the layout path's cost shows).
    let layout: Vec<usize> = (0..Post::schema().columns.len()).collect();
    g.bench_function("decode with layout", |b| {
        b.iter(|| {
            let mut input = black_box(bytes.as_slice());
            Post::decode_row(Some(&layout), &mut input).unwrap()
        })
    });
    g.finish();
}

fn columns(c: &mut Criterion) {
    let mut g = c.benchmark_group("row/column");
    let mut out = Vec::with_capacity(512);
    let body: String = "x".repeat(200);
    g.bench_function("u64 encode", |b| {
        b.iter(|| {
            out.clear();
            black_box(&1_700_000_123_456u64)
                .encode_value(&mut out)
                .unwrap();
        })
    });
    g.bench_function("String(200) encode", |b| {
        b.iter(|| {
            out.clear();
            black_box(&body).encode_value(&mut out).unwrap();
        })
    });
    let mut encoded = Vec::new();
    body.encode_value(&mut encoded).unwrap();
    g.bench_function("String(200) decode", |b| {
        b.iter(|| {
            let mut input = black_box(encoded.as_slice());
            String::decode_value(&mut input).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, rows, columns);
criterion_main!(benches);
