//! Reading a `#[derive(Table)]` input into a [`TableDef`], with every mistake reported at its
//! span. Errors are accumulated so that one compilation shows all of them.
//!
//! Adding an option: `#[table(...)]` options go in [`parse_table_attrs`] (and
//! [`TABLE_OPTIONS`]); field-level attributes go in [`parse_field`], struct-level relation
//! attributes in [`parse_relation_attrs`] (and both must be registered as helper attributes on
//! the derive in `lib.rs`).
//!
//! What lies in another struct (does `Post` have an `author_id: Id<User>`?) cannot be seen
//! here; `expand` generates code whose type errors say it, at the attribute.

use darling::ast::NestedMeta;
use proc_macro2::Ident;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, Lit, LitStr, Meta, Path, Type, Visibility};

use crate::util::{
    Errors, Result, backtick_list, default_crate, did_you_mean, error, nested_items,
    parse_crate_option, path_text, replace_self, snake_case,
};

/// Field names the database owns: every row has them.
const SYSTEM_FIELDS: &[&str] = &["id", "created_at", "deleted_at"];

/// Table names starting with this are reserved for redorm's own tables.
const RESERVED_TABLE_PREFIX: &str = "__redorm";

/// The options of `#[table(...)]`.
const TABLE_OPTIONS: &[&str] = &["name", "crate", "index", "unique", "delete"];

/// The values of `#[table(delete = ...)]`.
const DELETE_MODES: &[&str] = &["hard", "soft", "scheduled"];

/// The units of a scheduled deletion's delay, with their length in milliseconds.
const DELAY_UNITS: &[(&str, u64)] = &[
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
];

/// The accepted form of a delay, for messages.
const DELAY_FORM: &str = "a positive whole number followed by a unit, `ms`, `s`, `m`, `h`, `d` \
                          or `w`, e.g. `\"500ms\"`, `\"90s\"`, `\"15m\"`, `\"12h\"`, \
                          `\"30d\"` or `\"2w\"`";

/// The options of `#[belongs_to(name, Target, ...)]`.
const BELONGS_TO_OPTIONS: &[&str] = &["on_delete", "on_soft_delete"];

/// The values of `on_delete = ...`.
const ON_DELETE_ACTIONS: &[&str] = &["restrict", "cascade", "set_null", "set_default"];

/// The values of `on_soft_delete = ...`.
const ON_SOFT_DELETE_ACTIONS: &[&str] = &["ignore", "cascade"];

/// The options of `#[many_to_many(name, Target, ...)]`.
const MANY_TO_MANY_OPTIONS: &[&str] = &["through", "from", "to"];

/// Everything the code generator needs, validated.
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

/// `#[table(delete = ...)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum DeleteMode {
    #[default]
    Hard,
    Soft,
    Scheduled {
        delay_ms: u64,
    },
}

/// `on_delete = ...` of a `#[belongs_to]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OnDelete {
    #[default]
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

/// `on_soft_delete = ...` of a `#[belongs_to]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OnSoftDelete {
    #[default]
    Ignore,
    Cascade,
}

/// `#[belongs_to(name, Target, ...)]` on a field.
pub(crate) struct BelongsTo {
    /// Name of the relation's descriptor function, spanned where it is written.
    pub ident: Ident,
    /// The relation's name.
    pub name: String,
    /// The target table, with `Self` replaced by the struct's name.
    pub target: Path,
    pub on_delete: OnDelete,
    pub on_soft_delete: OnSoftDelete,
}

/// A relation declared on the struct.
pub(crate) struct RelationDef {
    /// Name of the descriptor function, spanned where it is written.
    pub ident: Ident,
    /// The relation's name.
    pub name: String,
    /// The target table, with `Self` replaced by the struct's name.
    pub target: Path,
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
    fn attr(&self) -> &'static str {
        match self {
            RelationKind::HasMany { .. } => "has_many",
            RelationKind::HasOne { .. } => "has_one",
            RelationKind::ManyToMany { .. } => "many_to_many",
        }
    }
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

