//! The `pg_catalog` tables this module computes from the DataFusion catalog at every scan:
//! the Postgres-flavoured `information_schema` tables (hidden as `pg_catalog._is_<table>`,
//! see `sql::rewrite`), `pg_views` (with each view's SQL) and `pg_settings` (the settings every
//! session starts with).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{CatalogProviderList, Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;

use super::{INFORMATION_SCHEMA_TABLES, PG_CATALOG};
use crate::engine::computed::ComputedRows;
use crate::pg::session::{DEFAULTS, READ_ONLY, server_version};
use crate::pg::wire::types::{column_type, type_info};

/// Which of our own tables a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OwnTable {
    PgViews,
    /// `pg_settings`: the settings every session starts with.
    Settings,
    Columns,
    Tables,
    Views,
    Schemata,
    /// An `information_schema` table with no rows (constraints and keys).
    Empty(&'static str),
}

impl OwnTable {
    pub(super) fn of(name: &str) -> Option<OwnTable> {
        let lower = name.to_ascii_lowercase();
        if lower == "pg_views" {
            return Some(OwnTable::PgViews);
        }
        if lower == "pg_settings" {
            return Some(OwnTable::Settings);
        }
        let table = lower.strip_prefix("_is_")?;
        Some(match table {
            "columns" => OwnTable::Columns,
            "tables" => OwnTable::Tables,
            "views" => OwnTable::Views,
            "schemata" => OwnTable::Schemata,
            other => OwnTable::Empty(INFORMATION_SCHEMA_TABLES.iter().find(|t| **t == other)?),
        })
    }

    fn schema(self) -> SchemaRef {
        let text = |name: &str| Field::new(name, DataType::Utf8, true);
        let int = |name: &str| Field::new(name, DataType::Int32, true);
        let fields = match self {
            OwnTable::PgViews => vec![
                text("schemaname"),
                text("viewname"),
                text("viewowner"),
                text("definition"),
            ],
            OwnTable::Settings => {
                let mut fields: Vec<Field> = [
                    "name",
                    "setting",
                    "unit",
                    "category",
                    "short_desc",
                    "extra_desc",
                    "context",
                    "vartype",
                    "source",
                    "min_val",
                    "max_val",
                ]
                .map(text)
                .to_vec();
                fields.push(Field::new(
                    "enumvals",
                    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
                    true,
                ));
                fields.extend(["boot_val", "reset_val", "sourcefile"].map(text));
                fields.push(int("sourceline"));
                fields.push(Field::new("pending_restart", DataType::Boolean, true));
                fields
            }
            OwnTable::Columns => {
                let mut fields = vec![
                    text("table_catalog"),
                    text("table_schema"),
                    text("table_name"),
                    text("column_name"),
                    int("ordinal_position"),
                    text("column_default"),
                    text("is_nullable"),
                    text("data_type"),
                    int("character_maximum_length"),
                    int("character_octet_length"),
                    int("numeric_precision"),
                    int("numeric_precision_radix"),
                    int("numeric_scale"),
                    int("datetime_precision"),
                    text("interval_type"),
                    int("interval_precision"),
                ];
                fields.extend(
                    [
                        "character_set_catalog",
                        "character_set_schema",
                        "character_set_name",
                        "collation_catalog",
                        "collation_schema",
                        "collation_name",
                        "domain_catalog",
                        "domain_schema",
                        "domain_name",
                        "udt_catalog",
                        "udt_schema",
                        "udt_name",
                        "scope_catalog",
                        "scope_schema",
                        "scope_name",
                    ]
                    .map(text),
                );
                fields.push(int("maximum_cardinality"));
                fields.push(text("dtd_identifier"));
                fields.push(text("is_self_referencing"));
                fields.push(text("is_identity"));
                fields.extend(
                    [
                        "identity_generation",
                        "identity_start",
                        "identity_increment",
                        "identity_maximum",
                        "identity_minimum",
                        "identity_cycle",
                        "is_generated",
                        "generation_expression",
                        "is_updatable",
                    ]
                    .map(text),
                );
                fields
            }
            OwnTable::Tables => [
                "table_catalog",
                "table_schema",
                "table_name",
                "table_type",
                "self_referencing_column_name",
                "reference_generation",
                "user_defined_type_catalog",
                "user_defined_type_schema",
                "user_defined_type_name",
                "is_insertable_into",
                "is_typed",
                "commit_action",
            ]
            .map(text)
            .to_vec(),
            OwnTable::Views => [
                "table_catalog",
                "table_schema",
                "table_name",
                "view_definition",
                "check_option",
                "is_updatable",
                "is_insertable_into",
                "is_trigger_updatable",
                "is_trigger_deletable",
                "is_trigger_insertable_into",
            ]
            .map(text)
            .to_vec(),
            OwnTable::Schemata => [
                "catalog_name",
                "schema_name",
                "schema_owner",
                "default_character_set_catalog",
                "default_character_set_schema",
                "default_character_set_name",
                "sql_path",
            ]
            .map(text)
            .to_vec(),
            OwnTable::Empty(table) => empty_table_columns(table).map(text).collect(),
        };
        Arc::new(Schema::new(fields))
    }
}

