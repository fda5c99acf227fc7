//! The service end to end: each test starts the binary on a fresh database file and port 0,
//! reads the address it prints, and drives it over HTTP, checking status codes and whole JSON
//! bodies. Every request has a timeout, and every loop a bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use redorm::Id;
use redorm_example_web::{MAX_LIMIT, User};
use serde_json::{Value, json};

/// The binary, serving a database in a temporary directory; killed when dropped.
struct Server {
    child: Child,
    base: String,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

/// One answer: status, `Location` header and body (`null` when empty).
#[derive(Debug)]
struct Reply {
    status: u16,
    location: Option<String>,
    body: Value,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_redorm-example-web"))
            .arg(dir.path().join("blog.redb"))
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server binary");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep reading, so a later line never finds the pipe closed.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                panic!("the server printed no address within 30 s: {e}");
            }
        };
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(10)))
                .build(),
        );
        Server {
            child,
            base,
            agent,
            _dir: dir,
        }
    }

    fn reply(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = response.expect("an HTTP answer");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let text = response.body_mut().read_to_string().unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        Reply {
            status,
            location,
            body,
        }
    }

    fn get(&self, path: &str) -> Reply {
        Self::reply(self.agent.get(format!("{}{path}", self.base)).call())
    }

    fn post(&self, path: &str, body: &Value) -> Reply {
        Self::reply(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .send(body.to_string()),
        )
    }

    fn delete(&self, path: &str) -> Reply {
        Self::reply(self.agent.delete(format!("{}{path}", self.base)).call())
    }

    /// Posts `input` to `/<table>` and checks the answer: 201, `Location: /<table>/<id>`, and
    /// the body `{"id": id, "created_at": <ms>, ...fields}`. Returns the body.
    fn create_as(&self, table: &str, input: Value, id: &str, fields: Value) -> Value {
        let reply = self.post(&format!("/{table}"), &input);
        assert_eq!(reply.status, 201, "{reply:?}");
        assert_eq!(reply.location.as_deref(), Some(&*format!("/{table}/{id}")));
        let created_at = reply.body["created_at"].as_i64().expect("created_at");
        // Milliseconds since the Unix epoch, after 2024.
        assert!(created_at > 1_704_067_200_000, "{created_at}");
        let mut expected = json!({ "id": id, "created_at": created_at });
        expected
            .as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        assert_eq!(reply.body, expected);
        reply.body
    }

    fn create(&self, table: &str, input: Value, id: &str) -> Value {
        self.create_as(table, input.clone(), id, input)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `row` with `extra`'s keys added.
fn with(row: &Value, extra: Value) -> Value {
    let mut row = row.clone();
    row.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    row
}

/// Two users, three posts, four comments:
/// ann (users:1) wrote posts:1 and posts:2, bob (users:2) wrote posts:3;
/// comments:1 is bob's on posts:1, comments:2 ann's on posts:1, comments:3 anonymous on
/// posts:3, comments:4 ann's on posts:3.
struct Seed {
    users: Vec<Value>,
    posts: Vec<Value>,
    comments: Vec<Value>,
}

fn seed(s: &Server) -> Seed {
    let users = vec![
        s.create(
            "users",
            json!({"email": "ann@example.com", "name": "Ann"}),
            "users:1",
        ),
        s.create(
            "users",
            json!({"email": "bob@example.com", "name": "Bob"}),
            "users:2",
        ),
    ];
    let post = |author: &str, title: &str, id: &str| {
        s.create(
            "posts",
            json!({"author_id": author, "title": title, "body": format!("{title}, at length")}),
            id,
        )
    };
    let posts = vec![
        post("users:1", "Hello", "posts:1"),
        post("users:1", "Again", "posts:2"),
        post("users:2", "Bob here", "posts:3"),
    ];
    let comment = |post: &str, author: &str, body: &str, id: &str| {
        s.create(
            "comments",
            json!({"post_id": post, "author_id": author, "body": body}),
            id,
        )
    };
    let comments = vec![
        comment("posts:1", "users:2", "Welcome!", "comments:1"),
        comment("posts:1", "users:1", "Thanks.", "comments:2"),
        // No author: the field may be left out, and reads back as null.
        s.create_as(
            "comments",
            json!({"post_id": "posts:3", "body": "Anonymous"}),
            "comments:3",
            json!({"post_id": "posts:3", "author_id": null, "body": "Anonymous"}),
        ),
        comment("posts:3", "users:1", "Hi Bob", "comments:4"),
    ];
    Seed {
        users,
        posts,
        comments,
    }
}

#[test]
fn create_get_and_the_errors_of_writes() {
    let s = Server::start();
    let ann = s.create(
        "users",
        json!({"email": "ann@example.com", "name": "Ann"}),
        "users:1",
    );
    let got = s.get("/users/users:1");
    assert_eq!((got.status, &got.body), (200, &ann));

    // A second user with the same email: 409, naming the index.
    let dup = s.post(
        "/users",
        &json!({"email": "ann@example.com", "name": "Another Ann"}),
    );
    let unique = redorm::Error::Unique {
        table: "users",
        index: "by_email",
        value: format!("{:?}", "ann@example.com"),
        existing: 1,
    };
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.body,
        json!({
            "error": "unique_violation",
            "table": "users",
            "index": "by_email",
            "message": unique.to_string(),
        })
    );

    // A post for a user that does not exist: 422, naming the column and the missing row.
    let orphan = s.post(
        "/posts",
        &json!({"author_id": "users:9", "title": "t", "body": "b"}),
    );
    let fk = redorm::Error::ForeignKey {
        table: "posts",
        column: "author_id",
        target: "users",
        target_id: 9,
    };
    assert_eq!(orphan.status, 422);
    assert_eq!(
        orphan.body,
        json!({
            "error": "foreign_key_violation",
            "table": "posts",
            "column": "author_id",
            "missing": "users:9",
            "message": fk.to_string(),
        })
    );
    let orphan = s.post("/comments", &json!({"post_id": "posts:1", "body": "b"}));
    assert_eq!(orphan.status, 422);
    assert_eq!(orphan.body["missing"], "posts:1");

    // Neither refused write left anything: the next ids are still 1 and 2.
    let post = s.create(
        "posts",
        json!({"author_id": "users:1", "title": "t", "body": "b"}),
        "posts:1",
    );
    s.create(
        "users",
        json!({"email": "bob@example.com", "name": "Bob"}),
        "users:2",
    );
    assert_eq!(s.get("/posts/posts:1").body, post);

    // Not found: 404 with the id.
    let missing = s.get("/users/users:99");
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        json!({
            "error": "not_found",
            "id": "users:99",
            "message": redorm::Error::NotFound { table: "users", id: 99 }.to_string(),
        })
    );

    // An id of another table, or not an id: 400, with redorm's reason.
    for bad in ["posts:1", "1", "users:01"] {
        let reply = s.get(&format!("/users/{bad}"));
        let reason = bad.parse::<Id<User>>().unwrap_err().to_string();
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(
            reply.body,
            json!({"error": "invalid_id", "table": "users", "input": bad, "message": reason})
        );
    }
    let reply = s.get("/posts?author=posts:1");
    assert_eq!(
        (reply.status, &reply.body["error"]),
        (400, &json!("invalid_id"))
    );

    // Bodies that are not rows: 400, or 415 without the JSON content type.
    let reply = s.post("/users", &json!({"email": 1, "name": "x"}));
    assert_eq!(
        (reply.status, &reply.body["error"]),
        (400, &json!("invalid_body"))
    );
    let reply = s.post(
        "/posts",
        &json!({"author_id": 1, "title": "t", "body": "b"}),
    );
    assert_eq!(
        (reply.status, &reply.body["error"]),
        (400, &json!("invalid_body"))
    );
    let reply = Server::reply(s.agent.post(format!("{}/users", s.base)).send("{}"));
    assert_eq!(reply.status, 415);
    assert_eq!(reply.body["error"], "invalid_body");

    // Unknown paths and methods answer in JSON too.
    let reply = s.get("/nowhere");
    assert_eq!(
        (reply.status, &reply.body["error"]),
        (404, &json!("no_route"))
    );
    let reply = Server::reply(s.agent.put(format!("{}/users", s.base)).send("{}"));
    assert_eq!(
        (reply.status, &reply.body["error"]),
        (405, &json!("method_not_allowed"))
    );

    // The list holds both users, and nothing else.
    let list = s.get("/users");
    assert_eq!(list.status, 200);
    let bob = s.get("/users/users:2").body;
    assert_eq!(
        list.body,
        json!({"items": [ann, bob], "next_cursor": null, "prev_cursor": null, "is_done": true})
    );
}

