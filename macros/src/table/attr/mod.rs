//! Stage (a) of `#[derive(Table)]`: the input's syntax, read into plain data ([`Input`]).
//!
//! Each attribute is read on its own, with every mistake in it reported at its span: unknown
//! or repeated options, wrong value forms, misplaced attributes, a struct without named
//! fields. What needs several attributes or fields together (index columns, name clashes,
//! required relation options, the delay's text) is left to [`super::check`].
//!
//! Adding an option: `#[table(...)]` options go in [`table`], field attributes in [`field`],
//! relation attributes in [`relation`]; a new attribute must also be registered as a helper
//! attribute on the derive in `lib.rs`.

mod field;
mod relation;
mod table;

pub(crate) use relation::target_id;
pub(crate) use table::DELAY_FORM;

use proc_macro2::{Ident, Span};
use syn::ext::IdentExt;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, LitStr, Path, Type, Visibility};

use crate::diagnostics::{Errors, error};
use crate::meta::path_text;

/// A `#[derive(Table)]` input as written. Parts with a mistake are left out (the mistake is
/// reported), so that the later checks still run on the rest.
pub(crate) struct Input {
    /// The struct's name.
    pub ident: Ident,
    /// The struct's visibility.
    pub vis: Visibility,
    /// `#[table(...)]`.
    pub table: TableAttrs,
    /// `#[has_many]`, `#[has_one]` and `#[many_to_many]` on the struct, in attribute order.
    pub relations: Vec<RelationAttr>,
    /// The fields, or `None` when the input is not a struct with named fields.
    pub fields: Option<Vec<FieldAttrs>>,
}

/// Options read from `#[table(...)]`.
#[derive(Default)]
pub(crate) struct TableAttrs {
    /// `name = "..."`.
    pub name: Option<LitStr>,
    /// `crate = path`.
    pub krate: Option<Path>,
    /// `index(...)` and `unique(...)`, in attribute order.
    pub indexes: Vec<IndexSpec>,
    /// `delete = ...`.
    pub delete: Option<DeleteAttr>,
}

/// `#[table(delete = ...)]` as written.
pub(crate) enum DeleteAttr {
    /// `delete = hard`.
    Hard,
    /// `delete = soft`.
    Soft,
    /// `delete = scheduled(delay = "...")`; `delay` is `None` when it was not a string (already
    /// reported).
    Scheduled { delay: Option<LitStr> },
}

/// `on_delete = ...` of a `#[belongs_to]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OnDelete {
    /// `restrict`, the default.
    #[default]
    Restrict,
    /// `cascade`.
    Cascade,
    /// `set_null`.
    SetNull,
    /// `set_default`.
    SetDefault,
}

/// `on_soft_delete = ...` of a `#[belongs_to]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OnSoftDelete {
    /// `ignore`, the default.
    #[default]
    Ignore,
    /// `cascade`.
    Cascade,
}

/// One field and its attributes.
pub(crate) struct FieldAttrs {
    /// The field's identifier (maybe raw, e.g. `r#type`).
    pub ident: Ident,
    /// The column name (the identifier without `r#`).
    pub name: String,
    /// The field's visibility.
    pub vis: Visibility,
    /// The field's type, with `Self` replaced by the struct's name.
    pub ty: Type,
    /// `#[default(expr)]`.
    pub default: Option<Expr>,
    /// `#[belongs_to(...)]`, when it was read without mistakes.
    pub belongs_to: Option<BelongsToAttr>,
    /// Where `#[belongs_to]` is written, even with mistakes: the foreign key's index is named
    /// there.
    pub belongs_to_span: Option<Span>,
    /// `#[unique]` and `#[index]` on the field.
    pub indexes: Vec<IndexSpec>,
}

/// `#[belongs_to(name, Target, ...)]` on a field.
pub(crate) struct BelongsToAttr {
    /// Name of the relation's descriptor function, spanned where it is written.
    pub ident: Ident,
    /// The relation's name.
    pub name: String,
    /// The target table, with `Self` replaced by the struct's name.
    pub target: Path,
    /// `on_delete = ...`, with the value's token for messages.
    pub on_delete: Option<(OnDelete, Ident)>,
    /// `on_soft_delete = ...`.
    pub on_soft_delete: OnSoftDelete,
}

/// A relation attribute on the struct.
pub(crate) struct RelationAttr {
    /// The whole attribute, for messages about missing options.
    pub attr: Attribute,
    /// Name of the descriptor function, spanned where it is written.
    pub ident: Ident,
    /// The relation's name.
    pub name: String,
    /// The target table, with `Self` replaced by the struct's name.
    pub target: Path,
    /// The kind and its options; required ones may be missing.
    pub kind: RelationAttrKind,
}

/// The options of a struct-level relation as written.
pub(crate) enum RelationAttrKind {
    /// `#[has_many(name, Target, by = field)]` (`many`) or `#[has_one(...)]`.
    Has { many: bool, by: Option<Ident> },
    /// `#[many_to_many(name, Target, through = Join, from = a, to = b)]`.
    ManyToMany {
        through: Option<Path>,
        from: Option<Ident>,
        to: Option<Ident>,
    },
}

/// An index as written, before its columns are resolved.
pub(crate) struct IndexSpec {
    /// Name of the descriptor function, spanned where the index is declared.
    pub ident: Ident,
    /// The index name.
    pub name: String,
    /// `unique` rather than `index`.
    pub unique: bool,
    /// `nulls_not_distinct`.
    pub nulls_not_distinct: bool,
    /// The columns, as written.
    pub columns: Vec<ColumnRef>,
    /// Where the index is declared, for messages about a clash.
    pub origin: String,
    /// How it was declared, which says how to rename it.
    pub kind: IndexOrigin,
}

/// How an index was declared.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndexOrigin {
    /// `#[unique]` / `#[index]` on a field: renamed with `name = "..."`.
    Field,
    /// `#[table(index(name = [...]))]`: renamed before `= [...]`.
    Table,
    /// Created for a `#[belongs_to]` field that no declared index starts with.
    ForeignKey,
}

/// A column of an index as written.
pub(crate) enum ColumnRef {
    /// A field-level index: the field's position is known.
    Field(usize),
    /// A table-level index: a name to look up.
    Named(Ident),
}

/// Reads the input of `#[derive(Table)]`, reporting syntax mistakes to `errors`.
pub(crate) fn parse(input: &DeriveInput, errors: &mut Errors) -> Input {
    let table = table::parse_table_attrs(&input.attrs, errors);
    report_misplaced_struct_attrs(&input.attrs, errors);
    let relations = relation::parse_relation_attrs(&input.attrs, &input.ident, errors);
    let fields = named_fields(input, errors).map(|fields| {
        fields
            .iter()
            .enumerate()
            .filter_map(|(position, f)| field::parse_field(f, position, &input.ident, errors))
            .collect()
    });
    Input {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        table,
        relations,
        fields,
    }
}

/// Field attributes written on the struct.
fn report_misplaced_struct_attrs(attrs: &[Attribute], errors: &mut Errors) {
    for attr in attrs {
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
}

/// The struct's named fields; reports any other kind of input, and generics.
fn named_fields<'a>(
    input: &'a DeriveInput,
    errors: &mut Errors,
) -> Option<&'a syn::punctuated::Punctuated<syn::Field, syn::Token![,]>> {
    let struct_name = input.ident.unraw().to_string();
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
    fields
}
