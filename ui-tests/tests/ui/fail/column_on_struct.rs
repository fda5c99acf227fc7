// Rule: `#[derive(Column)]` does not apply to structs (use `Json<T>` or a table).
use redorm::prelude::*;

#[derive(Column, Debug)]
struct Point {
    x: i32,
    y: i32,
}

fn main() {}
