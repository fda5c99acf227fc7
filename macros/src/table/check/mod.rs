//! Stage (b) of `#[derive(Table)]`: checks that need several attributes or fields together,
//! turning the [`Input`] as written into the [`TableDef`] the code generator uses.
//!
//! Here: the delay of scheduled deletion ([`delay`]), the indexes' columns and names
//! ([`indexes`]), the relations' required options and names ([`relations`]), and the table
//! name.
//!
//! What lies in another struct (does `Post` have an `author_id: Id<User>`?) cannot be seen
//! here; the generated code's type errors say it, at the attribute.

mod delay;
mod indexes;
mod relations;

use proc_macro2::Ident;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Expr, Path, Type, Visibility};

#[cfg(test)]
pub(crate) use self::delay::parse_delay;
use super::attr::{DeleteAttr, Input, OnDelete, OnSoftDelete};
use crate::diagnostics::{Errors, error};
use crate::meta::default_crate;
use crate::names::snake_case;

/// Table names starting with this are reserved for redorm's own tables.
const RESERVED_TABLE_PREFIX: &str = "__redorm";

/// Everything the code generator needs, checked.
pub(crate) struct TableDef {
    /// The struct's name.
    pub ident: Ident,
    /// The struct's visibility, given to index descriptors and struct-level relations.
    pub vis: Visibility,
    /// Path of the runtime crate (`::redorm` unless `#[table(crate = ...)]`).
    pub krate: Path,
    /// Table name in the database.
    pub name: String,
    /// Columns, in declaration order.
    pub fields: Vec<FieldDef>,
    /// Indexes: field-level ones (with those created for foreign keys) in field order, then
    /// table-level ones in attribute order.
    pub indexes: Vec<IndexDef>,
    /// Relations declared on the struct (`has_many`, `has_one`, `many_to_many`), in attribute
    /// order. `belongs_to` relations are on their fields.
    pub relations: Vec<RelationDef>,
    /// `#[table(delete = ...)]`.
    pub delete: DeleteMode,
}

/// How rows are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum DeleteMode {
    /// Removed at once (the default).
    #[default]
    Hard,
    /// Stamped `deleted_at` and hidden.
    Soft,
    /// Soft-deleted, then removed after the delay.
    Scheduled {
        /// The delay, in milliseconds.
        delay_ms: u64,
    },
}

/// One column.
pub(crate) struct FieldDef {
    /// The field's identifier (maybe raw, e.g. `r#type`).
    pub ident: Ident,
    /// The column name (the identifier without `r#`).
    pub name: String,
    /// The field's visibility, given to its column descriptor and its `belongs_to` relation.
    pub vis: Visibility,
    /// The field's type, with `Self` replaced by the struct's name.
    pub ty: Type,
    /// `#[default(expr)]`.
    pub default: Option<Expr>,
    /// `#[belongs_to(...)]`.
    pub belongs_to: Option<BelongsTo>,
}

/// A checked `#[belongs_to(name, Target, ...)]`.
pub(crate) struct BelongsTo {
    /// Name of the relation's descriptor function, spanned where it is written.
    pub ident: Ident,
    /// The relation's name.
    pub name: String,
    /// The target table, with `Self` replaced by the struct's name.
    pub target: Path,
    /// What deleting the target row does to this one.
    pub on_delete: OnDelete,
    /// What soft-deleting the target row does to this one.
    pub on_soft_delete: OnSoftDelete,
}

/// A checked relation declared on the struct.
pub(crate) struct RelationDef {
    /// Name of the descriptor function, spanned where it is written.
    pub ident: Ident,
    /// The relation's name.
    pub name: String,
    /// The target table, with `Self` replaced by the struct's name.
    pub target: Path,
    /// How it reaches its rows.
    pub kind: RelationKind,
}

