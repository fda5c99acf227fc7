// Rule: table names starting with `__redorm` are reserved for redorm's internal tables, whether
// given with `name = "..."` or derived from the struct's name.
use redorm::prelude::*;

#[derive(Table, Debug)]
#[table(name = "__redorm_catalog")]
struct Catalog {
    entry: String,
}

#[allow(non_camel_case_types)]
#[derive(Table, Debug)]
struct __redorm_jobs {
    job: String,
}

fn main() {}
