//! The `redorm` binary on files the library writes in the test: exact output of every
//! reading command, and the exit status and one-line message of each kind of bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use redb::ReadableTable;
use redorm::prelude::*;
use redorm::{Column, ManualClock};

#[derive(Column, Debug, Clone, PartialEq)]
enum Status {
    Draft,
    Published,
}

#[derive(Table, Debug, Clone)]
#[table(name = "users", delete = soft)]
#[has_many(posts, Post, by = author_id)]
struct User {
    #[unique]
    email: String,
    name: String,
    age: Option<u32>,
}

#[derive(Table, Debug, Clone)]
#[table(name = "posts")]
#[has_many(comments, Comment, by = post_id)]
struct Post {
    #[belongs_to(author, User, on_delete = cascade)]
    author_id: Id<User>,
    title: String,
    #[index]
    views: u32,
    tags: Vec<String>,
    status: Status,
}

#[derive(Table, Debug, Clone)]
#[table(name = "comments")]
struct Comment {
    #[belongs_to(post, Post, on_delete = cascade)]
    post_id: Id<Post>,
    body: String,
}

#[derive(Table, Debug, Clone)]
#[table(name = "uploads", delete = scheduled(delay = "1h"))]
struct Upload {
    #[unique]
    path: String,
}

/// Every row is stamped by this clock: output holds no wall time.
const START_MS: i64 = 1_000_000;

fn open(path: &Path) -> Db {
    Db::builder()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
        .table::<Upload>()
        .clock(ManualClock::new(START_MS))
        .open(path)
        .unwrap()
}

/// Three users (one soft-deleted), three posts, two comments, and an upload deleted by a
/// scheduled deletion that is still pending.
fn fixture(dir: &Path) -> PathBuf {
    let path = dir.join("app.redb");
    let db = open(&path);
    db.write(|tx| {
        let ada = tx.insert(User {
            email: "ada@example.com".into(),
            name: "Ada".into(),
            age: Some(36),
        })?;
        let bob = tx.insert(User {
            email: "bob@example.com".into(),
            name: "Bob".into(),
            age: None,
        })?;
        let eve = tx.insert(User {
            email: "eve@example.com".into(),
            name: "Eve".into(),
            age: Some(29),
        })?;
        let post = |author_id, title: &str, views, status| Post {
            author_id,
            title: title.into(),
            views,
            tags: vec!["intro".into()],
            status,
        };
        let p1 = tx.insert(post(ada, "Hello", 10, Status::Published))?;
        tx.insert(post(ada, "Drafts", 0, Status::Draft))?;
        tx.insert(post(bob, "Bob's", 25, Status::Published))?;
        tx.insert(Comment {
            post_id: p1,
            body: "First!".into(),
        })?;
        tx.insert(Comment {
            post_id: p1,
            body: "Nice".into(),
        })?;
        let upload = tx.insert(Upload {
            path: "/tmp/a.png".into(),
        })?;
        tx.delete(eve)?;
        tx.delete(upload)?;
        Ok(())
    })
    .unwrap();
    drop(db);
    path
}

fn redorm() -> Command {
    Command::cargo_bin("redorm").unwrap()
}

/// Runs `redorm args…`; its status, stdout and stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = redorm().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn ok(args: &[&str]) -> String {
    let (status, stdout, stderr) = run(args);
    assert_eq!(status, 0, "redorm {args:?}: {stderr}");
    stdout
}

