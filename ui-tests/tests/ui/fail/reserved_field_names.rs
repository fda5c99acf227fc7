// Rule: `id`, `created_at` and `deleted_at` are system fields that the database keeps for every
// row; a struct field with one of these names must be renamed.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    id: u64,
    created_at: i64,
    deleted_at: Option<i64>,
    email: String,
}

fn main() {}
