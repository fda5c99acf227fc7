// Rule: generic structs are not supported (yet): a table's column types must be concrete.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct Wrapper<T> {
    value: T,
}

fn main() {}