fn empty_table_columns(table: &str) -> impl Iterator<Item = &'static str> {
    let columns: &[&str] = match table {
        "table_constraints" => &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "constraint_type",
            "is_deferrable",
            "initially_deferred",
            "enforced",
            "nulls_distinct",
        ],
        "key_column_usage" => &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "ordinal_position",
            "position_in_unique_constraint",
        ],
        "referential_constraints" => &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "unique_constraint_catalog",
            "unique_constraint_schema",
            "unique_constraint_name",
            "match_option",
            "update_rule",
            "delete_rule",
        ],
        _ => &[
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
        ],
    };
    columns.iter().copied()
}

/// One of our tables, computed from the catalog at every scan.
pub(super) struct CatalogTable {
    table: OwnTable,
    catalog_list: Arc<dyn CatalogProviderList>,
}

impl fmt::Debug for CatalogTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CatalogTable")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl ComputedRows for CatalogTable {
    fn schema(&self) -> SchemaRef {
        self.table.schema()
    }

    async fn batches(&self, _state: &dyn Session) -> Result<Vec<RecordBatch>> {
        let rows = self.rows().await?;
        Ok(vec![rows.into_batch(self.table.schema())?])
    }
}

/// Text / int cells of rows under construction, one vector per column.
struct Rows {
    columns: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone)]
enum Cell {
    Text(Option<String>),
    Int(Option<i32>),
    Bool(Option<bool>),
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(Some(value.to_string()))
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(Some(value))
    }
}

impl From<Option<String>> for Cell {
    fn from(value: Option<String>) -> Self {
        Cell::Text(value)
    }
}

impl From<Option<i32>> for Cell {
    fn from(value: Option<i32>) -> Self {
        Cell::Int(value)
    }
}

const NULL: Cell = Cell::Text(None);

impl Rows {
    fn new(width: usize) -> Self {
        Rows {
            columns: vec![Vec::new(); width],
        }
    }

    fn push(&mut self, row: Vec<Cell>) {
        for (column, cell) in self.columns.iter_mut().zip(row) {
            column.push(cell);
        }
    }

    fn into_batch(self, schema: SchemaRef) -> Result<RecordBatch> {
        let arrays: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .zip(self.columns)
            .map(|(field, cells)| -> ArrayRef {
                match field.data_type() {
                    DataType::Int32 => {
                        Arc::new(Int32Array::from_iter(cells.into_iter().map(|c| match c {
                            Cell::Int(v) => v,
                            Cell::Text(_) | Cell::Bool(_) => None,
                        })))
                    }
                    DataType::Boolean => Arc::new(BooleanArray::from_iter(cells.into_iter().map(
                        |c| match c {
                            Cell::Bool(v) => v,
                            Cell::Text(_) | Cell::Int(_) => None,
                        },
                    ))),
                    DataType::Utf8 => {
                        Arc::new(StringArray::from_iter(cells.into_iter().map(|c| match c {
                            Cell::Text(v) => v,
                            Cell::Int(v) => v.map(|v| v.to_string()),
                            Cell::Bool(v) => v.map(|v| v.to_string()),
                        })))
                    }
                    // Other types (`enumvals`): always NULL here.
                    other => arrow::array::new_null_array(other, cells.len()),
                }
            })
            .collect();
        if arrays.is_empty() {
            return Ok(RecordBatch::new_empty(schema));
        }
        Ok(RecordBatch::try_new(schema, arrays)?)
    }
}

/// One relation of the catalog, as the catalog tables see it.
struct Relation {
    catalog: String,
    schema: String,
    name: String,
    provider: Arc<dyn TableProvider>,
}

