//! Relation attributes: `#[belongs_to(...)]` on a field, and `#[has_many(...)]`,
//! `#[has_one(...)]` and `#[many_to_many(...)]` on the struct. All start with
//! `name, Target` ([`parse_relation_head`]); their options follow.

use proc_macro2::Ident;
use syn::ext::IdentExt;
use syn::{Attribute, Lit, Meta, Path};

use super::{BelongsToAttr, OnDelete, OnSoftDelete, RelationAttr, RelationAttrKind};
use crate::diagnostics::{Errors, Result, did_you_mean, error, given_twice};
use crate::meta::{NestedMeta, ident_option, path_option, path_text};
use crate::names::{replace_self_in_path, snake_case};

/// The options of `#[belongs_to(name, Target, ...)]`.
const BELONGS_TO_OPTIONS: &[&str] = &["on_delete", "on_soft_delete"];

/// The values of `on_delete = ...`.
const ON_DELETE_ACTIONS: &[&str] = &["restrict", "cascade", "set_null", "set_default"];

/// The values of `on_soft_delete = ...`.
const ON_SOFT_DELETE_ACTIONS: &[&str] = &["ignore", "cascade"];

/// The options of `#[many_to_many(name, Target, ...)]`.
const MANY_TO_MANY_OPTIONS: &[&str] = &["through", "from", "to"];

/// The usage line of a relation attribute, for messages.
fn relation_usage(kind: &str, struct_ident: &Ident, field: Option<&str>) -> String {
    let struct_name = struct_ident.unraw().to_string();
    let own_id = format!("{}_id", snake_case(&struct_name));
    match kind {
        "belongs_to" => {
            let name = field
                .and_then(|f| f.strip_suffix("_id"))
                .filter(|stem| !stem.is_empty())
                .unwrap_or("relation_name");
            format!(
                "`#[belongs_to({name}, Target)]` on a field of type `Id<Target>` or \
                 `Option<Id<Target>>`, optionally with `on_delete = ...` and `on_soft_delete = ...`"
            )
        }
        "has_many" | "has_one" => format!(
            "`#[{kind}(relation_name, Target, by = field)]`, where `field` is the field of \
             `Target` that holds an `Id<{struct_name}>`, e.g. `by = {own_id}`"
        ),
        _ => format!(
            "`#[many_to_many(relation_name, Target, through = JoinTable, from = field, to = \
             field)]`, where `JoinTable` is a table whose field `from` holds an \
             `Id<{struct_name}>` (e.g. `from = {own_id}`) and whose field `to` holds an \
             `Id<Target>`"
        ),
    }
}

/// The part every relation attribute shares: `kind(name, Target, options...)`.
struct RelationHead {
    ident: Ident,
    name: String,
    target: Path,
    options: Vec<Meta>,
}

/// Reads `name, Target` and collects the options, reporting unknown ones.
fn parse_relation_head(
    attr: &Attribute,
    kind: &str,
    usage: &str,
    option_names: &[&str],
    options_text: &str,
    struct_ident: &Ident,
) -> Result<RelationHead> {
    let Meta::List(list) = &attr.meta else {
        return Err(error(attr, format!("expected {usage}")));
    };
    let items = NestedMeta::parse_list(&list.tokens)?;
    let mut errors = Errors::default();
    // The relation name and the target, as written; `None` for a quoted one (already reported).
    let mut positional: Vec<Option<&Path>> = Vec::new();
    let mut options = Vec::new();
    for item in &items {
        match item {
            NestedMeta::Lit(Lit::Str(lit)) if positional.len() < 2 => {
                let what = if positional.is_empty() {
                    "relation name"
                } else {
                    "target table"
                };
                errors.push(error(
                    lit,
                    format!("write the {what} without quotes: `{}`", lit.value()),
                ));
                positional.push(None);
            }
            NestedMeta::Lit(lit) => {
                errors.push(error(lit, format!("unexpected literal; expected {usage}")));
            }
            NestedMeta::Meta(Meta::Path(path)) if positional.len() < 2 => {
                positional.push(Some(path));
            }
            NestedMeta::Meta(meta) => {
                let key = path_text(meta.path());
                if option_names.contains(&key.as_str()) {
                    options.push(meta.clone());
                } else {
                    errors.push(error(
                        meta.path(),
                        format!(
                            "unknown option `{key}` in `#[{kind}(...)]`{}",
                            did_you_mean(
                                &key,
                                option_names.iter().copied(),
                                &format!(
                                    "after the relation name and the target table, the options \
                                     are {options_text}"
                                )
                            )
                        ),
                    ));
                }
            }
        }
    }
    let (name, target) = match positional.as_slice() {
        [] => {
            errors.push(error(
                attr,
                format!("`#[{kind}(...)]` needs a relation name and a target table: write {usage}"),
            ));
            return Err(errors.finish().err().unwrap_or_else(|| error(attr, usage)));
        }
        [one] => {
            let message = match one {
                Some(path) if looks_like_type(path) => format!(
                    "`#[{kind}(...)]` needs a relation name before the target table `{}`: write \
                     {usage}",
                    path_text(path)
                ),
                Some(path) => format!(
                    "`#[{kind}(...)]` needs a target table after the relation name `{}`: write \
                     {usage}",
                    path_text(path)
                ),
                None => format!("`#[{kind}(...)]` needs a target table: write {usage}"),
            };
            errors.push(error(attr, message));
            return Err(errors.finish().err().unwrap_or_else(|| error(attr, usage)));
        }
        [name, target, ..] => (*name, *target),
    };
    let ident = match name {
        Some(path) => match path.get_ident() {
            Some(ident) if !is_path_keyword(ident) => Some(ident.clone()),
            _ => {
                errors.push(error(
                    path,
                    format!(
                        "the relation name must be a plain identifier, such as `author` or \
                         `posts`: it names the relation's descriptor function \
                         `{}::name()`",
                        struct_ident.unraw()
                    ),
                ));
                None
            }
        },
        None => None,
    };
    let target = target.map(|path| replace_self_in_path(path, struct_ident));
    match (ident, target) {
        (Some(ident), Some(target)) if errors.is_empty() => Ok(RelationHead {
            name: ident.unraw().to_string(),
            ident,
            target,
            options,
        }),
        _ => Err(errors
            .finish()
            .err()
            .unwrap_or_else(|| error(attr, format!("expected {usage}")))),
    }
}