/// The command fails with `status` and a single line of stderr containing `needle`.
fn fails(args: &[&str], status: i32, needle: &str) {
    let (got, stdout, stderr) = run(args);
    assert_eq!(got, status, "redorm {args:?}: {stderr}");
    assert_eq!(stdout, "", "redorm {args:?}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("redorm: "), "{stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn tables_lists_counts_indexes_and_relations() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let f = file.to_str().unwrap();
    assert_eq!(
        ok(&["tables", f]),
        "\
comments: 2 live, 0 soft-deleted, delete = hard
  index by_post_id (post_id): 2 entries
  relation post -> posts (belongs to, by post_id)
posts: 3 live, 0 soft-deleted, delete = hard
  index by_author_id (author_id): 3 entries
  index by_views (views): 3 entries
  relation author -> users (belongs to, by author_id)
  relation comments -> comments (has, by comments.post_id)
uploads: 0 live, 1 soft-deleted, delete = scheduled after 1h 0m
  index by_path unique (path): 1 entry
users: 2 live, 1 soft-deleted, delete = soft
  index by_email unique (email): 3 entries
  relation posts -> posts (has, by posts.author_id)
"
    );
}

#[test]
fn schema_shows_columns_types_indexes_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let f = file.to_str().unwrap();
    assert_eq!(
        ok(&["schema", f, "posts"]),
        "\
table posts (schema version 1, catalog format 2, delete = hard)
  columns:
    author_id  Id                     -> users
    title      String
    views      u32
    tags       Vec<String>
    status     enum(Draft,Published)
  indexes:
    by_author_id (author_id)
    by_views (views)
  foreign keys:
    author_id -> users (author): on_delete = cascade, on_soft_delete = ignore
  relations:
    author -> users (belongs to, by author_id)
    comments -> comments (has, by comments.post_id)
"
    );
    let all = ok(&["schema", f]);
    assert!(all.starts_with("table comments"), "{all}");
    assert!(all.contains("\n\ntable users (schema version 1, catalog format 2, delete = soft)\n  columns:\n    email  String\n    name   String\n    age    Option<u32>  nullable\n"), "{all}");
}

#[test]
fn rows_as_json_lines_with_filters_order_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let f = file.to_str().unwrap();
    assert_eq!(
        ok(&["rows", f, "users", "--json"]),
        r#"{"id":"users:1","created_at":1000000,"email":"ada@example.com","name":"Ada","age":36}
{"id":"users:2","created_at":1000000,"email":"bob@example.com","name":"Bob","age":null}
"#
    );
    assert_eq!(
        ok(&["rows", f, "users", "--json", "--deleted", "only"]),
        r#"{"id":"users:3","created_at":1000000,"deleted_at":1000000,"email":"eve@example.com","name":"Eve","age":29}
"#
    );
    assert_eq!(
        ok(&[
            "rows",
            f,
            "posts",
            "--json",
            "--where",
            "views>=10",
            "--order",
            "views:desc"
        ]),
        r#"{"id":"posts:3","created_at":1000000,"author_id":"users:2","title":"Bob's","views":25,"tags":["intro"],"status":"Published"}
{"id":"posts:1","created_at":1000000,"author_id":"users:1","title":"Hello","views":10,"tags":["intro"],"status":"Published"}
"#
    );
    // Pages: the cursor goes to stderr, the next page starts after it.
    let (status, first, stderr) = run(&["rows", f, "posts", "--json", "--limit", "2"]);
    assert_eq!(status, 0);
    assert_eq!(first.lines().count(), 2);
    let cursor = stderr
        .trim()
        .strip_prefix("redorm: more rows: --cursor ")
        .expect("a cursor")
        .to_string();
    let (_, second, stderr) = run(&[
        "rows", f, "posts", "--json", "--limit", "2", "--cursor", &cursor,
    ]);
    assert_eq!(stderr, "");
    assert!(second.starts_with(r#"{"id":"posts:3""#), "{second}");
    assert_eq!(
        ok(&["rows", f, "posts", "--table", "--where", "status=Draft"]),
        "\
id       created_at  author_id  title   views  tags       status
posts:2  1000000     users:1    Drafts  0      [\"intro\"]  Draft
"
    );
}

#[test]
fn explain_names_the_index_and_its_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let f = file.to_str().unwrap();
    assert_eq!(
        ok(&[
            "rows",
            f,
            "users",
            "--where",
            "email=bob@example.com",
            "--explain"
        ]),
        "unique index `by_email` of `users`: email = bob@example.com\n"
    );
    assert_eq!(
        ok(&[
            "rows",
            f,
            "posts",
            "--where",
            "author_id=users:1",
            "--where",
            "views>5",
            "--explain"
        ]),
        "index `by_author_id` of `posts`: author_id = users:1; then checks views > 5\n"
    );
    assert_eq!(
        ok(&[
            "rows",
            f,
            "posts",
            "--where",
            "title=Hello",
            "--order",
            "title",
            "--explain"
        ]),
        "rows of `posts` (full scan); then checks title = Hello; then sorts by `title` in memory\n"
    );
}

#[test]
fn get_loads_relations_and_nested_relations() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let f = file.to_str().unwrap();
    assert_eq!(
        ok(&["get", f, "users:1", "--with", "posts,posts.comments"]),
        concat!(
            r#"{"id":"users:1","created_at":1000000,"email":"ada@example.com","name":"Ada","age":36,"posts":["#,
            r#"{"id":"posts:1","created_at":1000000,"author_id":"users:1","title":"Hello","views":10,"tags":["intro"],"status":"Published","comments":["#,
            r#"{"id":"comments:1","created_at":1000000,"post_id":"posts:1","body":"First!"},"#,
            r#"{"id":"comments:2","created_at":1000000,"post_id":"posts:1","body":"Nice"}]},"#,
            r#"{"id":"posts:2","created_at":1000000,"author_id":"users:1","title":"Drafts","views":0,"tags":["intro"],"status":"Draft","comments":[]}]}"#,
            "\n"
        )
    );
    assert_eq!(
        ok(&["get", f, "comments:2", "--with", "post.author"]),
        concat!(
            r#"{"id":"comments:2","created_at":1000000,"post_id":"posts:1","body":"Nice","post":"#,
            r#"{"id":"posts:1","created_at":1000000,"author_id":"users:1","title":"Hello","views":10,"tags":["intro"],"status":"Published","author":"#,
            r#"{"id":"users:1","created_at":1000000,"email":"ada@example.com","name":"Ada","age":36}}}"#,
            "\n"
        )
    );
    fails(
        &["get", f, "users:99"],
        1,
        "table `users` has no row users:99",
    );
}

#[test]
fn check_is_clean_then_names_a_corrupted_row() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let f = file.to_str().unwrap();
    assert_eq!(
        ok(&["check", f]),
        "4 tables, 9 rows, 12 index entries, 1 jobs: no problem\n"
    );
    // Damage one row behind the library's back: its bytes cut short.
    {
        const POSTS: redb::TableDefinition<'static, u64, &[u8]> =
            redb::TableDefinition::new("posts");
        let db = redb::Database::open(&file).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(POSTS).unwrap();
            t.insert(2u64, [1u8, 1, 0x80].as_slice()).unwrap();
        }
        tx.commit().unwrap();
    }
    let (status, stdout, _) = run(&["check", f]);
    assert_eq!(status, 1);
    assert_eq!(
        stdout,
        "\
4 tables, 9 rows, 12 index entries, 1 jobs: 3 problem(s)
- row posts:2 does not decode: corrupt data in table `posts`, row posts:2: unexpected end of data while reading a varint; restore the file from a backup
- index `by_author_id` of `posts` has an entry for row 2, which no row gives
- index `by_views` of `posts` has an entry for row 2, which no row gives
"
    );
    // Reading the damaged row is an error naming it, not a panic.
    let (status, _, stderr) = run(&["rows", f, "posts", "--json"]);
    assert_eq!(status, 1);
    assert!(stderr.contains("row posts:2"), "{stderr}");
}

