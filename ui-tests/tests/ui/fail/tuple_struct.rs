// Rule: `#[derive(Table)]` needs named fields: a tuple struct has no column names.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User(String, u32);

fn main() {}
