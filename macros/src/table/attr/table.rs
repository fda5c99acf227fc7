//! `#[table(...)]`: the table name, the crate path, table-level indexes and the delete mode.

use proc_macro2::Ident;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Attribute, Expr, Lit, Meta};

use super::{ColumnRef, DeleteAttr, IndexOrigin, IndexSpec, TableAttrs};
use crate::diagnostics::{Errors, Result, backtick_list, did_you_mean, error, given_twice};
use crate::meta::{NestedMeta, crate_option, path_text, string_option, strip_groups};

/// The options of `#[table(...)]`.
const TABLE_OPTIONS: &[&str] = &["name", "crate", "index", "unique", "delete"];

/// The accepted form of a scheduled deletion's delay, for messages.
pub(crate) const DELAY_FORM: &str = "a positive whole number followed by a unit, `ms`, `s`, \
                                     `m`, `h`, `d` or `w`, e.g. `\"500ms\"`, `\"90s\"`, \
                                     `\"15m\"`, `\"12h\"`, `\"30d\"` or `\"2w\"`";

/// The values of `#[table(delete = ...)]`.
const DELETE_MODES: &[&str] = &["hard", "soft", "scheduled"];

/// Reads every `#[table(...)]` attribute.
pub(super) fn parse_table_attrs(attrs: &[Attribute], errors: &mut Errors) -> TableAttrs {
    let mut out = TableAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("table")) {
        let Meta::List(list) = &attr.meta else {
            errors.push(error(
                attr,
                "expected options in parentheses, e.g. `#[table(name = \"users\")]` or \
                 `#[table(index(by_author = [author_id]))]`",
            ));
            continue;
        };
        let Some(items) = errors.handle(NestedMeta::parse_list(&list.tokens)) else {
            continue;
        };
        for item in &items {
            let meta = match item {
                NestedMeta::Meta(meta) => meta,
                NestedMeta::Lit(lit) => {
                    errors.push(error(
                        lit,
                        format!(
                            "expected an option such as `name = \"users\"`, found a literal; the \
                             options of `#[table(...)]` are {}",
                            backtick_list(TABLE_OPTIONS.iter().copied())
                        ),
                    ));
                    continue;
                }
            };
            let key = path_text(meta.path());
            match key.as_str() {
                "name" => {
                    if out.name.is_some() {
                        errors.push(given_twice("name", "#[table(...)]", meta.path()));
                    } else if let Some(lit) = errors.handle(string_option(meta, "name", "users")) {
                        out.name = Some(lit);
                    }
                }
                "crate" => {
                    if out.krate.is_some() {
                        errors.push(given_twice("crate", "#[table(...)]", meta.path()));
                    } else if let Some(path) = errors.handle(crate_option(meta, "table")) {
                        out.krate = Some(path);
                    }
                }
                "index" | "unique" => {
                    if let Some(spec) = errors.handle(parse_table_index(meta, key == "unique")) {
                        out.indexes.push(spec);
                    }
                }
                "delete" => {
                    if out.delete.is_some() {
                        errors.push(given_twice("delete", "#[table(...)]", meta.path()));
                    } else {
                        out.delete = parse_delete(meta, errors);
                    }
                }
                _ => errors.push(error(
                    meta.path(),
                    format!(
                        "unknown option `{key}` in `#[table(...)]`{}",
                        did_you_mean(
                            &key,
                            TABLE_OPTIONS.iter().copied(),
                            "the options are `name = \"...\"`, `crate = path`, \
                             `index(index_name = [fields...])`, \
                             `unique(index_name = [fields...])` and \
                             `delete = hard | soft | scheduled(delay = \"...\")`"
                        )
                    ),
                )),
            }
        }
    }
    out
}

/// `delete = hard`, `delete = soft`, `delete = scheduled(delay = "30d")`.
fn parse_delete(meta: &Meta, errors: &mut Errors) -> Option<DeleteAttr> {
    if let Meta::NameValue(nv) = meta
        && let Expr::Call(call) = strip_groups(&nv.value)
        && let Expr::Path(path) = strip_groups(&call.func)
        && path.qself.is_none()
        && let Some(ident) = path.path.get_ident()
        && ident.unraw() == "scheduled"
    {
        return Some(parse_scheduled(ident, call, errors));
    }
    errors.handle(parse_simple_delete(meta))
}

