//! `#[table(crate = path)]` (a path or a string) and `#[column(crate = path)]` make the
//! generated code use a re-export of redorm instead of `::redorm`.
#![deny(warnings)]

mod my {
    pub use redorm as orm;
}

use my::orm::{Column, Table};

#[derive(Column, Debug, Clone, Copy)]
#[column(crate = my::orm)]
enum Color {
    Red,
    Green,
}

#[derive(Table, Debug)]
#[table(crate = my::orm)]
struct Paint {
    #[unique]
    name: String,
    color: Color,
}

#[derive(Table, Debug)]
#[table(crate = "my::orm", name = "brushes")]
struct Brush {
    size: u32,
}

fn main() {
    assert_eq!(<Paint as my::orm::Table>::NAME, "paint");
    assert_eq!(Brush::NAME, "brushes");
    assert_eq!(Paint::schema().indexes[0].name, "by_name");
    assert_eq!(Paint::color().name(), "color");
    assert_eq!(Brush::size().position(), 0);
    assert_eq!(<Color as my::orm::Column>::type_name(), "enum(Red,Green)");
    let _ = Color::Green;
    let _ = Color::Red;
}
