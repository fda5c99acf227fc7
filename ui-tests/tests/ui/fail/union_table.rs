// Rule: `#[derive(Table)]` does not apply to unions.
use redorm::prelude::*;

#[derive(Table)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
