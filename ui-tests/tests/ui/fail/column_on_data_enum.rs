// Rule: `#[derive(Column)]` applies to enums whose variants have no fields; a variant with
// fields is reported, with `Json<T>` as the way to store it.
use redorm::prelude::*;

#[derive(Column, Debug)]
enum Shape {
    Empty,
    Circle(f64),
    Rect { w: f64, h: f64 },
}

fn main() {}