/// One index.
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

/// An index as written, before its columns are resolved.
struct IndexSpec {
    ident: Ident,
    name: String,
    unique: bool,
    nulls_not_distinct: bool,
    columns: Vec<ColumnRef>,
    /// Where the index is declared, for messages about a clash.
    origin: String,
    /// How it was declared, which says how to rename it.
    kind: IndexOrigin,
}

/// How an index was declared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IndexOrigin {
    /// `#[unique]` / `#[index]` on a field: renamed with `name = "..."`.
    Field,
    /// `#[table(index(name = [...]))]`: renamed before `= [...]`.
    Table,
    /// Created for a `#[belongs_to]` field that no declared index starts with.
    ForeignKey,
}

/// A column of an index as written.
enum ColumnRef {
    /// A field-level index: the field's position is known.
    Field(usize),
    /// A table-level index: a name to look up.
    Named(Ident),
}

/// Options read from `#[table(...)]`.
#[derive(Default)]
struct TableAttrs {
    name: Option<LitStr>,
    krate: Option<Path>,
    indexes: Vec<IndexSpec>,
    delete: Option<DeleteMode>,
}

/// Reads and checks the input of `#[derive(Table)]`.
pub(crate) fn parse(input: &DeriveInput) -> Result<TableDef> {
    let mut errors = Errors::default();
    let struct_name = input.ident.unraw().to_string();

    let attrs = parse_table_attrs(&input.attrs, &mut errors);
    for attr in &input.attrs {
        let path = attr.path();
        let message = if path.is_ident("unique") || path.is_ident("index") {
            let kind = path_text(path);
            format!(
                "`#[{kind}]` goes on a field; for an index over several fields, write \
                 `#[table({kind}(index_name = [field, ...]))]` on the struct"
            )
        } else if path.is_ident("default") {
            "`#[default(...)]` goes on a field: it gives the value that rows stored before that \
             field existed read as"
                .to_string()
        } else if path.is_ident("belongs_to") {
            "`#[belongs_to(...)]` goes on the field that holds the foreign key, e.g. \
             `#[belongs_to(author, User)] author_id: Id<User>`; on the struct, declare the other \
             side with `#[has_many(...)]`, `#[has_one(...)]` or `#[many_to_many(...)]`"
                .to_string()
        } else {
            continue;
        };
        errors.push(error(attr, message));
    }
    let relations = parse_relation_attrs(&input.attrs, &input.ident, &mut errors);

    let write_instead = format!("write `struct {struct_name} {{ name: Type, ... }}`");
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Some(&named.named),
            Fields::Unnamed(unnamed) => {
                errors.push(error(
                    unnamed,
                    format!(
                        "`#[derive(Table)]` needs a struct with named fields, but `{struct_name}` \
                         is a tuple struct: its fields have no names to serve as column names; \
                         {write_instead}"
                    ),
                ));
                None
            }
            Fields::Unit => {
                errors.push(error(
                    &input.ident,
                    format!(
                        "`#[derive(Table)]` needs a struct with named fields, but `{struct_name}` \
                         is a unit struct, with no columns; {write_instead}"
                    ),
                ));
                None
            }
        },
        Data::Enum(data) => {
            errors.push(error(
                data.enum_token,
                format!(
                    "`#[derive(Table)]` needs a struct with named fields, but `{struct_name}` is \
                     an enum; to store an enum in a column, put `#[derive(Column)]` on it (unit \
                     variants only) or wrap it in `Json<{struct_name}>`"
                ),
            ));
            None
        }
        Data::Union(data) => {
            errors.push(error(
                data.union_token,
                format!(
                    "`#[derive(Table)]` needs a struct with named fields, but `{struct_name}` is \
                     a union; {write_instead}"
                ),
            ));
            None
        }
    };

    if !input.generics.params.is_empty() {
        errors.push(error(
            &input.generics,
            format!(
                "`#[derive(Table)]` does not support generic structs yet: a table's column types \
                 must be known where the table is declared; remove the generic parameters from \
                 `{struct_name}` and use concrete types"
            ),
        ));
    }

    let Some(fields) = fields else {
        errors.finish()?;
        // Unreachable: a missing body always records an error.
        return Err(error(
            &input.ident,
            "`#[derive(Table)]` needs a struct with named fields",
        ));
    };

    let mut field_defs = Vec::with_capacity(fields.len());
    let mut field_indexes = Vec::new();
    for field in fields {
        let position = field_defs.len();
        if let Some(def) = parse_field(
            field,
            position,
            &input.ident,
            &mut field_indexes,
            &mut errors,
        ) {
            field_defs.push(def);
        }
    }

    let name = match &attrs.name {
        Some(lit) => {
            let name = lit.value();
            check_table_name(&name, lit, true, &mut errors);
            name
        }
        None => {
            let name = snake_case(&struct_name);
            check_table_name(&name, &input.ident, false, &mut errors);
            name
        }
    };

    let specs = reuse_foreign_key_indexes(field_indexes, attrs.indexes, &field_defs);
    let indexes = check_indexes(specs, &field_defs, &struct_name, &mut errors);
    check_relation_names(&field_defs, &relations, &indexes, &struct_name, &mut errors);
    check_self_relations(&field_defs, &relations, &input.ident, &mut errors);

    errors.finish_with(TableDef {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        krate: attrs.krate.unwrap_or_else(default_crate),
        name,
        fields: field_defs,
        indexes,
        relations,
        delete: attrs.delete.unwrap_or_default(),
    })
}

