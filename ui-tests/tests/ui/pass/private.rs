//! A private struct and enum, with private fields and unused descriptors, compile without any
//! warning (dead code, private bounds, missing docs) in the user's crate.
#![deny(warnings, missing_docs)]

use redorm::prelude::*;

#[derive(Column, Debug, Clone, Copy, PartialEq)]
enum Kind {
    A,
    B,
}

#[derive(Table, Debug)]
struct Secret {
    #[unique]
    key: String,
    kind: Kind,
    #[index]
    pub(crate) level: u8,
}

/// A public table with a private field of a private type.
#[derive(Table, Debug)]
pub struct Public {
    /// Visible.
    pub shown: String,
    hidden: Kind,
}

mod inner {
    use redorm::prelude::*;

    /// Visible to the parent module only.
    #[derive(Table, Debug)]
    pub(super) struct Nested {
        pub(super) value: i64,
    }
}

fn main() {
    let secret = Secret {
        key: "k".into(),
        kind: Kind::B,
        level: 3,
    };
    assert_eq!(secret.key, "k");
    assert_eq!(secret.kind, Kind::B);
    assert_eq!(secret.level, 3);
    let public = Public {
        shown: String::new(),
        hidden: Kind::A,
    };
    assert!(public.shown.is_empty() && public.hidden == Kind::A);
    assert_eq!(Secret::NAME, "secret");
    assert_eq!(inner::Nested::value().name(), "value");
    let _ = inner::Nested { value: 1 }.value;
}
