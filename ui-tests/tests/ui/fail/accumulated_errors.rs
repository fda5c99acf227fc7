// Rule: the derive reports every mistake it finds at once, not only the first one.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(nmae = "users", index(by_name = [nme]))]
struct User {
    id: u64,
    #[default]
    name: String,
}

fn main() {}
