//! Reading a `#[derive(Table)]` input into a [`TableDef`], with every mistake reported at its
//! span. Errors are accumulated so that one compilation shows all of them.
//!
//! Adding an option: struct-level ones go in [`parse_table_attrs`] (and [`TABLE_OPTIONS`]);
//! field-level attributes go in [`parse_field`] (and must be registered as helper attributes
//! on the derive in `lib.rs`).

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
const TABLE_OPTIONS: &[&str] = &["name", "crate", "index", "unique"];

/// Everything the code generator needs, validated.
pub(crate) struct TableDef {
    /// The struct's name.
    pub ident: Ident,
    /// The struct's visibility, given to index descriptors.
    pub vis: Visibility,
    /// Path of the runtime crate (`::redorm` unless `#[table(crate = ...)]`).
    pub krate: Path,
    /// Table name in the database.
    pub name: String,
    /// Columns, in declaration order.
    pub fields: Vec<FieldDef>,
    /// Indexes: field-level ones in field order, then table-level ones in attribute order.
    pub indexes: Vec<IndexDef>,
}

/// One column.
pub(crate) struct FieldDef {
    /// The field's identifier (maybe raw, e.g. `r#type`).
    pub ident: Ident,
    /// The column name (the identifier without `r#`).
    pub name: String,
    /// The field's visibility, given to its column descriptor.
    pub vis: Visibility,
    /// The field's type, with `Self` replaced by the struct's name.
    pub ty: Type,
    /// `#[default(expr)]`.
    pub default: Option<Expr>,
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
    /// Whether it was declared on a field (its name then comes from `name = "..."`).
    on_field: bool,
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
        } else {
            continue;
        };
        errors.push(error(attr, message));
    }

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

    let specs = field_indexes.into_iter().chain(attrs.indexes);
    let indexes = check_indexes(specs, &field_defs, &struct_name, &mut errors);

    errors.finish_with(TableDef {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        krate: attrs.krate.unwrap_or_else(default_crate),
        name,
        fields: field_defs,
        indexes,
    })
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
        let how_to_rename = if spec.on_field {
            "with `name = \"...\"`"
        } else {
            "by changing the name before `= [...]`"
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
                _ => errors.push(error(
                    meta.path(),
                    format!(
                        "unknown option `{key}` in `#[table(...)]`{}",
                        did_you_mean(
                            &key,
                            TABLE_OPTIONS.iter().copied(),
                            "the options are `name = \"...\"`, `crate = path`, \
                             `index(index_name = [fields...])` and \
                             `unique(index_name = [fields...])`"
                        )
                    ),
                )),
            }
        }
    }
    out
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
        on_field: false,
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
    for attr in &field.attrs {
        let path = attr.path();
        if path.is_ident("table") {
            errors.push(error(
                attr,
                "`#[table(...)]` goes on the struct, not on a field; the field options are \
                 `#[unique]`, `#[index]` and `#[default(...)]`",
            ));
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

    Some(FieldDef {
        ident,
        name,
        vis: field.vis.clone(),
        ty,
        default,
    })
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
        on_field: true,
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
