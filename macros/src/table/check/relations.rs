//! Relations: required options, `on_delete = set_default` against the field's default, the
//! fields of a relation of the struct to itself, and name clashes (a relation's name is also
//! its descriptor function).

use proc_macro2::Ident;
use syn::ext::IdentExt;

use super::{BelongsTo, FieldDef, IndexDef, RelationDef, RelationKind};
use crate::diagnostics::{Errors, did_you_mean, error, join_and};
use crate::meta::path_text;
use crate::names::snake_case;
use crate::table::attr::{
    BelongsToAttr, FieldAttrs, OnDelete, RelationAttr, RelationAttrKind, target_id,
};

/// The struct-level relations whose required options are all given; reports the others.
pub(super) fn check_relation_options(
    relations: Vec<RelationAttr>,
    struct_ident: &Ident,
    errors: &mut Errors,
) -> Vec<RelationDef> {
    relations
        .into_iter()
        .filter_map(|rel| errors.handle(check_relation(rel, struct_ident)))
        .collect()
}

/// One struct-level relation with its required options, or the error naming the missing ones.
fn check_relation(rel: RelationAttr, struct_ident: &Ident) -> syn::Result<RelationDef> {
    let struct_name = struct_ident.unraw();
    let own_id = format!("{}_id", snake_case(&struct_name.to_string()));
    let target = path_text(&rel.target);
    let kind = match rel.kind {
        RelationAttrKind::Has { many, by: Some(by) } => {
            if many {
                RelationKind::HasMany { by }
            } else {
                RelationKind::HasOne { by }
            }
        }
        RelationAttrKind::Has { many, by: None } => {
            let kind = if many { "has_many" } else { "has_one" };
            return Err(error(
                &rel.attr,
                format!(
                    "`#[{kind}({}, {target}, ...)]` needs `by = field`: the field of `{target}` \
                     that holds an `Id<{struct_name}>`, e.g. `by = {own_id}`",
                    rel.name,
                ),
            ));
        }
        RelationAttrKind::ManyToMany {
            through: Some(through),
            from: Some(from),
            to: Some(to),
        } => RelationKind::ManyToMany { through, from, to },
        RelationAttrKind::ManyToMany { through, from, to } => {
            let target_id = target_id(&rel.target);
            let mut missing = Vec::new();
            if through.is_none() {
                missing.push(
                    "`through = JoinTable` (the table whose rows link the two sides)".to_string(),
                );
            }
            if from.is_none() {
                missing.push(format!(
                    "`from = field` (the join table's field holding an `Id<{struct_name}>`, e.g. \
                     `{own_id}`)"
                ));
            }
            if to.is_none() {
                missing.push(format!(
                    "`to = field` (the join table's field holding an `Id<{target}>`, e.g. \
                     `{target_id}`)"
                ));
            }
            let through_text = through.as_ref().map_or("JoinTable".to_string(), path_text);
            let from_text = from.map_or(own_id, |i| i.unraw().to_string());
            let to_text = to.map_or(target_id, |i| i.unraw().to_string());
            return Err(error(
                &rel.attr,
                format!(
                    "`#[many_to_many({name}, {target}, ...)]` is missing {}: write \
                     `#[many_to_many({name}, {target}, through = {through_text}, from = \
                     {from_text}, to = {to_text})]`",
                    join_and(&missing),
                    name = rel.name,
                ),
            ));
        }
    };
    Ok(RelationDef {
        ident: rel.ident,
        name: rel.name,
        target: rel.target,
        kind,
    })
}

