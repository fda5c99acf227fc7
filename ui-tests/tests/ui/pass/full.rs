//! A table using every kind of column type, defaults, field-level and compound indexes; the
//! generated schema and descriptor types are checked.
#![deny(warnings)]

use redorm::prelude::*;
use redorm::{Col, Index, UniqueIndex};
use serde::{Deserialize, Serialize};

#[derive(Table, Debug)]
pub struct Other {
    pub label: String,
}

#[derive(Column, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Member,
    Admin,
    Owner,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Settings {
    pub theme: String,
    pub font_size: u8,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "everything", index(by_pair = [a_i32, a_string]))]
#[table(unique(by_owner_role = [owner, role], nulls_not_distinct), index(by_bytes = [bytes]))]
pub struct Everything {
    pub a_u8: u8,
    pub a_u16: u16,
    pub a_u32: u32,
    #[index]
    pub a_u64: u64,
    pub a_u128: u128,
    pub a_usize: usize,
    pub a_i8: i8,
    pub a_i16: i16,
    pub a_i32: i32,
    pub a_i64: i64,
    pub a_i128: i128,
    pub a_isize: isize,
    pub a_f32: f32,
    #[default(1.5)]
    pub a_f64: f64,
    #[default(true)]
    pub a_bool: bool,
    #[unique]
    pub a_string: String,
    #[default(Vec::new())]
    pub bytes: Vec<u8>,
    #[unique(name = "by_nick", nulls_not_distinct)]
    pub nickname: Option<String>,
    pub owner: Id<Other>,
    #[index(name = "by_parent")]
    pub parent: Option<Id<Self>>,
    #[default(vec![1, 2, 3])]
    pub numbers: Vec<i64>,
    #[default(Role::Member)]
    pub role: Role,
    pub settings: Json<Settings>,
    #[default(0)]
    pub counter: u64,
    #[default(-1)]
    pub delta: i16,
    #[default(7)]
    pub maybe: Option<u32>,
    #[default("member")]
    pub title: String,
}

fn main() {
    assert_eq!(Everything::NAME, "everything");
    assert_eq!(Other::NAME, "other");

    let schema = Everything::schema();
    assert_eq!(schema.name, "everything");
    let names: Vec<&str> = schema.columns.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "a_u8", "a_u16", "a_u32", "a_u64", "a_u128", "a_usize", "a_i8", "a_i16", "a_i32",
            "a_i64", "a_i128", "a_isize", "a_f32", "a_f64", "a_bool", "a_string", "bytes",
            "nickname", "owner", "parent", "numbers", "role", "settings", "counter", "delta",
            "maybe", "title",
        ]
    );
    let role = &schema.columns[21];
    assert_eq!(role.type_name, "enum(Member,Admin,Owner)");
    assert!(role.has_default && !role.nullable);
    assert!(schema.columns[17].nullable && schema.columns[17].has_default);
    assert!(!schema.columns[0].has_default);

    // Field-level indexes in field order, then table-level ones in attribute order.
    let indexes: Vec<(&str, &[usize], bool, bool)> = schema
        .indexes
        .iter()
        .map(|i| (i.name, i.columns.as_slice(), i.unique, i.nulls_not_distinct))
        .collect();
    assert_eq!(
        indexes,
        [
            ("by_a_u64", &[3][..], false, false),
            ("by_a_string", &[15][..], true, false),
            ("by_nick", &[17][..], true, true),
            ("by_parent", &[19][..], false, false),
            ("by_pair", &[8, 15][..], false, false),
            ("by_owner_role", &[18, 21][..], true, true),
            ("by_bytes", &[16][..], false, false),
        ]
    );

    // Descriptors: one per column, one per index, with tuple keys.
    let _: Col<Everything, u8> = Everything::a_u8();
    let _: Col<Everything, Option<Id<Everything>>> = Everything::parent();
    let _: Col<Everything, Json<Settings>> = Everything::settings();
    let _: Col<Everything, Role> = Everything::role();
    let _: Index<Everything, (u64,)> = Everything::by_a_u64();
    let _: UniqueIndex<Everything, (String,)> = Everything::by_a_string();
    let _: UniqueIndex<Everything, (Option<String>,)> = Everything::by_nick();
    let _: Index<Everything, (i32, String)> = Everything::by_pair();
    let _: UniqueIndex<Everything, (Id<Other>, Role)> = Everything::by_owner_role();
    assert_eq!(Everything::title().name(), "title");
    assert_eq!(Everything::title().position(), 26);
    assert_eq!(Everything::by_pair().position(), 4);
    assert_eq!(Everything::by_nick().name(), "by_nick");
    const TITLE: Col<Everything, String> = Everything::title();
    assert_eq!(TITLE.name(), "title");
}