/// `Self`, `self`, `super`, `crate`: path segments that cannot name a function.
fn is_path_keyword(ident: &Ident) -> bool {
    ["Self", "self", "super", "crate"]
        .iter()
        .any(|keyword| ident == keyword)
}

/// Whether a path looks like a type (`User`, `models::User`, `Self`) rather than a relation
/// name.
fn looks_like_type(path: &Path) -> bool {
    path.segments.len() > 1
        || path
            .segments
            .last()
            .and_then(|s| s.ident.unraw().to_string().chars().next())
            .is_some_and(char::is_uppercase)
}

/// `#[belongs_to(name, Target, on_delete = ..., on_soft_delete = ...)]` on field `field`.
pub(super) fn parse_belongs_to(
    attr: &Attribute,
    field: &str,
    struct_ident: &Ident,
) -> Result<BelongsToAttr> {
    let usage = relation_usage("belongs_to", struct_ident, Some(field));
    let head = parse_relation_head(
        attr,
        "belongs_to",
        &usage,
        BELONGS_TO_OPTIONS,
        "`on_delete = restrict | cascade | set_null | set_default` and \
         `on_soft_delete = ignore | cascade`",
        struct_ident,
    )?;
    let mut errors = Errors::default();
    let mut on_delete: Option<(OnDelete, Ident)> = None;
    let mut on_soft_delete: Option<OnSoftDelete> = None;
    for meta in &head.options {
        let key = path_text(meta.path());
        if key == "on_delete" {
            if on_delete.is_some() {
                errors.push(given_twice("on_delete", "#[belongs_to(...)]", meta.path()));
                continue;
            }
            let Some(value) = errors.handle(ident_option(meta, "on_delete", "cascade")) else {
                continue;
            };
            let word = value.unraw().to_string();
            let action = match word.as_str() {
                "restrict" => OnDelete::Restrict,
                "cascade" => OnDelete::Cascade,
                "set_null" => OnDelete::SetNull,
                "set_default" => OnDelete::SetDefault,
                _ => {
                    errors.push(error(
                        &value,
                        format!(
                            "unknown `on_delete` action `{word}`{}",
                            did_you_mean(
                                &word,
                                ON_DELETE_ACTIONS.iter().copied(),
                                "the actions are `restrict` (the default: deleting the row it \
                                 points at fails), `cascade` (this row is deleted too), \
                                 `set_null` and `set_default`"
                            )
                        ),
                    ));
                    continue;
                }
            };
            on_delete = Some((action, value));
        } else {
            if on_soft_delete.is_some() {
                errors.push(given_twice(
                    "on_soft_delete",
                    "#[belongs_to(...)]",
                    meta.path(),
                ));
                continue;
            }
            let Some(value) = errors.handle(ident_option(meta, "on_soft_delete", "cascade")) else {
                continue;
            };
            let word = value.unraw().to_string();
            on_soft_delete = match word.as_str() {
                "ignore" => Some(OnSoftDelete::Ignore),
                "cascade" => Some(OnSoftDelete::Cascade),
                _ => {
                    errors.push(error(
                        &value,
                        format!(
                            "unknown `on_soft_delete` action `{word}`{}",
                            did_you_mean(
                                &word,
                                ON_SOFT_DELETE_ACTIONS.iter().copied(),
                                "the actions are `ignore` (the default: this row stays) and \
                                 `cascade` (this row is soft-deleted too, and restored with the \
                                 row it points at)"
                            )
                        ),
                    ));
                    continue;
                }
            };
        }
    }
    errors.finish_with(BelongsToAttr {
        ident: head.ident,
        name: head.name,
        target: head.target,
        on_delete,
        on_soft_delete: on_soft_delete.unwrap_or_default(),
    })
}

