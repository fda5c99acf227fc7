// Rule: an index name names a descriptor function, so it must be a Rust identifier.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    #[unique(name = "by mail")]
    email: String,
}

fn main() {}
