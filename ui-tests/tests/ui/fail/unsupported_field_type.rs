// Rule: every field's type must be a column type; an unsupported type is reported once, at the
// field's type, with the list of column types.
use std::collections::HashMap;

use redorm::prelude::*;

#[derive(Debug)]
struct Point {
    x: i32,
}

#[derive(Table, Debug)]
struct Place {
    name: String,
    tags: HashMap<String, String>,
    at: Point,
}

fn main() {
    let _ = Point { x: 0 }.x;
}
