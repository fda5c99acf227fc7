// Rule (a known limitation): std's `#[derive(Default)]` also claims the `#[default]` attribute,
// so a struct that derives `Default` cannot use `#[default(...)]` on a field; rustc rejects it
// and suggests implementing `Default` by hand.
use redorm::prelude::*;

#[derive(Table, Debug, Default)]
struct Counter {
    #[default(10)]
    value: u32,
}

fn main() {}
