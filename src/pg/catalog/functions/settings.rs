//! `current_setting(name [, missing_ok])` and `set_config(name, value, is_local)` over one
//! connection's settings (the same ones `SHOW` and `SET` see).

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Weak;

use crate::pg::session::Session;

/// `current_setting` / `set_config` over one connection's settings.
pub(super) struct SettingFunction {
    name: &'static str,
    session: Weak<Session>,
    signature: Signature,
}

impl std::fmt::Debug for SettingFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingFunction")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for SettingFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.session.ptr_eq(&other.session)
    }
}

impl Eq for SettingFunction {}

impl std::hash::Hash for SettingFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.session.as_ptr().hash(state);
    }
}

impl SettingFunction {
    pub(super) fn new(name: &'static str, session: Weak<Session>) -> Self {
        SettingFunction {
            name,
            session,
            signature: Signature::variadic_any(Volatility::Volatile),
        }
    }
}

impl ScalarUDFImpl for SettingFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::common::{exec_err, plan_err};
        let Some(session) = self.session.upgrade() else {
            return exec_err!("{}: the connection is closing", self.name);
        };
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| {
                a.to_array(rows)
                    .and_then(|a| Ok(arrow::compute::cast(&a, &DataType::Utf8)?))
            })
            .collect::<Result<Vec<_>>>()?;
        let text = |i: usize, row: usize| -> Option<String> {
            let array = arrays.get(i)?.as_string::<i32>();
            (!array.is_null(row)).then(|| array.value(row).to_string())
        };
        let mut out = arrow::array::StringBuilder::new();
        for row in 0..rows {
            let Some(name) = text(0, row) else {
                out.append_null();
                continue;
            };
            if self.name == "set_config" {
                let value = text(1, row).unwrap_or_default();
                if let Err(e) = session.set(&name, &value) {
                    return plan_err!("{e}");
                }
                out.append_option(session.get(&name).map(|(_, v)| v));
            } else {
                match session.get(&name) {
                    Some((_, value)) => out.append_value(value),
                    None if text(1, row).is_some_and(|m| m == "true") => out.append_null(),
                    None => {
                        return plan_err!("unrecognized configuration parameter \"{name}\"");
                    }
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
