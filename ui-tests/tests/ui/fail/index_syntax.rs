// Rule: a table-level index is written `index(name = [field, ...])` or
// `unique(name = [field, ...], nulls_not_distinct)`; other shapes say how to write it.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(index(by_a = a), index(by_b), unique(by_c = ["c"]), index(by_d = [d], nulls_not_distinct))]
#[table(index, unique(by_a2 = [a], by_b2 = [b]))]
struct Letters {
    a: String,
    b: String,
    c: String,
    d: String,
}

fn main() {}