/// `delete = hard`, `delete = soft`, and the mistakes other than in `scheduled(...)`.
fn parse_simple_delete(meta: &Meta) -> Result<DeleteAttr> {
    let usage = "expected `delete = hard` (the default), `delete = soft` or \
                 `delete = scheduled(delay = \"30d\")`";
    let Meta::NameValue(nv) = meta else {
        return Err(error(meta, usage));
    };
    let unknown = |ident: &Ident| {
        let word = ident.unraw().to_string();
        error(
            ident,
            format!(
                "unknown delete mode `{word}`{}",
                did_you_mean(
                    &word,
                    DELETE_MODES.iter().copied(),
                    "the modes are `hard` (the default: rows are removed at once), `soft` \
                     (rows are stamped `deleted_at` and hidden) and \
                     `scheduled(delay = \"30d\")` (soft now, removed after the delay)"
                )
            ),
        )
    };
    match strip_groups(&nv.value) {
        Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
            let Some(ident) = path.path.get_ident() else {
                return Err(error(path, usage));
            };
            match ident.unraw().to_string().as_str() {
                "hard" => Ok(DeleteAttr::Hard),
                "soft" => Ok(DeleteAttr::Soft),
                "scheduled" => Err(error(
                    ident,
                    "scheduled deletion needs a delay: write `delete = scheduled(delay = \"30d\")`",
                )),
                _ => Err(unknown(ident)),
            }
        }
        Expr::Call(call) => {
            let ident = match strip_groups(&call.func) {
                Expr::Path(path) if path.qself.is_none() => path.path.get_ident(),
                _ => None,
            };
            let Some(ident) = ident else {
                return Err(error(&call.func, usage));
            };
            match ident.unraw().to_string().as_str() {
                "scheduled" => Err(error(ident, usage)),
                mode @ ("hard" | "soft") => Err(error(
                    &call.args,
                    format!("`{mode}` takes no options: write `delete = {mode}`"),
                )),
                _ => Err(unknown(ident)),
            }
        }
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Err(error(
            lit,
            format!(
                "write the delete mode without quotes: `delete = {}`",
                lit.value()
            ),
        )),
        other => Err(error(other, usage)),
    }
}

/// The arguments of `scheduled(delay = "30d")`. The delay's text is read by
/// [`crate::table::check`], even when the other arguments have mistakes.
fn parse_scheduled(ident: &Ident, call: &syn::ExprCall, outer: &mut Errors) -> DeleteAttr {
    let mut errors = Errors::default();
    let mut delay = None;
    let mut given = false;
    for arg in &call.args {
        let Expr::Assign(assign) = strip_groups(arg) else {
            errors.push(error(
                arg,
                "expected `delay = \"...\"`, e.g. `scheduled(delay = \"30d\")`",
            ));
            continue;
        };
        let key = match strip_groups(&assign.left) {
            Expr::Path(path) if path.qself.is_none() => path.path.get_ident(),
            _ => None,
        };
        let Some(key) = key else {
            errors.push(error(&assign.left, "expected `delay`"));
            continue;
        };
        let word = key.unraw().to_string();
        if word != "delay" {
            errors.push(error(
                key,
                format!(
                    "unknown option `{word}` in `scheduled(...)`{}",
                    did_you_mean(
                        &word,
                        ["delay"],
                        "the only option is `delay = \"...\"`, e.g. `delay = \"30d\"`"
                    )
                ),
            ));
            continue;
        }
        if given {
            errors.push(given_twice("delay", "scheduled(...)", key));
            continue;
        }
        given = true;
        match strip_groups(&assign.right) {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => delay = Some(lit.clone()),
            other => errors.push(error(
                other,
                format!(
                    "expected a string, e.g. `delay = \"30d\"`: a delay is {}",
                    DELAY_FORM
                ),
            )),
        }
    }
    if !given && errors.is_empty() {
        errors.push(error(
            ident,
            "scheduled deletion needs a delay: write `scheduled(delay = \"30d\")`",
        ));
    }
    if let Err(error) = errors.finish() {
        outer.push(error);
    }
    DeleteAttr::Scheduled { delay }
}