#[test]
fn jobs_lists_the_pending_deletion_and_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let f = file.to_str().unwrap();
    let listed = ok(&["jobs", f]);
    let due = START_MS + 3_600_000;
    assert!(
        listed.ends_with(&format!("  purge uploads:1  due at {due} (due now)\n")),
        "{listed}"
    );
    assert_eq!(listed.lines().count(), 1);
    // The file was written by a clock in 1970: the job is long due.
    let (status, stdout, stderr) = run(&["jobs", f, "--run"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        stdout,
        "1 completed, 0 cancelled, 1 rows deleted, 0 rows updated, 1 batches, 0 failed\n"
    );
    assert!(stderr.contains("jobs --run writes to"), "{stderr}");
    assert_eq!(ok(&["jobs", f]), "no pending jobs\n");
    assert_eq!(
        ok(&["check", f]),
        "4 tables, 8 rows, 11 index entries, 0 jobs: no problem\n"
    );
}

#[test]
fn backup_stats_and_compact() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let f = file.to_str().unwrap();
    let copy = dir.path().join("copy.redb");
    let c = copy.to_str().unwrap();
    assert_eq!(
        ok(&["backup", f, c]),
        format!("backed up 4 tables, 9 rows, 12 index entries to {c}\n")
    );
    assert_eq!(ok(&["check", c]), ok(&["check", f]));
    fails(&["backup", f, c], 1, "a backup never overwrites");
    let stats = ok(&["stats", f]);
    assert!(stats.starts_with("file: "), "{stats}");
    assert!(stats.contains("\ntable users: 3 rows, "), "{stats}");
    assert!(stats.contains("\n  index by_email: 3 entries, "), "{stats}");
    assert!(stats.contains("\ntable uploads: 1 row, "), "{stats}");
    let (status, stdout, stderr) = run(&["compact", c]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.starts_with(&format!("compacted {c}: ")), "{stdout}");
    assert!(stderr.contains("compact writes to"), "{stderr}");
    assert_eq!(ok(&["check", c]), ok(&["check", f]));
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let f = file.to_str().unwrap();

    fails(
        &["tables", dir.path().to_str().unwrap()],
        2,
        "it is a directory",
    );
    let empty = dir.path().join("empty.redb");
    std::fs::write(&empty, "").unwrap();
    fails(
        &["tables", empty.to_str().unwrap()],
        2,
        "is not a redb database file",
    );

    let missing = dir.path().join("missing.redb");
    fails(&["tables", missing.to_str().unwrap()], 2, "does not exist");

    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "not a database, just some text that is long enough ".repeat(20),
    )
    .unwrap();
    fails(
        &["tables", text.to_str().unwrap()],
        2,
        "is not a redb database file",
    );

    let bare = dir.path().join("bare.redb");
    drop(redb::Database::create(&bare).unwrap());
    fails(
        &["tables", bare.to_str().unwrap()],
        2,
        "without a redorm catalog",
    );

    fails(
        &["rows", f, "nope"],
        2,
        "no table `nope` in the file; it has: comments, posts, uploads, users",
    );
    fails(&["schema", f, "nope"], 2, "no table `nope`");
    fails(
        &["rows", f, "users", "--where", "shoe=9"],
        2,
        "table `users` has no column `shoe`; it has: email, name, age",
    );
    fails(
        &["rows", f, "users", "--where", "age"],
        2,
        "malformed condition `age`",
    );
    fails(
        &["rows", f, "users", "--where", "age=old"],
        2,
        "bad value for `users.age`: `old` is not an unsigned integer",
    );
    fails(
        &["rows", f, "posts", "--where", "status=Gone"],
        2,
        "`Gone` is not a variant",
    );
    fails(
        &["rows", f, "users", "--index", "by_shoe"],
        2,
        "table `users` has no index `by_shoe`",
    );
    fails(
        &["rows", f, "users", "--order", "age:sideways"],
        2,
        "malformed --order",
    );
    fails(
        &["rows", f, "users", "--cursor", "zz"],
        2,
        "invalid cursor `zz`",
    );
    fails(&["get", f, "users"], 2, "malformed row id `users`");
    fails(&["get", f, "users:x"], 2, "malformed row id `users:x`");
    fails(&["get", f, "shoes:1"], 2, "no table `shoes`");
    fails(
        &["get", f, "users:1", "--with", "friends"],
        2,
        "table `users` has no relation `friends`; it has: posts",
    );
}

