// Rule: `#[derive(Table)]` needs a struct with named fields, not a unit struct.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct Marker;

fn main() {}
