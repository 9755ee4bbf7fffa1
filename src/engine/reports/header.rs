//! The header of a report file: description lines, `-- param: name type [required | default v]`
//! and `-- let: name type = SELECT ...` lines, up to the first line that is not a comment.

use datafusion::common::{ScalarValue, plan_datafusion_err, plan_err};
use datafusion::error::Result as DfResult;

use super::{LetDef, ParamDef, ParamType};

/// What a report file's header declares.
#[derive(Debug)]
pub(super) struct Header {
    /// The description comment lines, joined by spaces.
    pub description: String,
    /// `param:` lines, in call order.
    pub params: Vec<ParamDef>,
    /// `let:` lines, in order.
    pub lets: Vec<LetDef>,
}

/// Reads the header: description lines, `param:` and `let:` lines, up to the first non-comment
/// line.
pub(super) fn parse_header(sql: &str) -> DfResult<Header> {
    let mut description = Vec::new();
    let mut params: Vec<ParamDef> = Vec::new();
    let mut lets: Vec<LetDef> = Vec::new();
    for line in sql.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("--") else {
            break;
        };
        let comment = comment.trim();
        if let Some(spec) = comment.strip_prefix("let:") {
            let def = parse_let(spec)?;
            if lets.iter().any(|l| l.name == def.name) {
                return plan_err!("let {} is declared twice", def.name);
            }
            lets.push(def);
            continue;
        }
        let Some(spec) = comment.strip_prefix("param:") else {
            if !comment.is_empty() {
                description.push(comment.to_string());
            }
            continue;
        };
        let words: Vec<&str> = spec.split_whitespace().collect();
        let (Some(name), Some(ty)) = (words.first(), words.get(1)) else {
            return plan_err!("bad header line '{line}': expected '-- param: <name> <type>'");
        };
        let Some(ty) = ParamType::parse(ty) else {
            return plan_err!(
                "parameter {name}: unknown type '{ty}' (date, text, bigint, boolean)"
            );
        };
        if params.iter().any(|p| p.name == *name) {
            return plan_err!("parameter {name} is declared twice");
        }
        let mut required = false;
        let mut default = ScalarValue::try_from(&ty.data_type())?;
        let mut rest = &words[2..];
        while let Some(word) = rest.first() {
            match word.to_ascii_lowercase().as_str() {
                "required" => {
                    required = true;
                    rest = &rest[1..];
                }
                "default" => {
                    let text = rest[1..].join(" ");
                    let text = text.trim_matches('\'');
                    default = ScalarValue::Utf8(Some(text.to_string()))
                        .cast_to(&ty.data_type())
                        .map_err(|e| {
                            plan_datafusion_err!("parameter {name}: bad default '{text}': {e}")
                        })?;
                    rest = &[];
                }
                other => {
                    return plan_err!(
                        "parameter {name}: unexpected '{other}' (expected 'required' or 'default <value>')"
                    );
                }
            }
        }
        params.push(ParamDef {
            name: name.to_string(),
            ty,
            required,
            default,
        });
    }
    Ok(Header {
        description: description.join(" "),
        params,
        lets,
    })
}

/// Parses the text after `let:`: `<name> <type> = <scalar query>`.
pub(super) fn parse_let(spec: &str) -> DfResult<LetDef> {
    let bad = || {
        plan_datafusion_err!(
            "bad header line 'let:{spec}': expected '-- let: <name> <type> = SELECT ...'"
        )
    };
    let (left, query) = spec.split_once('=').ok_or_else(bad)?;
    let words: Vec<&str> = left.split_whitespace().collect();
    let [name, ty] = words.as_slice() else {
        return Err(bad());
    };
    let valid_name = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_name || query.trim().is_empty() {
        return Err(bad());
    }
    let ty = ParamType::parse(ty).ok_or_else(|| {
        plan_datafusion_err!("let {name}: unknown type '{ty}' (date, text, bigint, boolean)")
    })?;
    Ok(LetDef {
        name: name.to_string(),
        ty,
        sql: query.trim().to_string(),
    })
}
