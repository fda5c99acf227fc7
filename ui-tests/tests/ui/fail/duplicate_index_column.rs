// Rule: an index lists each column once.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(unique(by_pair = [a, b, a]))]
struct Pair {
    a: String,
    b: String,
}

fn main() {}
