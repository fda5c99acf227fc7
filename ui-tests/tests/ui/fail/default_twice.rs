// Rule: a field has at most one `#[default(...)]`.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    #[default("member")]
    #[default("guest")]
    role: String,
}

fn main() {}
