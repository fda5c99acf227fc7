#![allow(dead_code)]
//! Shared fixtures for the integration tests.

use redorm::prelude::*;

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", unique(by_name_team = [name, team]))]
pub struct User {
    #[unique]
    pub email: String,
    pub name: String,
    #[default("member")]
    pub role: String,
    #[index]
    pub age: u32,
    pub team: Option<String>,
}

pub fn user(email: &str, name: &str, age: u32) -> User {
    User {
        email: email.to_string(),
        name: name.to_string(),
        role: "member".to_string(),
        age,
        team: None,
    }
}

pub fn mem_db() -> Db {
    Db::builder()
        .table::<User>()
        .in_memory()
        .expect("in-memory db opens")
}
