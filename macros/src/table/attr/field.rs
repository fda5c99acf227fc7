//! A field and its attributes: `#[unique]`, `#[index]`, `#[default(...)]` and
//! `#[belongs_to(...)]` (read by [`super::relation`]).

use proc_macro2::Ident;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, LitStr, Meta};

use super::{ColumnRef, FieldAttrs, IndexOrigin, IndexSpec, relation};
use crate::diagnostics::{Errors, Result, did_you_mean, error, given_twice};
use crate::meta::{NestedMeta, path_text, string_option};
use crate::names::replace_self_in_type;

/// Field names the database owns: every row has them.
const SYSTEM_FIELDS: &[&str] = &["id", "created_at", "deleted_at"];

/// Reads one field and its attributes; `None` for a field without a name.
pub(super) fn parse_field(
    field: &syn::Field,
    position: usize,
    struct_ident: &Ident,
    errors: &mut Errors,
) -> Option<FieldAttrs> {
    let ident = field.ident.clone()?;
    let name = ident.unraw().to_string();
    let struct_name = struct_ident.unraw();

    if SYSTEM_FIELDS.contains(&name.as_str()) {
        errors.push(error(
            &ident,
            format!(
                "`{name}` is a reserved field name: the database keeps its own `{name}` for every \
                 row (read it from `Doc<{struct_name}>`); rename this field"
            ),
        ));
    }

    let mut out = FieldAttrs {
        ty: replace_self_in_type(&field.ty, struct_ident),
        ident,
        name,
        vis: field.vis.clone(),
        default: None,
        belongs_to: None,
        belongs_to_span: None,
        indexes: Vec::new(),
    };
    let name = &out.name;
    for attr in &field.attrs {
        let path = attr.path();
        if path.is_ident("table") {
            errors.push(error(
                attr,
                "`#[table(...)]` goes on the struct, not on a field; the field options are \
                 `#[unique]`, `#[index]`, `#[default(...)]` and `#[belongs_to(...)]`",
            ));
        } else if path.is_ident("has_many")
            || path.is_ident("has_one")
            || path.is_ident("many_to_many")
        {
            let kind = path_text(path);
            errors.push(error(
                attr,
                format!(
                    "`#[{kind}(...)]` goes on the struct, not on a field; to declare that this \
                     field points at a row of another table, write `#[belongs_to(relation_name, \
                     Target)]` on it"
                ),
            ));
        } else if path.is_ident("belongs_to") {
            if out.belongs_to_span.is_some() {
                errors.push(error(
                    attr,
                    format!(
                        "`#[belongs_to(...)]` is given twice on field `{name}`; a field holds one \
                         foreign key: keep one"
                    ),
                ));
                continue;
            }
            out.belongs_to_span = Some(path.span());
            out.belongs_to = errors.handle(relation::parse_belongs_to(attr, name, struct_ident));
        } else if path.is_ident("default") {
            if out.default.is_some() {
                errors.push(error(
                    attr,
                    format!("`#[default(...)]` is given twice on field `{name}`; keep one"),
                ));
                continue;
            }
            out.default = errors.handle(parse_default(attr));
        } else if path.is_ident("unique") || path.is_ident("index") {
            let unique = path.is_ident("unique");
            if let Some(spec) = errors.handle(parse_field_index(attr, unique, name, position)) {
                out.indexes.push(spec);
            }
        }
    }
    Some(out)
}

/// `#[default(expr)]`.
fn parse_default(attr: &Attribute) -> Result<Expr> {
    let missing = || {
        error(
            attr,
            "`#[default]` needs a value, the one that rows stored before this field existed \
             read as: write `#[default(expr)]`, e.g. `#[default(0)]` or `#[default(\"member\")]`",
        )
    };
    match &attr.meta {
        Meta::List(list) if list.tokens.is_empty() => Err(missing()),
        Meta::List(list) => list.parse_args::<Expr>().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected one expression in `#[default(...)]`: {e}"),
            )
        }),
        Meta::Path(_) => Err(missing()),
        Meta::NameValue(nv) => Err(error(
            attr,
            format!(
                "write the default in parentheses: `#[default({})]`",
                nv.value.to_token_stream()
            ),
        )),
    }
}

/// `#[unique]`, `#[unique(name = "...")]`, `#[unique(nulls_not_distinct)]`, `#[index]`,
/// `#[index(name = "...")]`.
fn parse_field_index(
    attr: &Attribute,
    unique: bool,
    field: &str,
    position: usize,
) -> Result<IndexSpec> {
    let kind = if unique { "unique" } else { "index" };
    let mut name: Option<LitStr> = None;
    let mut nulls_not_distinct = false;
    match &attr.meta {
        Meta::Path(_) => {}
        Meta::NameValue(_) => {
            return Err(error(
                attr,
                format!("expected `#[{kind}]` or `#[{kind}(name = \"by_{field}\")]`"),
            ));
        }
        Meta::List(list) => {
            let items = NestedMeta::parse_list(&list.tokens)?;
            let mut errors = Errors::default();
            for item in &items {
                let NestedMeta::Meta(meta) = item else {
                    errors.push(error(
                        item,
                        format!(
                            "expected an option such as `name = \"by_{field}\"`, found a literal"
                        ),
                    ));
                    continue;
                };
                let key = path_text(meta.path());
                match key.as_str() {
                    "name" => {
                        if name.is_some() {
                            errors.push(given_twice(
                                "name",
                                &format!("#[{kind}(...)]"),
                                meta.path(),
                            ));
                        } else {
                            name =
                                errors.handle(string_option(meta, "name", &format!("by_{field}")));
                        }
                    }
                    "nulls_not_distinct" if !unique => errors.push(error(
                        meta,
                        "`nulls_not_distinct` only applies to unique indexes: use \
                         `#[unique(nulls_not_distinct)]`",
                    )),
                    "nulls_not_distinct" => match meta {
                        Meta::Path(_) => nulls_not_distinct = true,
                        _ => errors.push(error(
                            meta,
                            "write `nulls_not_distinct` alone, without a value",
                        )),
                    },
                    _ => {
                        let (options, expected): (&[&str], _) = if unique {
                            (
                                &["name", "nulls_not_distinct"],
                                "`name = \"...\"` and `nulls_not_distinct`",
                            )
                        } else {
                            (&["name"], "`name = \"...\"`")
                        };
                        errors.push(error(
                            meta.path(),
                            format!(
                                "unknown option `{key}` in `#[{kind}(...)]`{}",
                                did_you_mean(
                                    &key,
                                    options.iter().copied(),
                                    &format!("the options are {expected}")
                                )
                            ),
                        ));
                    }
                }
            }
            errors.finish()?;
        }
    }
    let (ident, index_name) = match name {
        Some(lit) => {
            let value = lit.value();
            match syn::parse_str::<Ident>(&value) {
                Ok(mut ident) => {
                    ident.set_span(lit.span());
                    (ident, value)
                }
                Err(_) => {
                    return Err(error(
                        &lit,
                        format!(
                            "index name `{value}` is not a Rust identifier, but it names the \
                             index's descriptor function; write a name such as `by_{field}`"
                        ),
                    ));
                }
            }
        }
        None => {
            let value = format!("by_{field}");
            (Ident::new(&value, attr.path().span()), value)
        }
    };
    Ok(IndexSpec {
        ident,
        name: index_name,
        unique,
        nulls_not_distinct,
        columns: vec![ColumnRef::Field(position)],
        origin: format!("on field `{field}`"),
        kind: IndexOrigin::Field,
    })
}
