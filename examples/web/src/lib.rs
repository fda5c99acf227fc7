//! An example JSON web service on redorm and axum: users, posts and comments, with typed ids
//! in the URLs and bodies (`"users:1"`), cursor-paginated lists, relations loaded with
//! `?with=`, and database errors answered with their HTTP status and a JSON body.
//!
//! [`router`] is the whole service; the binary (`src/main.rs`) opens the database file and
//! serves it. The routes, the error codes and a curl transcript are in the crate's README.

use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{Method, Uri};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use redorm::prelude::*;
use redorm::{Cursor, Filter, ReadTx};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::{RawValue, to_raw_value};

mod error;
mod schema;

pub use error::ApiError;
pub use schema::{Comment, Post, User, database};

/// Rows per page when a list request gives no `limit`.
pub const DEFAULT_LIMIT: usize = 20;
/// The largest `limit` a list request may ask for.
pub const MAX_LIMIT: usize = 100;
/// At most this many related rows are loaded per row and relation by `?with=` (the first ones
/// by id); the list endpoints' filters (`/posts?author=`, `/comments?post=`,
/// `/comments?author=`) page through all of them.
pub const MAX_RELATED: usize = 100;

/// The service: every route, on the database `db` (opened with [`database`]).
pub fn router(db: Db) -> Router {
    Router::new()
        .route("/users", get(list_users).post(create::<User>))
        .route("/users/{id}", get(get_one::<User>).delete(delete::<User>))
        .route("/posts", get(list_posts).post(create::<Post>))
        .route("/posts/{id}", get(get_one::<Post>).delete(delete::<Post>))
        .route("/comments", get(list_comments).post(create::<Comment>))
        .route(
            "/comments/{id}",
            get(get_one::<Comment>).delete(delete::<Comment>),
        )
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .with_state(db)
}

/// Runs `work` on tokio's blocking thread pool and waits for it without holding an async
/// worker thread.
///
/// redorm's calls are synchronous and may wait: a commit waits for the disk (`fsync`), and a
/// write transaction waits for the one before it (redb has one writer at a time). Run on the
/// async threads, that waiting would stall every other connection those threads serve. A
/// dedicated storage thread fed through a channel would serialize the reads too, which redb
/// runs in parallel on snapshots; `Db` is `Clone + Send + Sync`, so each request can take a
/// handle to the blocking pool instead, where waiting costs one pool thread and nothing else.
async fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("the storage task failed: {e}")))?
}

/// A relation `?with=<name>` can load onto a row of `T`.
struct Rel<T> {
    name: &'static str,
    /// Loads it onto the rows, batched (one index probe per distinct key).
    load: fn(&ReadTx, &mut [Doc<T>]) -> redorm::Result<()>,
    /// What it loaded for one row, as JSON.
    json: fn(&Doc<T>) -> serde_json::Result<Box<RawValue>>,
}

/// A table the service exposes.
trait Resource: Table + Serialize + for<'de> Deserialize<'de> + Clone + Send + 'static {
    /// The relations `?with=` accepts.
    const RELATIONS: &'static [Rel<Self>];
}

impl Resource for User {
    const RELATIONS: &'static [Rel<Self>] = &[
        Rel {
            name: "posts",
            load: |tx, docs| tx.load_into(docs, User::posts().limit(MAX_RELATED)),
            json: |doc| to_raw_value(doc.get(User::posts())),
        },
        Rel {
            name: "comments",
            load: |tx, docs| tx.load_into(docs, User::comments().limit(MAX_RELATED)),
            json: |doc| to_raw_value(doc.get(User::comments())),
        },
    ];
}

impl Resource for Post {
    const RELATIONS: &'static [Rel<Self>] = &[
        Rel {
            name: "author",
            load: |tx, docs| tx.load_into(docs, Post::author()),
            json: |doc| to_raw_value(&doc.get(Post::author())),
        },
        Rel {
            name: "comments",
            load: |tx, docs| tx.load_into(docs, Post::comments().limit(MAX_RELATED)),
            json: |doc| to_raw_value(doc.get(Post::comments())),
        },
    ];
}

