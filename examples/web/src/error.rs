//! Errors as HTTP answers: a status code and a JSON body naming what went wrong.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// An error answer: `status` with the body `{"error": <code>, …details, "message": <text>}`.
///
/// `code` is a stable, machine-readable name (`unique_violation`, `foreign_key_violation`,
/// `not_found`, `invalid_cursor`, …); the details name the table, index, column or id
/// involved; `message` is for people (for errors from the database, redorm's own message,
/// which says what to do).
#[derive(Debug, Serialize)]
pub struct ApiError {
    /// The HTTP status.
    #[serde(skip)]
    pub status: StatusCode,
    /// The machine-readable name of the error, the body's `error`.
    #[serde(rename = "error")]
    pub code: &'static str,
    /// The fields that name what went wrong.
    #[serde(flatten)]
    pub details: Map<String, Value>,
    /// What went wrong, in words.
    pub message: String,
}

impl ApiError {
    /// An error with `code`, `message` and extra fields `details` (a JSON object, or `null`).
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        details: Value,
    ) -> Self {
        ApiError {
            status,
            code,
            details: match details {
                Value::Object(details) => details,
                _ => Map::new(),
            },
            message: message.into(),
        }
    }

    /// 400 with `code` and `message`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message, Value::Null)
    }

    /// 500, for what the client cannot fix.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            message,
            Value::Null,
        )
    }
}

impl From<redorm::Error> for ApiError {
    fn from(err: redorm::Error) -> Self {
        use redorm::Error as E;
        let message = err.to_string();
        // A bulk insert names the refused row; its own error decides the answer.
        if let E::BatchRow { error, .. } = err {
            return ApiError {
                message,
                ..ApiError::from(*error)
            };
        }
        let (status, code, details) = match &err {
            E::Unique { table, index, .. } => (
                StatusCode::CONFLICT,
                "unique_violation",
                json!({ "table": table, "index": index }),
            ),
            E::Restrict {
                table,
                id,
                child_table,
                column,
                ..
            } => (
                StatusCode::CONFLICT,
                "still_referenced",
                json!({ "id": format!("{table}:{id}"), "referenced_by": format!("{child_table}.{column}") }),
            ),
            E::CascadeTooLarge { table, id, .. } => (
                StatusCode::CONFLICT,
                "cascade_too_large",
                json!({ "id": format!("{table}:{id}") }),
            ),
            E::ForeignKey {
                table,
                column,
                target,
                target_id,
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "foreign_key_violation",
                json!({ "table": table, "column": column, "missing": format!("{target}:{target_id}") }),
            ),
            E::NotFound { table, id } => (
                StatusCode::NOT_FOUND,
                "not_found",
                json!({ "id": format!("{table}:{id}") }),
            ),
            E::InvalidCursor { table, .. } => (
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
                json!({ "table": table }),
            ),
            E::InvalidId { table, input, .. } => (
                StatusCode::BAD_REQUEST,
                "invalid_id",
                json!({ "table": table, "input": input }),
            ),
            E::InvalidQuery { table, .. } => (
                StatusCode::BAD_REQUEST,
                "invalid_query",
                json!({ "table": table }),
            ),
            // Everything else (storage, damaged data, limits this service never reaches) is
            // the server's problem, not the request's.
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal", Value::Null),
        };
        ApiError::new(status, code, message, details)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = match rejection {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, "invalid_body", rejection.body_text(), Value::Null)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query_string", rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}