/// A `#[belongs_to]` field needs an index starting with it, for loading the relation from the
/// parent's side and for `on_delete`: a declared index whose first column is the field serves,
/// otherwise the one created for it (`by_<field>`) is kept.
fn reuse_foreign_key_indexes(
    field_indexes: Vec<IndexSpec>,
    table_indexes: Vec<IndexSpec>,
    fields: &[FieldDef],
) -> Vec<IndexSpec> {
    let first_column = |spec: &IndexSpec| -> Option<String> {
        match spec.columns.first()? {
            ColumnRef::Field(position) => fields.get(*position).map(|f| f.name.clone()),
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

/// A `has_many` / `has_one` of the struct to itself names one of its own fields in `by`: that
/// can be checked here (for other targets the generated code checks it).
fn check_self_relations(
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
fn check_relation_names(
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

/// Checks the names of the indexes (descriptor functions are named after fields and indexes,
/// so they must not clash) and resolves their columns.
fn check_indexes(
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

/// Reads every `#[table(...)]` attribute.
fn parse_table_attrs(attrs: &[Attribute], errors: &mut Errors) -> TableAttrs {
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
        let Some(items) = errors.handle(nested_items(&list.tokens)) else {
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
                    } else if let Some(path) = errors.handle(parse_crate_option(meta, "table")) {
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
                    } else if let Some(mode) = errors.handle(parse_delete(meta)) {
                        out.delete = Some(mode);
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
fn parse_delete(meta: &Meta) -> Result<DeleteMode> {
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
                "hard" => Ok(DeleteMode::Hard),
                "soft" => Ok(DeleteMode::Soft),
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
                "scheduled" => {
                    parse_scheduled(ident, call).map(|delay_ms| DeleteMode::Scheduled { delay_ms })
                }
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

/// The arguments of `scheduled(delay = "30d")`: the delay in milliseconds.
fn parse_scheduled(ident: &Ident, call: &syn::ExprCall) -> Result<u64> {
    let mut errors = Errors::default();
    let mut delay: Option<u64> = None;
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
            }) => match parse_delay(&lit.value()) {
                Ok(ms) => delay = Some(ms),
                Err(why) => {
                    let then = if why.ends_with('?') {
                        " Write"
                    } else {
                        "; write"
                    };
                    errors.push(error(
                        lit,
                        format!(
                            "invalid delay `{:?}`: {why}{then} {DELAY_FORM}",
                            lit.value()
                        ),
                    ));
                }
            },
            other => errors.push(error(
                other,
                format!("expected a string, e.g. `delay = \"30d\"`: a delay is {DELAY_FORM}"),
            )),
        }
    }
    if !given && errors.is_empty() {
        errors.push(error(
            ident,
            "scheduled deletion needs a delay: write `scheduled(delay = \"30d\")`",
        ));
    }
    errors.finish()?;
    delay.ok_or_else(|| error(ident, "scheduled deletion needs a delay"))
}

/// Unit spellings people write, and the unit they mean.
const DELAY_UNIT_ALIASES: &[(&str, &[&str])] = &[
    (
        "ms",
        &[
            "msec",
            "msecs",
            "milli",
            "millis",
            "millisecond",
            "milliseconds",
        ],
    ),
    ("s", &["sec", "secs", "second", "seconds"]),
    ("m", &["min", "mins", "minute", "minutes"]),
    ("h", &["hr", "hrs", "hour", "hours"]),
    ("d", &["day", "days"]),
    ("w", &["wk", "wks", "week", "weeks"]),
];

/// `"30d"` -> 30 days in milliseconds. The error says what is wrong with the text, ending with
/// a full stop when it is a complete sentence (a suggestion).
pub(crate) fn parse_delay(text: &str) -> std::result::Result<u64, String> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    if text.is_empty() {
        return Err("it is empty".to_string());
    }
    if digits.is_empty() {
        return Err("it does not start with a whole number".to_string());
    }
    let Some(&(_, unit_ms)) = DELAY_UNITS.iter().find(|(name, _)| *name == unit) else {
        let written = unit.trim().to_lowercase();
        let meant = DELAY_UNITS
            .iter()
            .map(|(name, _)| *name)
            .find(|name| *name == written)
            .or_else(|| {
                DELAY_UNIT_ALIASES
                    .iter()
                    .find(|(_, aliases)| aliases.contains(&written.as_str()))
                    .map(|(name, _)| *name)
            });
        return Err(match meant {
            Some(short) => format!("did you mean `\"{digits}{short}\"`?"),
            None if unit.is_empty() => "it has no unit".to_string(),
            None => format!("`{}` is not a unit", unit.trim()),
        });
    };
    let too_long = || "it is too long (more than 2^64 - 1 milliseconds)".to_string();
    let count: u64 = digits.parse().map_err(|_| too_long())?;
    if count == 0 {
        return Err("the delay must be positive".to_string());
    }
    count.checked_mul(unit_ms).ok_or_else(too_long)
}

/// `expr` without invisible groups (from `macro_rules!` fragments).
fn strip_groups(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => strip_groups(&group.expr),
        other => other,
    }
}

fn given_twice(option: &str, attr: &str, tokens: impl ToTokens) -> syn::Error {
    error(
        tokens,
        format!("`{option}` is given twice in `{attr}`; keep one"),
    )
}

/// `key = "text"`.
fn string_option(meta: &Meta, key: &str, example: &str) -> Result<LitStr> {
    if let Meta::NameValue(nv) = meta {
        if let Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) = &nv.value
        {
            return Ok(lit.clone());
        }
        return Err(error(
            &nv.value,
            format!("expected a string literal: `{key} = \"{example}\"`"),
        ));
    }
    Err(error(meta, format!("expected `{key} = \"{example}\"`")))
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
    let items = nested_items(&list.tokens)?;
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

/// Reads one field and its attributes; pushes its field-level indexes to `indexes`.
fn parse_field(
    field: &syn::Field,
    position: usize,
    struct_ident: &Ident,
    indexes: &mut Vec<IndexSpec>,
    errors: &mut Errors,
) -> Option<FieldDef> {
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

    let mut default: Option<Expr> = None;
    let mut belongs_to: Option<(BelongsTo, Option<Ident>)> = None;
    let mut belongs_to_attr: Option<&Attribute> = None;
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
            if belongs_to_attr.is_some() {
                errors.push(error(
                    attr,
                    format!(
                        "`#[belongs_to(...)]` is given twice on field `{name}`; a field holds one \
                         foreign key: keep one"
                    ),
                ));
                continue;
            }
            belongs_to_attr = Some(attr);
            belongs_to = errors.handle(parse_belongs_to(attr, &name, struct_ident));
        } else if path.is_ident("default") {
            if default.is_some() {
                errors.push(error(
                    attr,
                    format!("`#[default(...)]` is given twice on field `{name}`; keep one"),
                ));
                continue;
            }
            if let Some(expr) = errors.handle(parse_default(attr)) {
                default = Some(expr);
            }
        } else if path.is_ident("unique") || path.is_ident("index") {
            let unique = path.is_ident("unique");
            if let Some(spec) = errors.handle(parse_field_index(attr, unique, &name, position)) {
                indexes.push(spec);
            }
        }
    }

    let ty = syn::parse2(replace_self(field.ty.to_token_stream(), struct_ident))
        .unwrap_or_else(|_| field.ty.clone());

    let belongs_to = belongs_to.map(|(rel, on_delete_token)| {
        if let (OnDelete::SetDefault, None, Some(token)) =
            (rel.on_delete, &default, on_delete_token)
        {
            errors.push(error(
                token,
                format!(
                    "`on_delete = set_default` sets `{name}` to its default when the row it points \
                     at is deleted, but `{name}` has no default: add `#[default(...)]` to the \
                     field, or choose `on_delete = restrict`, `cascade` or `set_null`"
                ),
            ));
        }
        rel
    });
    if let Some(attr) = belongs_to_attr {
        // The index created for the foreign key; dropped later if a declared index starts with
        // this field.
        let index_name = format!("by_{name}");
        indexes.push(IndexSpec {
            ident: Ident::new(&index_name, attr.path().span()),
            origin: format!("created for the foreign key `{name}` by `#[belongs_to(...)]`"),
            name: index_name,
            unique: false,
            nulls_not_distinct: false,
            columns: vec![ColumnRef::Field(position)],
            kind: IndexOrigin::ForeignKey,
        });
    }

    Some(FieldDef {
        ident,
        name,
        vis: field.vis.clone(),
        ty,
        default,
        belongs_to,
    })
}

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
    let items = nested_items(&list.tokens)?;
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

/// `path` with `Self` replaced by the struct's name (a relation's target may be `Self`).
fn replace_self_in_path(path: &Path, struct_ident: &Ident) -> Path {
    syn::parse2(replace_self(path.to_token_stream(), struct_ident)).unwrap_or_else(|_| path.clone())
}

/// `key = ident`.
fn ident_option(meta: &Meta, key: &str, example: &str) -> Result<Ident> {
    let path = path_option(meta, key, example)?;
    match path.get_ident() {
        Some(ident) => Ok(ident.clone()),
        None => Err(error(
            &path,
            format!("expected a plain name: `{key} = {example}`"),
        )),
    }
}

/// `key = some::path`.
fn path_option(meta: &Meta, key: &str, example: &str) -> Result<Path> {
    let Meta::NameValue(nv) = meta else {
        return Err(error(meta, format!("expected `{key} = {example}`")));
    };
    match strip_groups(&nv.value) {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => Ok(path.path.clone()),
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Err(error(
            lit,
            format!("write it without quotes: `{key} = {}`", lit.value()),
        )),
        other => Err(error(other, format!("expected `{key} = {example}`"))),
    }
}

/// `#[belongs_to(name, Target, on_delete = ..., on_soft_delete = ...)]` on field `field`.
/// Also returns the `on_delete` value's token, for a message about `set_default`.
fn parse_belongs_to(
    attr: &Attribute,
    field: &str,
    struct_ident: &Ident,
) -> Result<(BelongsTo, Option<Ident>)> {
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
    errors.finish()?;
    let (on_delete, token) = match on_delete {
        Some((action, token)) => (action, Some(token)),
        None => (OnDelete::default(), None),
    };
    Ok((
        BelongsTo {
            ident: head.ident,
            name: head.name,
            target: head.target,
            on_delete,
            on_soft_delete: on_soft_delete.unwrap_or_default(),
        },
        token,
    ))
}

/// Reads the struct-level `#[has_many]`, `#[has_one]` and `#[many_to_many]` attributes.
fn parse_relation_attrs(
    attrs: &[Attribute],
    struct_ident: &Ident,
    errors: &mut Errors,
) -> Vec<RelationDef> {
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

/// `#[has_many(name, Target, by = field)]` / `#[has_one(...)]`.
fn parse_has(attr: &Attribute, many: bool, struct_ident: &Ident) -> Result<RelationDef> {
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
    errors.finish()?;
    let Some(by) = by else {
        return Err(error(
            attr,
            format!(
                "`#[{kind}({}, {target}, ...)]` needs `by = field`: the field of `{target}` that \
                 holds an `Id<{}>`, e.g. `by = {own_id}`",
                head.name,
                struct_ident.unraw(),
                target = path_text(&head.target),
            ),
        ));
    };
    let kind = if many {
        RelationKind::HasMany { by }
    } else {
        RelationKind::HasOne { by }
    };
    Ok(RelationDef {
        ident: head.ident,
        name: head.name,
        target: head.target,
        kind,
    })
}

/// `#[many_to_many(name, Target, through = Join, from = a, to = b)]`.
fn parse_many_to_many(attr: &Attribute, struct_ident: &Ident) -> Result<RelationDef> {
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
    let target_id = format!(
        "{}_id",
        head.target
            .segments
            .last()
            .map(|s| snake_case(&s.ident.unraw().to_string()))
            .unwrap_or_default()
    );
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
    errors.finish()?;
    let (Some(through), Some(from), Some(to)) = (&through, &from, &to) else {
        let mut missing = Vec::new();
        if through.is_none() {
            missing.push(
                "`through = JoinTable` (the table whose rows link the two sides)".to_string(),
            );
        }
        if from.is_none() {
            missing.push(format!(
                "`from = field` (the join table's field holding an `Id<{}>`, e.g. `{own_id}`)",
                struct_ident.unraw()
            ));
        }
        if to.is_none() {
            missing.push(format!(
                "`to = field` (the join table's field holding an `Id<{}>`, e.g. `{target_id}`)",
                path_text(&head.target)
            ));
        }
        let through_text = through.as_ref().map_or("JoinTable".to_string(), path_text);
        let from_text = from
            .as_ref()
            .map_or(own_id.clone(), |i| i.unraw().to_string());
        let to_text = to
            .as_ref()
            .map_or(target_id.clone(), |i| i.unraw().to_string());
        return Err(error(
            attr,
            format!(
                "`#[many_to_many({name}, {target}, ...)]` is missing {}: write \
                 `#[many_to_many({name}, {target}, through = {through_text}, from = {from_text}, \
                 to = {to_text})]`",
                join_and(&missing),
                name = head.name,
                target = path_text(&head.target),
            ),
        ));
    };
    Ok(RelationDef {
        ident: head.ident,
        name: head.name,
        target: head.target,
        kind: RelationKind::ManyToMany {
            through: through.clone(),
            from: from.clone(),
            to: to.clone(),
        },
    })
}

/// "a", "a and b", "a, b and c".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
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
            let items = nested_items(&list.tokens)?;
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
