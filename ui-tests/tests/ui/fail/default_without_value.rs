// Rule: `#[default(...)]` needs an expression: the value that rows stored before the field
// existed read as.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    #[default]
    role: String,
    #[default()]
    level: u32,
    #[default = 3]
    rank: u32,
}

fn main() {}