/// How a struct-level relation reaches its rows.
pub(crate) enum RelationKind {
    /// `#[has_many(name, Target, by = field)]`: `field` of `Target` holds this row's id.
    HasMany { by: Ident },
    /// `#[has_one(name, Target, by = field)]`.
    HasOne { by: Ident },
    /// `#[many_to_many(name, Target, through = Join, from = a, to = b)]`.
    ManyToMany {
        through: Path,
        from: Ident,
        to: Ident,
    },
}

impl RelationKind {
    /// The attribute's name.
    pub(crate) fn attr(&self) -> &'static str {
        match self {
            RelationKind::HasMany { .. } => "has_many",
            RelationKind::HasOne { .. } => "has_one",
            RelationKind::ManyToMany { .. } => "many_to_many",
        }
    }
}

/// One checked index.
pub(crate) struct IndexDef {
    /// Name of the descriptor function, spanned where the index is declared.
    pub ident: Ident,
    /// Index name in the database.
    pub name: String,
    /// Positions of the indexed columns in [`TableDef::fields`].
    pub columns: Vec<usize>,
    /// Whether two rows may not share a key.
    pub unique: bool,
    /// Whether `None` counts as a value for uniqueness.
    pub nulls_not_distinct: bool,
}

/// Checks `input`, reporting to `errors`. `None` when the input has no fields to check (the
/// reason is already reported).
pub(crate) fn check(input: Input, errors: &mut Errors) -> Option<TableDef> {
    let Input {
        ident,
        vis,
        table,
        relations,
        fields,
    } = input;
    let struct_name = ident.unraw().to_string();

    let delete = match table.delete {
        None | Some(DeleteAttr::Hard) => DeleteMode::Hard,
        Some(DeleteAttr::Soft) => DeleteMode::Soft,
        Some(DeleteAttr::Scheduled { delay }) => {
            let delay_ms = delay.and_then(|lit| errors.handle(delay::check_delay(&lit)));
            DeleteMode::Scheduled {
                delay_ms: delay_ms.unwrap_or(0),
            }
        }
    };
    let relations = relations::check_relation_options(relations, &ident, errors);
    let fields = fields?;

    let field_defs: Vec<FieldDef> = fields
        .iter()
        .map(|f| FieldDef {
            ident: f.ident.clone(),
            name: f.name.clone(),
            vis: f.vis.clone(),
            ty: f.ty.clone(),
            default: f.default.clone(),
            belongs_to: f
                .belongs_to
                .as_ref()
                .map(|rel| relations::check_belongs_to(rel, f, errors)),
        })
        .collect();

    let name = match &table.name {
        Some(lit) => {
            let name = lit.value();
            check_table_name(&name, lit, true, errors);
            name
        }
        None => {
            let name = snake_case(&struct_name);
            check_table_name(&name, &ident, false, errors);
            name
        }
    };

    let specs = indexes::reuse_foreign_key_indexes(fields, table.indexes, &field_defs);
    let indexes = indexes::check_indexes(specs, &field_defs, &struct_name, errors);
    relations::check_relation_names(&field_defs, &relations, &indexes, &struct_name, errors);
    relations::check_self_relations(&field_defs, &relations, &ident, errors);

    Some(TableDef {
        ident,
        vis,
        krate: table.krate.unwrap_or_else(default_crate),
        name,
        fields: field_defs,
        indexes,
        relations,
        delete,
    })
}

/// The table name must not be empty nor reserved.
fn check_table_name(name: &str, span: impl ToTokens, explicit: bool, errors: &mut Errors) {
    if name.is_empty() {
        errors.push(error(
            span,
            "the table name is empty; give a name, e.g. `#[table(name = \"users\")]`",
        ));
    } else if name.starts_with(RESERVED_TABLE_PREFIX) {
        let how = if explicit {
            "choose another name"
        } else {
            "rename the struct or choose a name with `#[table(name = \"...\")]`"
        };
        errors.push(error(
            span,
            format!(
                "table name `{name}` starts with `{RESERVED_TABLE_PREFIX}`, which is reserved for \
                 redorm's internal tables; {how}"
            ),
        ));
    }
}
