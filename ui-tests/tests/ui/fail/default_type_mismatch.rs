// Rule: the `#[default(...)]` expression must convert into the field's type; a mismatch is
// reported at the expression.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    #[default("ten")]
    level: u32,
    #[default(-1)]
    count: u64,
}

fn main() {}
