//! The workspace README's Rust blocks, run as doc tests by `cargo test --workspace`. (The
//! published crate's own docs, `runtime/README.md`, are doc-tested by the `redorm` crate.)

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct WorkspaceReadme;
