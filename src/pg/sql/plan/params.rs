//! Parameter types of the extended protocol: what `$n` is told to be in
//! `ParameterDescription`, and how its value is read (`wire::decode` decodes it).
//!
//! Type of `$n`, first match wins:
//!
//! | Source | Example |
//! |---|---|
//! | the type the client gave in `Parse` (OID ≠ 0) | pgjdbc `setLong` → `int8`, psycopg 3 small int → `int2` |
//! | DataFusion's inference from the context | `WHERE id = $1` with `id bigint` → `int8` |
//! | an explicit cast of the parameter | `$1::date` → `date` |
//! | otherwise | `text` |

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::expr::Placeholder;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{Cast, Expr, ExprSchemable, LogicalPlan, TryCast};
use pgwire::api::Type;
use pgwire::error::PgWireResult;

use crate::pg::error::from_datafusion;
use crate::pg::wire::types::{natural_type, parameter_type};

/// The type of one parameter: what the client is told and how its value is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParamType {
    /// The type reported in `ParameterDescription` and used to decode the value.
    pub pg: Type,
    /// The type DataFusion expects for the placeholder, when it knows one.
    pub inferred: Option<DataType>,
}

/// The types of `$1 … $n` in `plan`, given the types the client declared (`None` = unspecified).
pub(crate) fn parameter_types(
    plan: &LogicalPlan,
    declared: &[Option<Type>],
) -> PgWireResult<Vec<ParamType>> {
    let inferred = plan
        .get_parameter_types()
        .map_err(|e| from_datafusion(&e))?;
    let casts = cast_targets(plan);
    let count = inferred
        .keys()
        .chain(casts.keys())
        .filter_map(|id| position(id))
        .max()
        .unwrap_or(0)
        .max(declared.len());
    Ok((1..=count)
        .map(|n| {
            let id = format!("${n}");
            let inferred = inferred
                .get(&id)
                .cloned()
                .flatten()
                .or_else(|| casts.get(&id).cloned())
                .filter(|t| t != &DataType::Null);
            let pg = declared
                .get(n - 1)
                .cloned()
                .flatten()
                .filter(|t| *t != Type::UNKNOWN)
                .or_else(|| inferred.as_ref().map(parameter_type))
                .unwrap_or(Type::TEXT);
            ParamType { pg, inferred }
        })
        .collect())
}

/// Gives the placeholders DataFusion left untyped the type the client declared for them, so
/// that `SELECT $1` with `$1` declared `int4` returns an `int4` column, as PostgreSQL does.
/// `numeric` is left alone (DataFusion's unconstrained decimal would add a scale the value
/// does not have). If the plan cannot be retyped it is returned unchanged.
pub(crate) fn assign_declared_types(plan: LogicalPlan, declared: &[Option<Type>]) -> LogicalPlan {
    let types: HashMap<String, DataType> = declared
        .iter()
        .enumerate()
        .filter_map(|(i, ty)| {
            let ty = ty.as_ref()?;
            if *ty == Type::UNKNOWN || *ty == Type::NUMERIC {
                return None;
            }
            Some((format!("${}", i + 1), natural_type(ty)))
        })
        .collect();
    let untyped_declared = plan
        .get_parameter_types()
        .map(|found| {
            found
                .iter()
                .any(|(id, ty)| ty.is_none() && types.contains_key(id))
        })
        .unwrap_or(false);
    if !untyped_declared {
        return plan;
    }
    let original = plan.clone();
    let retyped = plan.transform_up_with_subqueries(|node| {
        let node = node.map_expressions(|expr| {
            expr.transform_up(|e| match e {
                Expr::Placeholder(Placeholder { id, field: None }) => {
                    let field = types
                        .get(&id)
                        .map(|ty| Arc::new(Field::new("", ty.clone(), true)));
                    let typed = field.is_some();
                    let placeholder = Expr::Placeholder(Placeholder::new_with_field(id, field));
                    Ok(if typed {
                        Transformed::yes(placeholder)
                    } else {
                        Transformed::no(placeholder)
                    })
                }
                other => Ok(Transformed::no(other)),
            })
        })?;
        // Parents see their children's new types only once their schema is recomputed.
        node.map_data(LogicalPlan::recompute_schema)
    });
    retyped.map(|t| t.data).unwrap_or(original)
}