impl CatalogTable {
    /// Every user relation (tables and views outside `pg_catalog`), sorted by schema and name.
    async fn relations(&self) -> Result<Vec<Relation>> {
        let mut found = BTreeMap::new();
        for catalog_name in self.catalog_list.catalog_names() {
            let Some(catalog) = self.catalog_list.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                if schema_name == PG_CATALOG {
                    continue;
                }
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                for table_name in schema.table_names() {
                    if let Some(provider) = schema.table(&table_name).await? {
                        found.insert(
                            (
                                catalog_name.clone(),
                                schema_name.clone(),
                                table_name.clone(),
                            ),
                            provider,
                        );
                    }
                }
            }
        }
        Ok(found
            .into_iter()
            .map(|((catalog, schema, name), provider)| Relation {
                catalog,
                schema,
                name,
                provider,
            })
            .collect())
    }

    async fn rows(&self) -> Result<Rows> {
        let width = self.table.schema().fields().len();
        let mut rows = Rows::new(width);
        match self.table {
            OwnTable::Empty(_) => {}
            OwnTable::Settings => {
                for (name, value) in DEFAULTS {
                    let value = if *name == "server_version" {
                        server_version()
                    } else {
                        (*value).to_string()
                    };
                    let read_only = READ_ONLY.contains(name);
                    let mut row: Vec<Cell> = vec![(*name).into(), value.clone().into()];
                    row.extend([NULL, NULL, NULL, NULL]);
                    row.push(if read_only { "internal" } else { "user" }.into());
                    row.push("string".into());
                    row.push("default".into());
                    row.extend([NULL, NULL, NULL]);
                    row.push(value.clone().into());
                    row.push(value.into());
                    row.push(NULL);
                    row.push(Cell::Int(None));
                    row.push(Cell::Bool(Some(false)));
                    rows.push(row);
                }
            }
            OwnTable::Schemata => {
                for catalog_name in self.catalog_list.catalog_names() {
                    let Some(catalog) = self.catalog_list.catalog(&catalog_name) else {
                        continue;
                    };
                    let mut schemas = catalog.schema_names();
                    schemas.push("information_schema".into());
                    schemas.sort();
                    schemas.dedup();
                    for schema in schemas {
                        rows.push(vec![
                            catalog_name.as_str().into(),
                            schema.into(),
                            "postgres".into(),
                            NULL,
                            NULL,
                            NULL,
                            NULL,
                        ]);
                    }
                }
            }
            OwnTable::PgViews | OwnTable::Views => {
                for r in self.relations().await? {
                    if r.provider.table_type() != TableType::View {
                        continue;
                    }
                    let definition = r.provider.get_table_definition().map(view_query);
                    if self.table == OwnTable::PgViews {
                        rows.push(vec![
                            r.schema.into(),
                            r.name.into(),
                            "postgres".into(),
                            definition.into(),
                        ]);
                    } else {
                        rows.push(vec![
                            r.catalog.into(),
                            r.schema.into(),
                            r.name.into(),
                            definition.into(),
                            "NONE".into(),
                            "NO".into(),
                            "NO".into(),
                            "NO".into(),
                            "NO".into(),
                            "NO".into(),
                        ]);
                    }
                }
            }
            OwnTable::Tables => {
                for r in self.relations().await? {
                    let kind = match r.provider.table_type() {
                        TableType::View => "VIEW",
                        TableType::Temporary => "LOCAL TEMPORARY",
                        TableType::Base => "BASE TABLE",
                    };
                    let mut row = vec![
                        r.catalog.into(),
                        r.schema.into(),
                        r.name.into(),
                        kind.into(),
                    ];
                    row.extend([NULL, NULL, NULL, NULL, NULL]);
                    row.push("NO".into());
                    row.push("NO".into());
                    row.push(NULL);
                    rows.push(row);
                }
            }
            OwnTable::Columns => {
                for r in self.relations().await? {
                    let schema = r.provider.schema();
                    for (i, field) in schema.fields().iter().enumerate() {
                        let ty = column_type(field.data_type()).pg;
                        let info = type_info(&ty, field.data_type());
                        let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
                        let mut row: Vec<Cell> = vec![
                            r.catalog.as_str().into(),
                            r.schema.as_str().into(),
                            r.name.as_str().into(),
                            field.name().as_str().into(),
                            Some(position).into(),
                            NULL,
                            if field.is_nullable() { "YES" } else { "NO" }.into(),
                            info.data_type.into(),
                            Cell::Int(None),
                            info.octet_length.into(),
                            info.precision.into(),
                            info.radix.into(),
                            info.scale.into(),
                            info.datetime_precision.into(),
                            NULL,
                            Cell::Int(None),
                        ];
                        row.extend([NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL]);
                        row.push(r.catalog.as_str().into());
                        row.push(PG_CATALOG.into());
                        row.push(info.udt_name.into());
                        row.extend([NULL, NULL, NULL]);
                        row.push(Cell::Int(None));
                        row.push(Some(position.to_string()).into());
                        row.push("NO".into());
                        row.push("NO".into());
                        row.extend([NULL, NULL, NULL, NULL, NULL, "NO".into()]);
                        row.push("NEVER".into());
                        row.push(NULL);
                        row.push(if r.provider.table_type() == TableType::View {
                            "NO".into()
                        } else {
                            "YES".into()
                        });
                        rows.push(row);
                    }
                }
            }
        }
        Ok(rows)
    }
}

/// The query of a view definition (`CREATE VIEW v AS SELECT …` → `SELECT …`), as
/// `pg_get_viewdef` and `pg_views.definition` show it.
fn view_query(definition: &str) -> String {
    use datafusion::sql::sqlparser::ast::Statement;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;
    match Parser::parse_sql(&PostgreSqlDialect {}, definition)
        .ok()
        .and_then(|mut s| s.pop())
    {
        Some(Statement::CreateView(view)) => view.query.to_string(),
        _ => definition.to_string(),
    }
}

impl CatalogTable {
    /// Table `table` over the catalogs of `catalog_list`.
    pub(super) fn new(table: OwnTable, catalog_list: Arc<dyn CatalogProviderList>) -> Self {
        CatalogTable {
            table,
            catalog_list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_names() {
        assert_eq!(OwnTable::of("_is_columns"), Some(OwnTable::Columns));
        assert_eq!(
            OwnTable::of("_is_key_column_usage"),
            Some(OwnTable::Empty("key_column_usage"))
        );
        assert_eq!(OwnTable::of("_is_nope"), None);
        assert_eq!(OwnTable::of("pg_class"), None);
    }
}
