//! Indexes: the one a foreign key needs, name clashes (an index name is also a descriptor
//! function), and the columns of table-level indexes resolved to fields.

use proc_macro2::Ident;
use syn::ext::IdentExt;

use super::{FieldDef, IndexDef};
use crate::diagnostics::{Errors, backtick_list, did_you_mean, error};
use crate::table::attr::{ColumnRef, FieldAttrs, IndexOrigin, IndexSpec};

/// All the indexes, in order: each field's own indexes, then the one its `#[belongs_to]`
/// needs, then the table-level ones.
///
/// A `#[belongs_to]` field needs an index starting with it, for loading the relation from the
/// parent's side and for `on_delete`: a declared index whose first column is the field serves,
/// otherwise one is created for it (`by_<field>`).
pub(super) fn reuse_foreign_key_indexes(
    fields: Vec<FieldAttrs>,
    table_indexes: Vec<IndexSpec>,
    field_defs: &[FieldDef],
) -> Vec<IndexSpec> {
    let mut field_indexes = Vec::new();
    for (position, field) in fields.into_iter().enumerate() {
        field_indexes.extend(field.indexes);
        if let Some(span) = field.belongs_to_span {
            let name = &field.name;
            let index_name = format!("by_{name}");
            field_indexes.push(IndexSpec {
                ident: Ident::new(&index_name, span),
                origin: format!("created for the foreign key `{name}` by `#[belongs_to(...)]`"),
                name: index_name,
                unique: false,
                nulls_not_distinct: false,
                columns: vec![ColumnRef::Field(position)],
                kind: IndexOrigin::ForeignKey,
            });
        }
    }

    let first_column = |spec: &IndexSpec| -> Option<String> {
        match spec.columns.first()? {
            ColumnRef::Field(position) => field_defs.get(*position).map(|f| f.name.clone()),
            ColumnRef::Named(ident) => Some(ident.unraw().to_string()),
        }
    };
    let declared: Vec<String> = field_indexes
        .iter()
        .chain(&table_indexes)
        .filter(|spec| spec.kind != IndexOrigin::ForeignKey)
        .filter_map(first_column)
        .collect();
    field_indexes
        .into_iter()
        .filter(|spec| {
            spec.kind != IndexOrigin::ForeignKey
                || first_column(spec).is_none_or(|column| !declared.contains(&column))
        })
        .chain(table_indexes)
        .collect()
}

/// Checks the names of the indexes (descriptor functions are named after fields and indexes,
/// so they must not clash) and resolves their columns.
pub(super) fn check_indexes(
    specs: impl IntoIterator<Item = IndexSpec>,
    fields: &[FieldDef],
    struct_name: &str,
    errors: &mut Errors,
) -> Vec<IndexDef> {
    let mut indexes: Vec<IndexDef> = Vec::new();
    // Names seen so far, with where they were declared.
    let mut seen: Vec<(String, String)> = Vec::new();
    for spec in specs {
        let how_to_rename = match spec.kind {
            IndexOrigin::Field => "with `name = \"...\"`".to_string(),
            IndexOrigin::Table => "by changing the name before `= [...]`".to_string(),
            IndexOrigin::ForeignKey => format!(
                "by giving field `{}` an index of its own, e.g. `#[index(name = \"...\")]`, which \
                 the foreign key then uses",
                spec.name.strip_prefix("by_").unwrap_or(&spec.name)
            ),
        };
        if fields.iter().any(|f| f.name == spec.name) {
            errors.push(error(
                &spec.ident,
                format!(
                    "index `{0}` has the same name as the field `{0}`, and both would generate \
                     `{struct_name}::{0}()`; rename the index {how_to_rename}, e.g. `by_{0}`",
                    spec.name
                ),
            ));
            continue;
        }
        if let Some((_, first)) = seen.iter().find(|(name, _)| *name == spec.name) {
            errors.push(error(
                &spec.ident,
                format!(
                    "two indexes are named `{}` (the first is {}); each index needs its own name \
                     because the name is also its descriptor function `{struct_name}::{}()`; \
                     rename this one {how_to_rename}",
                    spec.name, first, spec.name,
                ),
            ));
            continue;
        }
        seen.push((spec.name.clone(), spec.origin.clone()));
        if let Some(columns) = resolve_columns(&spec, fields, struct_name, errors) {
            indexes.push(IndexDef {
                ident: spec.ident,
                name: spec.name,
                columns,
                unique: spec.unique,
                nulls_not_distinct: spec.nulls_not_distinct,
            });
        }
    }
    indexes
}

/// Positions of an index's columns; reports missing and repeated fields.
fn resolve_columns(
    spec: &IndexSpec,
    fields: &[FieldDef],
    struct_name: &str,
    errors: &mut Errors,
) -> Option<Vec<usize>> {
    let mut columns = Vec::with_capacity(spec.columns.len());
    let mut ok = true;
    for column in &spec.columns {
        let (position, ident) = match column {
            ColumnRef::Field(position) => (*position, &spec.ident),
            ColumnRef::Named(ident) => {
                let name = ident.unraw().to_string();
                let Some(position) = fields.iter().position(|f| f.name == name) else {
                    let existing = if fields.is_empty() {
                        "it has no fields".to_string()
                    } else {
                        format!(
                            "its fields are {}",
                            backtick_list(fields.iter().map(|f| f.name.as_str()))
                        )
                    };
                    errors.push(error(
                        ident,
                        format!(
                            "index `{}` names `{name}`, but `{struct_name}` has no field \
                             `{name}`{}",
                            spec.name,
                            did_you_mean(&name, fields.iter().map(|f| f.name.as_str()), &existing),
                        ),
                    ));
                    ok = false;
                    continue;
                };
                (position, ident)
            }
        };
        if columns.contains(&position) {
            let name = fields.get(position).map_or("?", |f| f.name.as_str());
            errors.push(error(
                ident,
                format!(
                    "column `{name}` appears twice in index `{}`; list each column once",
                    spec.name
                ),
            ));
            ok = false;
            continue;
        }
        columns.push(position);
    }
    ok.then_some(columns)
}