/// `index(name = [a, b])`, `unique(name = [a, b])`, `unique(name = [a, b], nulls_not_distinct)`.
fn parse_table_index(meta: &Meta, unique: bool) -> Result<IndexSpec> {
    let kind = if unique { "unique" } else { "index" };
    let usage = |tokens: &dyn ToTokens| {
        error(
            tokens,
            format!(
                "expected `{kind}(index_name = [field, ...])`, e.g. \
                 `{kind}(by_author_created = [author_id, created])`"
            ),
        )
    };
    let Meta::List(list) = meta else {
        return Err(usage(meta));
    };
    let items = NestedMeta::parse_list(&list.tokens)?;
    let mut errors = Errors::default();
    let mut named: Option<(Ident, Vec<ColumnRef>)> = None;
    let mut nulls_not_distinct = false;
    for item in &items {
        match item {
            NestedMeta::Meta(Meta::NameValue(nv)) => {
                let Some(ident) = nv.path.get_ident() else {
                    errors.push(error(&nv.path, "expected an index name, e.g. `by_author`"));
                    continue;
                };
                if named.is_some() {
                    errors.push(error(
                        &nv.path,
                        format!(
                            "one `{kind}(...)` declares one index; write \
                             `{kind}(a = [...]), {kind}(b = [...])` for two"
                        ),
                    ));
                    continue;
                }
                if let Some(columns) = errors.handle(parse_column_list(ident, &nv.value)) {
                    named = Some((ident.clone(), columns));
                }
            }
            NestedMeta::Meta(Meta::Path(path)) if path.is_ident("nulls_not_distinct") => {
                if unique {
                    nulls_not_distinct = true;
                } else {
                    errors.push(error(
                        path,
                        "`nulls_not_distinct` only applies to unique indexes: write \
                         `unique(index_name = [fields...], nulls_not_distinct)`",
                    ));
                }
            }
            NestedMeta::Meta(Meta::Path(path)) => {
                let text = path_text(path);
                errors.push(error(
                    path,
                    format!("index `{text}` lists no columns: write `{text} = [field, ...]`"),
                ));
            }
            other => errors.push(usage(other)),
        }
    }
    let Some((ident, columns)) = named else {
        if errors.is_empty() {
            errors.push(usage(meta));
        }
        errors.finish()?;
        return Err(usage(meta));
    };
    errors.finish()?;
    Ok(IndexSpec {
        name: ident.unraw().to_string(),
        origin: format!("declared by `{kind}({} = [...])`", ident.unraw()),
        kind: IndexOrigin::Table,
        ident,
        unique,
        nulls_not_distinct,
        columns,
    })
}

/// `[a, b]`.
fn parse_column_list(index: &Ident, expr: &Expr) -> Result<Vec<ColumnRef>> {
    let name = index.unraw();
    match expr {
        Expr::Array(array) => {
            if array.elems.is_empty() {
                return Err(error(
                    array,
                    format!(
                        "index `{name}` lists no columns; name at least one field: \
                         `{name} = [field, ...]`"
                    ),
                ));
            }
            let mut errors = Errors::default();
            let mut columns = Vec::new();
            for elem in &array.elems {
                if let Some(ident) = errors.handle(column_ident(elem)) {
                    columns.push(ColumnRef::Named(ident));
                }
            }
            errors.finish_with(columns)
        }
        Expr::Group(group) => parse_column_list(index, &group.expr),
        Expr::Path(path) if path.path.get_ident().is_some() => Err(error(
            expr,
            format!(
                "put the index's columns in brackets: `{name} = [{}]`",
                path.to_token_stream()
            ),
        )),
        _ => Err(error(
            expr,
            format!("expected the index's columns in brackets: `{name} = [field, ...]`"),
        )),
    }
}

/// One column of a table-level index: a field name.
fn column_ident(expr: &Expr) -> Result<Ident> {
    match expr {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
            match path.path.get_ident() {
                Some(ident) => Ok(ident.clone()),
                None => Err(error(expr, "expected a field name, e.g. `author_id`")),
            }
        }
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Err(error(
            expr,
            format!("write the field name without quotes: `{}`", lit.value()),
        )),
        Expr::Group(group) => column_ident(&group.expr),
        _ => Err(error(expr, "expected a field name, e.g. `author_id`")),
    }
}
