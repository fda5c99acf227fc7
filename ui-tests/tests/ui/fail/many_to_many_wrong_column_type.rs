// Rule: in `#[many_to_many(name, Target, through = Join, from = a, to = b)]`, `Join::b` must be
// an `Id<Target>` (and `Join::a` an `Id<Self>`); another type is an error at the option, and
// the note names the relation.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[many_to_many(groups, Group, through = Membership, from = user_id, to = role)]
struct User {
    name: String,
}

#[derive(Table, Debug)]
struct Group {
    name: String,
}

#[derive(Table, Debug)]
struct Membership {
    #[belongs_to(user, User)]
    user_id: Id<User>,
    #[belongs_to(group, Group)]
    group_id: Id<Group>,
    role: String,
}

fn main() {}
