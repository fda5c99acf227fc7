// Rule: an enum whose `#[derive(Column)]` reports an error still gets a minimal `Column` impl, so
// that a table with a field of that type (indexed or not) reports nothing more: the one error
// shown is the real one.
use redorm::prelude::*;

#[derive(Column, Debug)]
enum Mood {
    Calm,
    Angry(u8),
}

#[derive(Table, Debug)]
struct Reader {
    #[index]
    mood: Mood,
    name: String,
}

fn main() {
    let _ = Reader::by_mood();
}