impl Resource for Comment {
    const RELATIONS: &'static [Rel<Self>] = &[
        Rel {
            name: "post",
            load: |tx, docs| tx.load_into(docs, Comment::post()),
            json: |doc| to_raw_value(&doc.get(Comment::post())),
        },
        Rel {
            name: "author",
            load: |tx, docs| tx.load_into(docs, Comment::author()),
            json: |doc| to_raw_value(&doc.get(Comment::author())),
        },
    ];
}

/// The relations named by `?with=a,b` (each once, in the order given).
fn parse_with<T: Resource>(with: Option<&str>) -> Result<Vec<&'static Rel<T>>, ApiError> {
    let mut rels: Vec<&'static Rel<T>> = Vec::new();
    for name in with.unwrap_or("").split(',').filter(|s| !s.is_empty()) {
        let Some(rel) = T::RELATIONS.iter().find(|r| r.name == name) else {
            let known: Vec<&str> = T::RELATIONS.iter().map(|r| r.name).collect();
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_with",
                format!(
                    "`{name}` is not a relation of `{}`; `with` takes a comma-separated list of: {}",
                    T::NAME,
                    known.join(", ")
                ),
                serde_json::json!({ "table": T::NAME, "with": name }),
            ));
        };
        if !rels.iter().any(|r| r.name == rel.name) {
            rels.push(rel);
        }
    }
    Ok(rels)
}

/// A row and the relations `?with=` loaded onto it, as one JSON object: the row's own serde
/// form (`id`, `created_at`, then the fields) followed by each relation under its name.
#[derive(Serialize)]
#[serde(bound(serialize = "T: Table + Serialize"))]
struct Expanded<T: Table> {
    #[serde(flatten)]
    doc: Doc<T>,
    #[serde(flatten)]
    related: Related,
}

/// The loaded relations, in the order `?with=` named them, each already serialized (by
/// serde: `Doc<T>`, a list of them, or `null`).
struct Related(Vec<(&'static str, Box<RawValue>)>);

impl Serialize for Related {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(name, value)| (name, value)))
    }
}

fn expand<T: Resource>(doc: Doc<T>, rels: &[&Rel<T>]) -> Result<Expanded<T>, ApiError> {
    let related = rels
        .iter()
        .map(|rel| {
            (rel.json)(&doc)
                .map(|value| (rel.name, value))
                .map_err(|e| ApiError::internal(format!("serializing `{}`: {e}", rel.name)))
        })
        .collect::<Result<_, _>>()?;
    Ok(Expanded {
        doc,
        related: Related(related),
    })
}

/// An id from the URL, in the form the API writes it (`users:1`); another table's id or any
/// other spelling is a 400 naming it.
fn parse_id<T: Table>(text: &str) -> Result<Id<T>, ApiError> {
    Ok(text.parse::<Id<T>>()?)
}

/// `limit` from the query string: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
fn parse_limit(limit: Option<&str>) -> Result<usize, ApiError> {
    let Some(text) = limit else {
        return Ok(DEFAULT_LIMIT);
    };
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            format!("`limit` must be a whole number from 1 to {MAX_LIMIT}; got `{text}`"),
            serde_json::json!({ "max": MAX_LIMIT }),
        )),
    }
}

/// A page as JSON: the shape of redorm's `Page<T>`, with the items' relations beside them.
#[derive(Serialize)]
#[serde(bound(serialize = "T: Table + Serialize"))]
struct PageJson<T: Table> {
    items: Vec<Expanded<T>>,
    next_cursor: Option<Cursor>,
    prev_cursor: Option<Cursor>,
    is_done: bool,
}

/// One page of `T` (filtered by `filter`, in id order) after `cursor`, with `with` loaded.
async fn list<T: Resource>(
    db: Db,
    filter: Option<Filter<T>>,
    cursor: Option<String>,
    limit: Option<String>,
    with: Option<String>,
) -> Result<Response, ApiError> {
    let limit = parse_limit(limit.as_deref())?;
    let rels = parse_with::<T>(with.as_deref())?;
    let cursor: Option<Cursor> = cursor.map(|c| c.parse().unwrap_or_else(|e| match e {}));
    let page = blocking(move || {
        let tx = db.read()?;
        let mut query = tx.query::<T>();
        if let Some(filter) = filter {
            query = query.filter(filter);
        }
        let mut page = query.paginate(cursor.as_ref(), limit)?;
        for rel in &rels {
            (rel.load)(&tx, &mut page.items)?;
        }
        Ok(PageJson {
            items: page
                .items
                .into_iter()
                .map(|doc| expand(doc, &rels))
                .collect::<Result<_, _>>()?,
            next_cursor: page.next_cursor,
            prev_cursor: page.prev_cursor,
            is_done: page.is_done,
        })
    })
    .await?;
    Ok(Json(page).into_response())
}