/// Reads the struct-level `#[has_many]`, `#[has_one]` and `#[many_to_many]` attributes.
pub(super) fn parse_relation_attrs(
    attrs: &[Attribute],
    struct_ident: &Ident,
    errors: &mut Errors,
) -> Vec<RelationAttr> {
    let mut out = Vec::new();
    for attr in attrs {
        let path = attr.path();
        let result = if path.is_ident("has_many") || path.is_ident("has_one") {
            parse_has(attr, path.is_ident("has_many"), struct_ident)
        } else if path.is_ident("many_to_many") {
            parse_many_to_many(attr, struct_ident)
        } else {
            continue;
        };
        if let Some(relation) = errors.handle(result) {
            out.push(relation);
        }
    }
    out
}

/// `#[has_many(name, Target, by = field)]` / `#[has_one(...)]`. A missing `by` is reported by
/// the checks.
fn parse_has(attr: &Attribute, many: bool, struct_ident: &Ident) -> Result<RelationAttr> {
    let kind = if many { "has_many" } else { "has_one" };
    let usage = relation_usage(kind, struct_ident, None);
    let head = parse_relation_head(attr, kind, &usage, &["by"], "`by = field`", struct_ident)?;
    let own_id = format!("{}_id", snake_case(&struct_ident.unraw().to_string()));
    let mut errors = Errors::default();
    let mut by: Option<Ident> = None;
    for meta in &head.options {
        if by.is_some() {
            errors.push(given_twice("by", &format!("#[{kind}(...)]"), meta.path()));
        } else {
            by = errors.handle(ident_option(meta, "by", &own_id));
        }
    }
    errors.finish_with(RelationAttr {
        attr: attr.clone(),
        ident: head.ident,
        name: head.name,
        target: head.target,
        kind: RelationAttrKind::Has { many, by },
    })
}

/// `#[many_to_many(name, Target, through = Join, from = a, to = b)]`. Missing options are
/// reported by the checks.
fn parse_many_to_many(attr: &Attribute, struct_ident: &Ident) -> Result<RelationAttr> {
    let usage = relation_usage("many_to_many", struct_ident, None);
    let head = parse_relation_head(
        attr,
        "many_to_many",
        &usage,
        MANY_TO_MANY_OPTIONS,
        "`through = JoinTable`, `from = field` and `to = field`",
        struct_ident,
    )?;
    let own_id = format!("{}_id", snake_case(&struct_ident.unraw().to_string()));
    let target_id = target_id(&head.target);
    let mut errors = Errors::default();
    let mut through: Option<Path> = None;
    let mut from: Option<Ident> = None;
    let mut to: Option<Ident> = None;
    for meta in &head.options {
        let key = path_text(meta.path());
        let twice = || given_twice(&key, "#[many_to_many(...)]", meta.path());
        match key.as_str() {
            "through" if through.is_some() => errors.push(twice()),
            "through" => {
                through = errors
                    .handle(path_option(meta, "through", "JoinTable"))
                    .map(|path| replace_self_in_path(&path, struct_ident));
            }
            "from" if from.is_some() => errors.push(twice()),
            "from" => from = errors.handle(ident_option(meta, "from", &own_id)),
            _ if to.is_some() => errors.push(twice()),
            _ => to = errors.handle(ident_option(meta, "to", &target_id)),
        }
    }
    errors.finish_with(RelationAttr {
        attr: attr.clone(),
        ident: head.ident,
        name: head.name,
        target: head.target,
        kind: RelationAttrKind::ManyToMany { through, from, to },
    })
}

/// `target_id` for a target `Target` (`models::BlogPost` -> `blog_post_id`), for examples in
/// messages.
pub(crate) fn target_id(target: &Path) -> String {
    format!(
        "{}_id",
        target
            .segments
            .last()
            .map(|s| snake_case(&s.ident.unraw().to_string()))
            .unwrap_or_default()
    )
}
