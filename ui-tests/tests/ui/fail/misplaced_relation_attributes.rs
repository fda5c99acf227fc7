// Rule: `#[belongs_to]` goes on the foreign-key field; `#[has_many]`, `#[has_one]` and
// `#[many_to_many]` go on the struct. Misplaced, they are errors, not silently ignored; so is a
// second `#[belongs_to]` on one field.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[belongs_to(team, Team)]
struct User {
    #[has_many(posts, Post, by = author_id)]
    #[belongs_to(team, Team)]
    #[belongs_to(club, Team)]
    team_id: Id<Team>,
}

#[derive(Table, Debug)]
struct Team {
    name: String,
}

fn main() {}