/// Follows `next_cursor` from `first` (a path with a query string) to the end; returns the
/// pages' bodies. At most `max_pages` requests.
fn all_pages(s: &Server, first: &str, max_pages: usize) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut path = first.to_string();
    for _ in 0..max_pages {
        let reply = s.get(&path);
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        let page = reply.body;
        assert_eq!(page["is_done"], page["next_cursor"].is_null(), "{page}");
        let next = page["next_cursor"].as_str().map(str::to_string);
        pages.push(page);
        match next {
            Some(cursor) => path = format!("{first}&cursor={cursor}"),
            None => return pages,
        }
    }
    panic!("{first}: more than {max_pages} pages");
}

#[test]
fn lists_page_through_every_row_once_with_cursors() {
    let s = Server::start();
    s.create(
        "users",
        json!({"email": "ann@example.com", "name": "Ann"}),
        "users:1",
    );
    s.create(
        "users",
        json!({"email": "bob@example.com", "name": "Bob"}),
        "users:2",
    );
    // 25 posts, alternately by ann and bob.
    let posts: Vec<Value> = (1..=25)
        .map(|n| {
            let author = if n % 2 == 1 { "users:1" } else { "users:2" };
            s.create(
                "posts",
                json!({"author_id": author, "title": format!("Post {n}"), "body": "..."}),
                &format!("posts:{n}"),
            )
        })
        .collect();

    // Seven at a time: 7 + 7 + 7 + 4, every post exactly once, in id order.
    let pages = all_pages(&s, "/posts?limit=7", 10);
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["items"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [7, 7, 7, 4]);
    let items: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().clone())
        .collect();
    assert_eq!(items, posts);
    assert!(pages[0]["prev_cursor"].is_null());
    assert!(pages[1..].iter().all(|p| p["prev_cursor"].is_string()));
    assert_eq!(pages[3]["is_done"], true);

    // The second page's prev_cursor goes back to exactly the first page's rows.
    let back = s.get(&format!(
        "/posts?limit=7&cursor={}",
        pages[1]["prev_cursor"].as_str().unwrap()
    ));
    assert_eq!(back.status, 200);
    assert_eq!(back.body["items"], pages[0]["items"]);

    // One author's posts: ann wrote the odd ones, 13 of them, in pages of 5.
    let pages = all_pages(&s, "/posts?author=users:1&limit=5", 10);
    let anns: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().clone())
        .collect();
    let expected: Vec<Value> = posts.iter().step_by(2).cloned().collect();
    assert_eq!(pages.len(), 3);
    assert_eq!(anns, expected);

    // The largest page holds everything.
    let page = s.get(&format!("/posts?limit={MAX_LIMIT}"));
    assert_eq!(page.body["items"].as_array().unwrap().len(), 25);
    assert_eq!(page.body["is_done"], true);

    // A cursor that is not one, or one from another query or table: 400, naming the table.
    let filtered_cursor = s.get("/posts?author=users:1&limit=5").body["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let users_cursor = s.get("/users?limit=1").body["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    for cursor in ["not-a-cursor", "", &filtered_cursor[..10], &users_cursor] {
        let reply = s.get(&format!("/posts?limit=7&cursor={cursor}"));
        assert_eq!(reply.status, 400, "{cursor}: {reply:?}");
        let message = reply.body["message"].as_str().unwrap().to_string();
        assert!(
            message.starts_with("invalid cursor for a query on `posts`: "),
            "{message}"
        );
        assert_eq!(
            reply.body,
            json!({"error": "invalid_cursor", "table": "posts", "message": message})
        );
    }
    // A cursor of the filtered query does not continue the unfiltered one.
    let reply = s.get(&format!("/posts?limit=5&cursor={filtered_cursor}"));
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["error"], "invalid_cursor");
    // ... but does continue its own.
    let reply = s.get(&format!(
        "/posts?author=users:1&limit=5&cursor={filtered_cursor}"
    ));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["items"][0]["id"], "posts:11");

    // limit is bounded.
    for bad in ["0", "101", "ten", "-1"] {
        let reply = s.get(&format!("/posts?limit={bad}"));
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(
            reply.body,
            json!({
                "error": "invalid_limit",
                "max": 100,
                "message": format!("`limit` must be a whole number from 1 to 100; got `{bad}`"),
            })
        );
    }
    // Parameters a list does not take are refused, not ignored.
    let reply = s.get("/users?author=users:1");
    assert_eq!(
        (reply.status, &reply.body["error"]),
        (400, &json!("invalid_query_string"))
    );
}