/// A `#[belongs_to]` whose `on_delete = set_default` needs the field's `#[default(...)]`.
pub(super) fn check_belongs_to(
    rel: &BelongsToAttr,
    field: &FieldAttrs,
    errors: &mut Errors,
) -> BelongsTo {
    let on_delete = match &rel.on_delete {
        Some((OnDelete::SetDefault, token)) if field.default.is_none() => {
            let name = &field.name;
            errors.push(error(
                token,
                format!(
                    "`on_delete = set_default` sets `{name}` to its default when the row it points \
                     at is deleted, but `{name}` has no default: add `#[default(...)]` to the \
                     field, or choose `on_delete = restrict`, `cascade` or `set_null`"
                ),
            ));
            OnDelete::SetDefault
        }
        Some((action, _)) => *action,
        None => OnDelete::default(),
    };
    BelongsTo {
        ident: rel.ident.clone(),
        name: rel.name.clone(),
        target: rel.target.clone(),
        on_delete,
        on_soft_delete: rel.on_soft_delete,
    }
}

/// A `has_many` / `has_one` of the struct to itself names one of its own fields in `by`: that
/// can be checked here (for other targets the generated code checks it).
pub(super) fn check_self_relations(
    fields: &[FieldDef],
    relations: &[RelationDef],
    struct_ident: &Ident,
    errors: &mut Errors,
) {
    for rel in relations {
        let (RelationKind::HasMany { by } | RelationKind::HasOne { by }) = &rel.kind else {
            continue;
        };
        if !rel.target.is_ident(struct_ident) {
            continue;
        }
        let by_name = by.unraw().to_string();
        if fields.iter().any(|f| f.name == by_name) {
            continue;
        }
        let struct_name = struct_ident.unraw();
        errors.push(error(
            by,
            format!(
                "relation `{}` goes through `{struct_name}::{by_name}`, but `{struct_name}` has no \
                 field `{by_name}`{}",
                rel.name,
                did_you_mean(
                    &by_name,
                    fields.iter().map(|f| f.name.as_str()),
                    &format!(
                        "`by` names the field of `{struct_name}` that holds the `Id<{struct_name}>` \
                         of the row it belongs to"
                    )
                )
            ),
        ));
    }
}

/// Relation names are descriptor functions (`User::posts()`): they must not clash with each
/// other, with a column descriptor or with an index descriptor.
pub(super) fn check_relation_names(
    fields: &[FieldDef],
    relations: &[RelationDef],
    indexes: &[IndexDef],
    struct_name: &str,
    errors: &mut Errors,
) {
    let belongs_to = fields.iter().filter_map(|f| {
        let rel = f.belongs_to.as_ref()?;
        Some((
            &rel.ident,
            rel.name.as_str(),
            format!("`#[belongs_to({}, ...)]` on field `{}`", rel.name, f.name),
        ))
    });
    let declared = relations.iter().map(|rel| {
        (
            &rel.ident,
            rel.name.as_str(),
            format!("`#[{}({}, ...)]`", rel.kind.attr(), rel.name),
        )
    });
    let mut seen: Vec<(&str, String)> = Vec::new();
    for (ident, name, origin) in belongs_to.chain(declared) {
        if let Some(field) = fields.iter().find(|f| f.name == name) {
            let hint = match field.belongs_to.as_ref() {
                Some(rel) if rel.name == name => match name.strip_suffix("_id") {
                    Some(stem) if !stem.is_empty() => {
                        format!(", e.g. `#[belongs_to({stem}, {})]`", path_text(&rel.target))
                    }
                    _ => String::new(),
                },
                _ => String::new(),
            };
            errors.push(error(
                ident,
                format!(
                    "relation `{name}` has the same name as the field `{name}`, and both would \
                     generate `{struct_name}::{name}()`; rename the relation{hint}"
                ),
            ));
        } else if indexes.iter().any(|i| i.name == name) {
            errors.push(error(
                ident,
                format!(
                    "relation `{name}` has the same name as the index `{name}`, and both would \
                     generate `{struct_name}::{name}()`; rename the relation or the index"
                ),
            ));
        } else if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            errors.push(error(
                ident,
                format!(
                    "two relations are named `{name}` (the first is declared by {first}); each \
                     relation needs its own name because the name is also its descriptor \
                     function `{struct_name}::{name}()`; rename this one"
                ),
            ));
        } else {
            seen.push((name, origin));
        }
    }
}