/// `GET /users?cursor=&limit=&with=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserParams {
    cursor: Option<String>,
    limit: Option<String>,
    with: Option<String>,
}

async fn list_users(
    State(db): State<Db>,
    params: Result<Query<UserParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params?;
    list::<User>(db, None, p.cursor, p.limit, p.with).await
}

/// `GET /posts?author=users:1&cursor=&limit=&with=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostParams {
    author: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
    with: Option<String>,
}

async fn list_posts(
    State(db): State<Db>,
    params: Result<Query<PostParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params?;
    let filter = match p.author.as_deref() {
        Some(author) => Some(Post::author_id().eq(parse_id::<User>(author)?)),
        None => None,
    };
    list::<Post>(db, filter, p.cursor, p.limit, p.with).await
}

/// `GET /comments?post=posts:1&author=users:1&cursor=&limit=&with=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentParams {
    post: Option<String>,
    author: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
    with: Option<String>,
}

async fn list_comments(
    State(db): State<Db>,
    params: Result<Query<CommentParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params?;
    let mut filters = Vec::new();
    if let Some(post) = p.post.as_deref() {
        filters.push(Comment::post_id().eq(parse_id::<Post>(post)?));
    }
    if let Some(author) = p.author.as_deref() {
        filters.push(Comment::author_id().eq(Some(parse_id::<User>(author)?)));
    }
    let filter = filters.into_iter().reduce(|a, b| a.and(b));
    list::<Comment>(db, filter, p.cursor, p.limit, p.with).await
}

/// `?with=` on `GET /<table>/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GetParams {
    with: Option<String>,
}

/// `GET /<table>/{id}?with=`: the row, 404 if there is none.
async fn get_one<T: Resource>(
    State(db): State<Db>,
    Path(id): Path<String>,
    params: Result<Query<GetParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params?;
    let id = parse_id::<T>(&id)?;
    let rels = parse_with::<T>(p.with.as_deref())?;
    let body = blocking(move || {
        let tx = db.read()?;
        let Some(doc) = tx.get(id)? else {
            // The same answer as a write to a missing row gets.
            return Err(redorm::Error::NotFound {
                table: T::NAME,
                id: id.get(),
            }
            .into());
        };
        let mut docs = [doc];
        for rel in &rels {
            (rel.load)(&tx, &mut docs)?;
        }
        let [doc] = docs;
        expand(doc, &rels)
    })
    .await?;
    Ok(Json(body).into_response())
}

/// `POST /<table>` with the row as JSON: 201 with the stored row and its `Location`.
async fn create<T: Resource>(
    State(db): State<Db>,
    body: Result<Json<T>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(value) = body?;
    let doc = blocking(move || {
        Ok(db.write(|tx| {
            let id = tx.insert(value)?;
            tx.get(id)?.ok_or(redorm::Error::NotFound {
                table: T::NAME,
                id: id.get(),
            })
        })?)
    })
    .await?;
    let location = format!("/{}/{}", T::NAME, doc.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(doc),
    )
        .into_response())
}

/// `DELETE /<table>/{id}`: 204; the foreign keys pointing at the row act per their
/// `on_delete` in the same transaction. 404 if there is no such row.
async fn delete<T: Resource>(
    State(db): State<Db>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id::<T>(&id)?;
    blocking(move || Ok(db.write(|tx| tx.delete(id))?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Any other path: 404 with a JSON body.
async fn no_route(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        format!(
            "no route for `{}`; the service has /users, /posts and /comments (GET lists, POST creates) and /<table>/<id> (GET, DELETE)",
            uri.path()
        ),
        Value::Null,
    )
}

/// A known path with a method it does not take: 405 with a JSON body.
async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "`{}` does not take {method}; lists take GET and POST, rows GET and DELETE",
            uri.path()
        ),
        Value::Null,
    )
}
