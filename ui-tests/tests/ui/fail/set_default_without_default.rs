// Rule: `on_delete = set_default` needs a `#[default(...)]` on the field; without one it is an
// error at `set_default`.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct Team {
    name: String,
}

#[derive(Table, Debug)]
struct Player {
    #[belongs_to(team, Team, on_delete = set_default)]
    team_id: Id<Team>,
}

fn main() {}
