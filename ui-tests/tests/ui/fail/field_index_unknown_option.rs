// Rule: an unknown option inside a field's `#[unique(...)]` or `#[index(...)]` is an error at
// the option; `nulls_not_distinct` is only for unique indexes.
use redorm::prelude::*;

#[derive(Table, Debug)]
struct User {
    #[unique(nmae = "by_mail")]
    email: String,
    #[index(nmae = "by_nick")]
    nick: String,
    #[index(nulls_not_distinct)]
    manager: Option<String>,
}

fn main() {}