/// The client's declared parameter types, completed with `oid` / `oid[]` for placeholders the
/// SQL casts to an OID type (`$1::oid[]`, `$1::regclass`): DataFusion plans OIDs as `int4`,
/// but clients expect PostgreSQL's description. asyncpg's type introspection binds
/// `$1::oid[]` and knows how to send `oid[]` (OID 1028) before any introspection, not `int4[]`.
pub(crate) fn declared_by_casts(
    statement: &datafusion::sql::parser::Statement,
    declared: &[Option<Type>],
) -> Vec<Option<Type>> {
    use datafusion::sql::sqlparser::ast::{
        ArrayElemTypeDef, DataType as SqlType, Expr as SqlExpr, Value, Visit, Visitor,
    };
    use std::ops::ControlFlow;

    fn is_oid_type(ty: &SqlType) -> bool {
        let name = ty.to_string().to_ascii_lowercase();
        let name = name
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .trim_matches('"');
        matches!(
            name,
            "oid"
                | "regclass"
                | "regtype"
                | "regproc"
                | "regprocedure"
                | "regnamespace"
                | "regrole"
        )
    }

    struct Casts(Vec<(usize, Type)>);
    impl Visitor for Casts {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &SqlExpr) -> ControlFlow<()> {
            if let SqlExpr::Cast {
                expr: inner,
                data_type,
                ..
            } = expr
                && let SqlExpr::Value(v) = inner.as_ref()
                && let Value::Placeholder(id) = &v.value
                && let Some(n) = position(id)
            {
                let ty = match data_type {
                    SqlType::Array(
                        ArrayElemTypeDef::SquareBracket(element, _)
                        | ArrayElemTypeDef::AngleBracket(element),
                    ) if is_oid_type(element) => Some(Type::OID_ARRAY),
                    other if is_oid_type(other) => Some(Type::OID),
                    _ => None,
                };
                if let Some(ty) = ty {
                    self.0.push((n, ty));
                }
            }
            ControlFlow::Continue(())
        }
    }

    let mut types = declared.to_vec();
    let datafusion::sql::parser::Statement::Statement(sql) = statement else {
        return types;
    };
    let mut casts = Casts(Vec::new());
    let _ = sql.visit(&mut casts);
    for (n, ty) in casts.0 {
        if n == 0 {
            continue;
        }
        if types.len() < n {
            types.resize(n, None);
        }
        if types[n - 1].as_ref().is_none_or(|t| *t == Type::UNKNOWN) {
            types[n - 1] = Some(ty);
        }
    }
    types
}

/// `$3` → 3.
fn position(id: &str) -> Option<usize> {
    id.strip_prefix('$')?.parse().ok()
}

/// Types for placeholders DataFusion leaves untyped, from where they stand:
///
/// - cast right away: `$1::date` → `date`;
/// - `LIMIT $1` / `OFFSET $1` → `int8`, as in PostgreSQL;
/// - the array of `x = ANY($1)` (planned as `array_has($1, x)`) → an array of `x`'s type
///   (pgcli's `relkind = ANY($1)` with a Python list).
fn cast_targets(plan: &LogicalPlan) -> HashMap<String, DataType> {
    let mut targets = HashMap::new();
    let untyped = |e: &Expr| match e {
        Expr::Placeholder(Placeholder { id, field: None }) => Some(id.clone()),
        _ => None,
    };
    // The visitor itself never fails.
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Limit(limit) = node {
            for e in [&limit.skip, &limit.fetch].into_iter().flatten() {
                if let Some(id) = untyped(e) {
                    targets.entry(id).or_insert(DataType::Int64);
                }
            }
        }
        let schema = merge_schema(&node.inputs());
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                match e {
                    Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => {
                        if let Some(id) = untyped(expr) {
                            targets
                                .entry(id)
                                .or_insert_with(|| field.data_type().clone());
                        }
                    }
                    Expr::ScalarFunction(call) if call.name() == "array_has" => {
                        if let [array, needle] = call.args.as_slice()
                            && let Some(id) = untyped(array)
                            && let Ok(element) = needle.get_type(&schema)
                            && element != DataType::Null
                        {
                            targets.entry(id).or_insert_with(|| {
                                DataType::List(Arc::new(Field::new_list_field(element, true)))
                            });
                        }
                    }
                    _ => {}
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
    targets
}
