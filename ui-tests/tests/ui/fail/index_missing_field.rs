// Rule: an index must name fields of the struct; a missing one is reported at its name, with a
// suggestion and the fields that exist.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(index(by_mail_name = [emial, name]), unique(by_phone = [phone]))]
struct User {
    email: String,
    name: String,
}

fn main() {}
