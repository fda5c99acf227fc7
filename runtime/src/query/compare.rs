//! The comparison operators on column descriptors (`eq`, `gt`, `in_`, `starts_with`, …):
//! how a typed `Filter` is built from a column and values.

use crate::codec;
use crate::model::Col;
use crate::model::{Arg, Column};

use super::filter::*;

fn pred<T, C: Column>(col: &Col<T, C>, pred: Pred) -> Filter<T> {
    Filter::from_expr(Expr::Pred {
        column: col.position(),
        name: col.name(),
        nullable: C::NULLABLE,
        pred,
    })
}

fn value_or_invalid<T, C: Column>(
    col: &Col<T, C>,
    v: impl Arg<C>,
    f: impl FnOnce(KeyValue) -> Pred,
) -> Filter<T> {
    match KeyValue::of(v.into_column()) {
        Ok(kv) => pred(col, f(kv)),
        Err(why) => Filter::from_expr(Expr::Invalid(
            format!("value for column `{}` cannot be encoded: {why}", col.name()).into(),
        )),
    }
}

fn values<C: Column, A: Arg<C>>(vs: impl IntoIterator<Item = A>) -> Result<Vec<KeyValue>, String> {
    let mut out: Vec<KeyValue> = Vec::new();
    for v in vs {
        out.push(KeyValue::of(v.into_column())?);
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out.dedup_by(|a, b| a.key == b.key);
    Ok(out)
}

impl<T, C: Column> Col<T, C> {
    /// Equal to `v`.
    pub fn eq(&self, v: impl Arg<C>) -> Filter<T> {
        value_or_invalid(self, v, |k| Pred::Cmp(CmpOp::Eq, k))
    }
    /// Not equal to `v`. On an `Option` column, `None` is not equal to `Some(v)`, so
    /// `ne(Some(v))` matches the `None` rows too (as `!=` does in Rust; unlike SQL's `<>`).
    pub fn ne(&self, v: impl Arg<C>) -> Filter<T> {
        value_or_invalid(self, v, |k| Pred::Cmp(CmpOp::Ne, k))
    }
    /// Greater than `v`, in the column's order. Like every range (`gt`, `gte`, `lt`, `lte`,
    /// `between`) it never matches `None` on an `Option` column (`is_null` does), though
    /// ordering puts `None` first.
    pub fn gt(&self, v: impl Arg<C>) -> Filter<T> {
        value_or_invalid(self, v, |k| Pred::Cmp(CmpOp::Gt, k))
    }
    /// Greater than or equal to `v`.
    pub fn gte(&self, v: impl Arg<C>) -> Filter<T> {
        value_or_invalid(self, v, |k| Pred::Cmp(CmpOp::Gte, k))
    }
    /// Less than `v`.
    pub fn lt(&self, v: impl Arg<C>) -> Filter<T> {
        value_or_invalid(self, v, |k| Pred::Cmp(CmpOp::Lt, k))
    }
    /// Less than or equal to `v`.
    pub fn lte(&self, v: impl Arg<C>) -> Filter<T> {
        value_or_invalid(self, v, |k| Pred::Cmp(CmpOp::Lte, k))
    }
    /// Between `lo` and `hi`, both included.
    pub fn between(&self, lo: impl Arg<C>, hi: impl Arg<C>) -> Filter<T> {
        match (
            KeyValue::of(lo.into_column()),
            KeyValue::of(hi.into_column()),
        ) {
            (Ok(lo), Ok(hi)) => pred(self, Pred::Between(lo, hi)),
            (Err(why), _) | (_, Err(why)) => Filter::from_expr(Expr::Invalid(
                format!(
                    "value for column `{}` cannot be encoded: {why}",
                    self.name()
                )
                .into(),
            )),
        }
    }
    /// Equal to one of `vs`. An empty list matches nothing.
    pub fn in_<A: Arg<C>>(&self, vs: impl IntoIterator<Item = A>) -> Filter<T> {
        match values(vs) {
            Ok(vs) => pred(self, Pred::In(vs)),
            Err(why) => Filter::from_expr(Expr::Invalid(
                format!(
                    "value for column `{}` cannot be encoded: {why}",
                    self.name()
                )
                .into(),
            )),
        }
    }
    /// Equal to none of `vs`. An empty list matches everything. Like `ne`, it matches `None`
    /// on an `Option` column unless `None` is one of `vs`.
    pub fn not_in<A: Arg<C>>(&self, vs: impl IntoIterator<Item = A>) -> Filter<T> {
        match values(vs) {
            Ok(vs) => pred(self, Pred::NotIn(vs)),
            Err(why) => Filter::from_expr(Expr::Invalid(
                format!(
                    "value for column `{}` cannot be encoded: {why}",
                    self.name()
                )
                .into(),
            )),
        }
    }
}

impl<T, C: Column> Col<T, Option<C>> {
    /// The column holds `None`.
    pub fn is_null(&self) -> Filter<T> {
        pred(self, Pred::IsNull)
    }
    /// The column holds a value.
    pub fn is_not_null(&self) -> Filter<T> {
        pred(self, Pred::IsNotNull)
    }
}

/// String columns: `String` and `Option<String>`.
pub trait StrColumn: Column {
    #[doc(hidden)]
    fn key_prefix(pattern: &str) -> Vec<u8>;
    #[doc(hidden)]
    fn extract(key: &[u8]) -> Option<String>;
}

fn escaped_prefix(pattern: &str, out: &mut Vec<u8>) {
    codec::put_key_bytes(out, pattern.as_bytes());
    // Drop the terminator: every string starting with `pattern` has these bytes first.
    out.truncate(out.len() - 2);
}

fn unescape(mut key: &[u8]) -> Option<String> {
    let bytes = codec::get_key_bytes(&mut key).ok()?;
    String::from_utf8(bytes).ok()
}

impl StrColumn for String {
    fn key_prefix(pattern: &str) -> Vec<u8> {
        let mut out = Vec::new();
        escaped_prefix(pattern, &mut out);
        out
    }
    fn extract(key: &[u8]) -> Option<String> {
        unescape(key)
    }
}

impl StrColumn for Option<String> {
    fn key_prefix(pattern: &str) -> Vec<u8> {
        let mut out = vec![1];
        escaped_prefix(pattern, &mut out);
        out
    }
    fn extract(key: &[u8]) -> Option<String> {
        match key.split_first() {
            Some((1, rest)) => unescape(rest),
            _ => None,
        }
    }
}

impl<T, C: StrColumn> Col<T, C> {
    fn str_pred(&self, op: StrOp, pattern: &str) -> Filter<T> {
        pred(
            self,
            Pred::Str {
                op,
                pattern: pattern.to_string(),
                prefix_key: C::key_prefix(pattern),
                extract: C::extract,
            },
        )
    }
    /// Starts with `prefix` (case-sensitive). Served by an index on the column as a range.
    pub fn starts_with(&self, prefix: &str) -> Filter<T> {
        self.str_pred(StrOp::StartsWith, prefix)
    }
    /// Ends with `suffix` (case-sensitive; a post-filter).
    pub fn ends_with(&self, suffix: &str) -> Filter<T> {
        self.str_pred(StrOp::EndsWith, suffix)
    }
    /// Contains `needle` (case-sensitive; a post-filter).
    pub fn contains(&self, needle: &str) -> Filter<T> {
        self.str_pred(StrOp::Contains, needle)
    }
    /// Matches the SQL `LIKE` pattern: `%` any run of characters, `_` one character;
    /// case-sensitive. A pattern with a literal prefix before its first wildcard is served by
    /// an index like `starts_with`.
    pub fn like(&self, pattern: &str) -> Filter<T> {
        let literal: String = pattern
            .chars()
            .take_while(|c| *c != '%' && *c != '_')
            .collect();
        let mut f = self.str_pred(StrOp::Like, pattern);
        if let Expr::Pred {
            pred: Pred::Str { prefix_key, .. },
            ..
        } = &mut f.expr
        {
            *prefix_key = C::key_prefix(&literal);
        }
        f
    }
}
