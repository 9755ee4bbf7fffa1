//! `pg_proc`, `pg_description` and the hidden `_routines`: PostgreSQL's builtin rows (the
//! `datafusion-pg-catalog` crate's, exported from a real server), then chatlake's functions and
//! reports ([`super::routines`]). `pg_proc`'s array columns (`proargtypes`, `proargnames`, …)
//! are typed as arrays.

use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use pgwire::api::Type;

use crate::engine::computed::ComputedRows;

use super::routines::{Returns, Routine, routines};

/// The array columns of `pg_proc` (the crate stores them as text: `25 25`, `[2276]`,
/// `['i', 'o']`), with their element type.
const PROC_ARRAYS: &[(&str, DataType)] = &[
    ("proargtypes", DataType::Int32),
    ("proallargtypes", DataType::Int32),
    ("proargmodes", DataType::Utf8),
    ("proargnames", DataType::Utf8),
    ("protrftypes", DataType::Int32),
    ("proconfig", DataType::Utf8),
    ("proacl", DataType::Utf8),
];

/// `schema` with the text columns named in `arrays` retyped as lists of their element type.
pub(super) fn with_list_columns(schema: &Schema, arrays: &[(&str, DataType)]) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match arrays.iter().find(|(name, _)| name == f.name()) {
            Some((_, element)) => Field::new(
                f.name(),
                DataType::List(Arc::new(Field::new_list_field(element.clone(), true))),
                true,
            ),
            None => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Which of the tables listing functions a [`RoutineTable`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RoutineKind {
    /// `pg_proc`: builtin functions and ours.
    Proc,
    /// `pg_description`: builtin descriptions and our functions'.
    Description,
    /// `_routines`: `pg_get_function_arguments` & co. of our functions (see
    /// `sql::rewrite`).
    Texts,
}

/// `pg_proc`, `pg_description` and the hidden `_routines`: PostgreSQL's builtin rows (the
/// crate's, exported from a real server) followed by chatlake's functions and reports
/// ([`super::routines`]). `pg_proc`'s `proargtypes`, `proargnames`, `proargmodes` … are typed
/// as arrays, so that pgcli's `proargtypes::regtype[]` and `unnest(proargnames)` plan.
pub(super) struct RoutineTable {
    kind: RoutineKind,
    builtin: Option<Arc<dyn TableProvider>>,
    namespaces: Option<Arc<dyn TableProvider>>,
    schema: SchemaRef,
}

impl fmt::Debug for RoutineTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutineTable")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The `pg_class` OID of `pg_proc` in PostgreSQL (`pg_description.classoid` of functions).
const PG_PROC_CLASS_OID: i32 = 1255;

impl RoutineTable {
    pub(super) fn new(
        kind: RoutineKind,
        builtin: Option<Arc<dyn TableProvider>>,
        namespaces: Option<Arc<dyn TableProvider>>,
    ) -> Self {
        let schema = match (&kind, &builtin) {
            (RoutineKind::Texts, _) | (_, None) => Arc::new(Schema::new(vec![
                Field::new("oid", DataType::Int32, false),
                Field::new("arguments", DataType::Utf8, true),
                Field::new("identity_arguments", DataType::Utf8, true),
                Field::new("result", DataType::Utf8, true),
            ])),
            (RoutineKind::Proc, Some(table)) => with_list_columns(&table.schema(), PROC_ARRAYS),
            (RoutineKind::Description, Some(table)) => table.schema(),
        };
        RoutineTable {
            kind,
            builtin,
            namespaces,
            schema,
        }
    }

    /// The builtin rows, typed (computed once per process and table: they never change).
    async fn builtin_rows(&self, state: &dyn Session) -> Result<Vec<RecordBatch>> {
        static PROC: tokio::sync::OnceCell<Vec<RecordBatch>> = tokio::sync::OnceCell::const_new();
        static DESCRIPTION: tokio::sync::OnceCell<Vec<RecordBatch>> =
            tokio::sync::OnceCell::const_new();
        let (Some(builtin), cell) = (
            &self.builtin,
            match self.kind {
                RoutineKind::Proc => &PROC,
                RoutineKind::Description => &DESCRIPTION,
                RoutineKind::Texts => return Ok(Vec::new()),
            },
        ) else {
            return Ok(Vec::new());
        };
        cell.get_or_try_init(|| async {
            let plan = builtin.scan(state, None, &[], None).await?;
            let batches = datafusion::physical_plan::collect(plan, state.task_ctx()).await?;
            batches
                .iter()
                .map(|b| retype_lists(b, &self.schema))
                .collect::<Result<Vec<_>>>()
        })
        .await
        .cloned()
    }

    /// The OID of schema `public` (where our functions live), from `pg_namespace`.
    async fn public_namespace(&self, state: &dyn Session) -> Result<Option<i32>> {
        use arrow::array::{Array, AsArray};
        let Some(namespaces) = &self.namespaces else {
            return Ok(None);
        };
        let plan = namespaces.scan(state, None, &[], None).await?;
        let schema = namespaces.schema();
        let (Ok(oid), Ok(name)) = (schema.index_of("oid"), schema.index_of("nspname")) else {
            return Ok(None);
        };
        for batch in datafusion::physical_plan::collect(plan, state.task_ctx()).await? {
            let oids = arrow::compute::cast(batch.column(oid), &DataType::Int32)?;
            let names = arrow::compute::cast(batch.column(name), &DataType::Utf8)?;
            let (oids, names) = (
                oids.as_primitive::<arrow::datatypes::Int32Type>(),
                names.as_string::<i32>(),
            );
            for row in 0..batch.num_rows() {
                if !names.is_null(row) && names.value(row) == super::functions::SCHEMA {
                    return Ok(Some(oids.value(row)));
                }
            }
        }
        Ok(None)
    }

    /// Our rows, in this table's schema.
    async fn routine_rows(&self, state: &dyn Session) -> Result<Option<RecordBatch>> {
        let routines = routines(state);
        if routines.is_empty() {
            return Ok(None);
        }
        let namespace = match self.kind {
            RoutineKind::Proc => self.public_namespace(state).await?,
            _ => None,
        };
        let columns = self
            .schema
            .fields()
            .iter()
            .map(|field| {
                let cells: Vec<ScalarValue> = routines
                    .iter()
                    .map(|r| {
                        let cell = match self.kind {
                            RoutineKind::Proc => proc_cell(field.name(), r, namespace),
                            RoutineKind::Description => description_cell(field.name(), r),
                            RoutineKind::Texts => text_cell(field.name(), r),
                        };
                        if cell.is_null() {
                            ScalarValue::try_from(field.data_type())
                        } else if &cell.data_type() == field.data_type() {
                            Ok(cell)
                        } else {
                            cell.cast_to(field.data_type())
                        }
                    })
                    .collect::<Result<_>>()?;
                if cells.is_empty() {
                    return Ok(arrow::array::new_empty_array(field.data_type()));
                }
                ScalarValue::iter_to_array(cells)
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        // pg_description has rows only for documented routines.
        if self.kind == RoutineKind::Description {
            let described = arrow::compute::is_not_null(batch.column(3))?;
            return Ok(Some(arrow::compute::filter_record_batch(
                &batch, &described,
            )?));
        }
        Ok(Some(batch))
    }
}

/// A text list cell.
fn text_list(values: impl IntoIterator<Item = String>) -> ScalarValue {
    let values: Vec<ScalarValue> = values.into_iter().map(ScalarValue::from).collect();
    ScalarValue::List(ScalarValue::new_list_nullable(&values, &DataType::Utf8))
}

/// An OID list cell.
fn oid_list(values: impl IntoIterator<Item = Type>) -> ScalarValue {
    let values: Vec<ScalarValue> = values
        .into_iter()
        .map(|t| ScalarValue::Int32(Some(i32::try_from(t.oid()).unwrap_or_default())))
        .collect();
    ScalarValue::List(ScalarValue::new_list_nullable(&values, &DataType::Int32))
}

fn oid_of(ty: &Type) -> ScalarValue {
    ScalarValue::Int32(Some(i32::try_from(ty.oid()).unwrap_or_default()))
}

/// One `pg_proc` cell of routine `r` (NULL for columns we have nothing to say about).
fn proc_cell(column: &str, r: &Routine, namespace: Option<i32>) -> ScalarValue {
    let int = |v: i64| ScalarValue::Int64(Some(v));
    let text = |v: &str| ScalarValue::Utf8(Some(v.to_string()));
    let table = match &r.returns {
        Returns::Table(columns) => Some(columns),
        Returns::Value(_) => None,
    };
    let nargs = i64::try_from(r.args.len()).unwrap_or_default();
    match column {
        "oid" => ScalarValue::Int32(Some(r.oid)),
        "proname" => text(&r.name),
        "pronamespace" => ScalarValue::Int32(namespace),
        "proowner" => int(10),
        // SQL for reports, C for the Rust functions (`internal`: 12).
        "prolang" => int(if table.is_some() { 14 } else { 12 }),
        "procost" => ScalarValue::Float64(Some(1.0)),
        "prorows" => ScalarValue::Float64(Some(if table.is_some() { 1000.0 } else { 0.0 })),
        "provariadic" => match r.args.iter().find(|a| a.variadic) {
            Some(arg) => oid_of(&arg.ty),
            None => int(0),
        },
        "prosupport" => text("-"),
        "prokind" => text(&r.kind.to_string()),
        "prosecdef" | "proleakproof" | "proisstrict" => ScalarValue::Boolean(Some(false)),
        "proretset" => ScalarValue::Boolean(Some(table.is_some())),
        "provolatile" => text(&r.volatility.to_string()),
        "proparallel" => text("s"),
        "pronargs" => int(nargs),
        "pronargdefaults" => int(i64::try_from(
            r.args.iter().filter(|a| a.default.is_some()).count(),
        )
        .unwrap_or_default()),
        "prorettype" => oid_of(&r.return_type()),
        "proargtypes" => oid_list(r.args.iter().map(|a| a.ty.clone())),
        "proallargtypes" => match table {
            Some(columns) => oid_list(
                r.args
                    .iter()
                    .map(|a| a.ty.clone())
                    .chain(columns.iter().map(|(_, t)| t.clone())),
            ),
            None => ScalarValue::Null,
        },
        "proargmodes" => match table {
            Some(columns) => text_list(
                std::iter::repeat_n("i".to_string(), r.args.len())
                    .chain(std::iter::repeat_n("t".to_string(), columns.len())),
            ),
            None => ScalarValue::Null,
        },
        "proargnames" => {
            let inputs: Vec<String> = r
                .args
                .iter()
                .map(|a| a.name.clone().unwrap_or_default())
                .collect();
            match table {
                Some(columns) => text_list(
                    inputs
                        .into_iter()
                        .chain(columns.iter().map(|(n, _)| n.clone())),
                ),
                None if r.args.iter().any(|a| a.name.is_some()) => text_list(inputs),
                None => ScalarValue::Null,
            }
        }
        "prosrc" => text(&r.name),
        _ => ScalarValue::Null,
    }
}

/// One `pg_description` cell of routine `r`.
fn description_cell(column: &str, r: &Routine) -> ScalarValue {
    match column {
        "objoid" => ScalarValue::Int32(Some(r.oid)),
        "classoid" => ScalarValue::Int32(Some(PG_PROC_CLASS_OID)),
        "objsubid" => ScalarValue::Int32(Some(0)),
        "description" => ScalarValue::Utf8(r.description.clone()),
        _ => ScalarValue::Null,
    }
}

/// One `_routines` cell of routine `r`.
fn text_cell(column: &str, r: &Routine) -> ScalarValue {
    match column {
        "oid" => ScalarValue::Int32(Some(r.oid)),
        "arguments" => ScalarValue::Utf8(Some(r.arguments())),
        "identity_arguments" => ScalarValue::Utf8(Some(r.identity_arguments())),
        "result" => ScalarValue::Utf8(Some(r.result())),
        _ => ScalarValue::Null,
    }
}

#[async_trait]
impl ComputedRows for RoutineTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    async fn batches(&self, state: &dyn Session) -> Result<Vec<RecordBatch>> {
        let mut batches = self.builtin_rows(state).await?;
        batches.extend(self.routine_rows(state).await?);
        Ok(batches)
    }
}

/// `batch` with its text-encoded array columns parsed into the list columns of `schema`.
fn retype_lists(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, column)| match field.data_type() {
            DataType::List(element) if !matches!(column.data_type(), DataType::List(_)) => {
                text_to_list(column, element.data_type())
            }
            _ => Ok(column.clone()),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Text renderings of arrays (`25 25`, `[1034, 26]`, `['acl', 'grantor']`, `{a,b}`) → a list
/// column of `element`s. NULL stays NULL; an element that does not parse is NULL.
fn text_to_list(column: &ArrayRef, element: &DataType) -> Result<ArrayRef> {
    use arrow::array::{Array, AsArray, Int32Builder, ListBuilder, StringBuilder};
    let text = arrow::compute::cast(column, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    let items = |value: &str| -> Vec<String> {
        let inner = value
            .trim()
            .trim_start_matches(['[', '{'])
            .trim_end_matches([']', '}']);
        let parts: Vec<&str> = if inner.contains(',') {
            inner.split(',').collect()
        } else {
            inner.split_whitespace().collect()
        };
        parts
            .into_iter()
            .map(|p| p.trim().trim_matches(['\'', '"']).to_string())
            .filter(|p| !p.is_empty())
            .collect()
    };
    let field = Arc::new(Field::new_list_field(element.clone(), true));
    if element == &DataType::Int32 {
        let mut builder = ListBuilder::new(Int32Builder::new()).with_field(field);
        for i in 0..text.len() {
            if text.is_null(i) {
                builder.append_null();
                continue;
            }
            for item in items(text.value(i)) {
                builder.values().append_option(item.parse::<i32>().ok());
            }
            builder.append(true);
        }
        Ok(Arc::new(builder.finish()))
    } else {
        let mut builder = ListBuilder::new(StringBuilder::new()).with_field(field);
        for i in 0..text.len() {
            if text.is_null(i) {
                builder.append_null();
                continue;
            }
            for item in items(text.value(i)) {
                builder.values().append_value(item);
            }
            builder.append(true);
        }
        Ok(Arc::new(builder.finish()))
    }
}