#[test]
fn with_loads_relations_onto_rows_and_pages() {
    let s = Server::start();
    let Seed {
        users,
        posts,
        comments,
    } = seed(&s);

    let reply = s.get("/users/users:1?with=posts");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        with(&users[0], json!({"posts": [posts[0], posts[1]]}))
    );

    let reply = s.get("/posts/posts:1?with=comments,author");
    assert_eq!(
        reply.body,
        with(
            &posts[0],
            json!({"comments": [comments[0], comments[1]], "author": users[0]})
        )
    );

    // A comment without an author: the relation is null.
    let reply = s.get("/comments/comments:3?with=author,post");
    assert_eq!(
        reply.body,
        with(&comments[2], json!({"author": null, "post": posts[2]}))
    );

    // On a list, every item of the page gets its relations (a name given twice loads once).
    let pages = all_pages(&s, "/users?limit=1&with=posts,comments,posts", 5);
    assert_eq!(pages.len(), 2);
    assert_eq!(
        pages[0]["items"],
        json!([with(
            &users[0],
            json!({"posts": [posts[0], posts[1]], "comments": [comments[1], comments[3]]})
        )])
    );
    assert_eq!(
        pages[1]["items"],
        json!([with(
            &users[1],
            json!({"posts": [posts[2]], "comments": [comments[0]]})
        )])
    );
    let reply = s.get("/comments?post=posts:3&with=author");
    assert_eq!(
        reply.body["items"],
        json!([
            with(&comments[2], json!({"author": null})),
            with(&comments[3], json!({"author": users[0]})),
        ])
    );
    let reply = s.get("/comments?author=users:1");
    assert_eq!(reply.body["items"], json!([comments[1], comments[3]]));
    let reply = s.get("/comments?author=users:1&post=posts:3");
    assert_eq!(reply.body["items"], json!([comments[3]]));

    // A relation the table does not have: 400 listing the ones it has.
    let reply = s.get("/posts/posts:1?with=likes");
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body,
        json!({
            "error": "invalid_with",
            "table": "posts",
            "with": "likes",
            "message": "`likes` is not a relation of `posts`; `with` takes a comma-separated list of: author, comments",
        })
    );
    // A missing row is 404 before any relation is looked at.
    assert_eq!(s.get("/posts/posts:9?with=comments").status, 404);
}

