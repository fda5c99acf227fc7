//! `#[derive(Table)]` next to the std derives (`Default` included, as long as no field uses
//! `#[default(...)]`: see `fail/default_attr_with_derive_default.rs`).
#![deny(warnings)]

use redorm::prelude::*;

#[derive(Table, Debug, Default, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Counter {
    pub value: u32,
    #[unique]
    pub label: String,
}

fn main() {
    assert_eq!(Counter::default().value, 0);
    assert!(!Counter::schema().columns[0].has_default);
}
