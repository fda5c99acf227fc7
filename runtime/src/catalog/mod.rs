//! The catalog: the registered tables, what the file stores about them, and how the two are
//! reconciled when a database opens (schema evolution, index builds, relation checks).

mod registry;
mod rows;
mod stored;
mod validate;

pub use registry::IndexBuildProgress;
pub(crate) use registry::{Catalog, ProgressFn, Registration, TableInfo, child_index};
pub(crate) use rows::{
    IndexKey, RowFacts, build_index, decode_doc, decode_parts, decode_value, encode_row, fk_values,
    full_key, index_keys, key_debug, read_header, row_facts, unique_conflict,
};
pub(crate) use stored::{CATALOG_FORMAT, StoredTable, load_secret, reconcile, stored_keyspaces};
pub(crate) use validate::{link_tables, validate_relations};
