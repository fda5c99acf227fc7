// Rule: `#[derive(Column)]` does not support generic enums.
use redorm::prelude::*;

#[derive(Column, Debug)]
enum Level<const N: usize> {
    Low,
    High,
}

fn main() {}
