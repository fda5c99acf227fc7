// Rule: a relation attribute starts with the relation's name and the target table, unquoted:
// a missing or quoted one is an error that shows the expected form.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[has_many(Player, by = team_id)]
#[has_one("captain", Player, by = team_id)]
#[has_many(players)]
struct Team {
    name: String,
}

#[derive(Table, Debug)]
struct Player {
    #[belongs_to(Team)]
    team_id: Id<Team>,
}

fn main() {}