#[test]
fn delete_cascades_and_sets_null() {
    let s = Server::start();
    let Seed {
        users,
        posts,
        comments,
    } = seed(&s);

    // Deleting ann deletes her posts and, with them, their comments (bob's too); her comment
    // on bob's post stays, without an author.
    let reply = s.delete("/users/users:1");
    assert_eq!((reply.status, &reply.body), (204, &Value::Null));
    for gone in [
        "/users/users:1",
        "/posts/posts:1",
        "/posts/posts:2",
        "/comments/comments:1",
        "/comments/comments:2",
    ] {
        assert_eq!(s.get(gone).status, 404, "{gone}");
    }
    assert_eq!(
        s.get("/users").body["items"],
        json!([users[1]]),
        "bob is still there"
    );
    assert_eq!(s.get("/posts").body["items"], json!([posts[2]]));
    assert_eq!(
        s.get("/comments").body["items"],
        json!([comments[2], with(&comments[3], json!({"author_id": null}))])
    );

    // Deleting again: 404 with redorm's NotFound.
    let reply = s.delete("/users/users:1");
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.body,
        json!({
            "error": "not_found",
            "id": "users:1",
            "message": redorm::Error::NotFound { table: "users", id: 1 }.to_string(),
        })
    );
    // A post for the deleted user is refused like one for a user that never was.
    let reply = s.post(
        "/posts",
        &json!({"author_id": "users:1", "title": "t", "body": "b"}),
    );
    assert_eq!(reply.status, 422);

    // Deleting a post takes its comments; the email of a deleted user is free again.
    assert_eq!(s.delete("/posts/posts:3").status, 204);
    assert_eq!(s.get("/comments").body["items"], json!([]));
    s.create(
        "users",
        json!({"email": "ann@example.com", "name": "Ann again"}),
        "users:3",
    );
}
