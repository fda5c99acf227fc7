// Rule: `#[derive(Table)]` does not apply to enums; the error points to `#[derive(Column)]` and
// `Json<T>` for storing an enum in a column.
use redorm::prelude::*;

#[derive(Table, Debug)]
enum Status {
    Active,
    Banned,
}

fn main() {}