#[test]
fn a_newer_catalog_format_is_refused_naming_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    {
        const CATALOG: redb::TableDefinition<'static, &str, &[u8]> =
            redb::TableDefinition::new("__redorm_catalog");
        let db = redb::Database::open(&file).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(CATALOG).unwrap();
            let record = t.get("posts").unwrap().unwrap().value().to_vec();
            let mut json: serde_json::Value = serde_json::from_slice(&record).unwrap();
            json["format"] = 99.into();
            t.insert("posts", serde_json::to_vec(&json).unwrap().as_slice())
                .unwrap();
        }
        tx.commit().unwrap();
    }
    fails(
        &["tables", file.to_str().unwrap()],
        2,
        "the stored schema of table `posts` is in catalog format 99, written by a newer redorm",
    );
    // The library refuses it too, rather than misreading it.
    let err = Db::builder()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
        .table::<Upload>()
        .open(&file)
        .unwrap_err();
    assert!(err.to_string().contains("catalog format 99"), "{err}");
}

#[test]
fn a_file_held_by_a_running_application_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path());
    let db = open(&file);
    fails(
        &["tables", file.to_str().unwrap()],
        2,
        "is held open by another process",
    );
    drop(db);
    assert!(ok(&["tables", file.to_str().unwrap()]).starts_with("comments:"));
}
