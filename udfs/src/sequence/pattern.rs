//! Parsing a `sequence_match` / `sequence_count` pattern, as ClickHouse's `parsePattern`.
//!
//! Grammar (no whitespace allowed, as in ClickHouse): a sequence of
//! `(?N)` (one row where condition N is true), `.` (any one row), `.*` (any rows) and
//! `(?t op S)` with op one of `<=`, `<`, `>=`, `>`, `==` (time since the previous matched row,
//! `S` whole seconds; it must follow an event token or `.*`). The pattern is implicitly
//! prefixed by `.*`.

use datafusion::common::{Result, plan_err};

use crate::events::TsKind;

/// A time comparison of a `(?t op S)` token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TimeOp {
    Le,
    Lt,
    Ge,
    Gt,
    Eq,
}

/// One token of a parsed pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Action {
    /// `(?N)`: condition bit `N - 1`.
    Event(u32),
    /// `.`
    Any,
    /// `.*`
    Kleene,
    /// `(?t op S)` with `S` in timestamp units.
    Time(TimeOp, i64),
}

/// A state of the automaton used for patterns without time tokens (ClickHouse's "DFA").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct DfaState {
    /// Loops on any row (`.*` seen at this state).
    pub kleene: bool,
    /// The transition to the next state: `None`, any row, or a row with condition bit.
    pub transition: Option<Option<u32>>,
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Pattern {
    /// Tokens, starting with the implicit `.*`.
    pub actions: Vec<Action>,
    /// Automaton states (used when there is no time token).
    pub dfa: Vec<DfaState>,
    /// Whether any `(?t ...)` token appears.
    pub has_time: bool,
    /// Bits of the conditions the pattern names.
    pub conditions: u32,
}

impl Pattern {
    /// Parses `text` for a call with `conditions` conditions and timestamps of `kind`.
    /// Errors name `func`, the problem and its position.
    pub(crate) fn parse(func: &str, text: &str, conditions: usize, kind: TsKind) -> Result<Self> {
        let mut p = Pattern {
            actions: vec![Action::Kleene],
            dfa: vec![DfaState {
                kleene: true,
                transition: None,
            }],
            has_time: false,
            conditions: 0,
        };
        let bytes = text.as_bytes();
        let mut pos = 0;
        let at = |pos: usize| format!("'{}' at position {pos}", &text[pos..]);
        while pos < bytes.len() {
            let rest = &bytes[pos..];
            if rest.starts_with(b"(?") {
                let start = pos;
                pos += 2;
                if bytes.get(pos) == Some(&b't') {
                    pos += 1;
                    let ops: [(&[u8], TimeOp); 5] = [
                        (b"<=", TimeOp::Le),
                        (b"<", TimeOp::Lt),
                        (b">=", TimeOp::Ge),
                        (b">", TimeOp::Gt),
                        (b"==", TimeOp::Eq),
                    ];
                    let Some(&(sym, op)) = ops.iter().find(|(s, _)| bytes[pos..].starts_with(s))
                    else {
                        return plan_err!("{func}: unknown time condition {} in pattern", at(pos));
                    };
                    pos += sym.len();
                    let Some((secs, next)) = read_number(bytes, pos) else {
                        return plan_err!("{func}: could not parse number {} in pattern", at(pos));
                    };
                    pos = next;
                    if matches!(p.actions.last(), Some(Action::Time(..))) {
                        return plan_err!(
                            "{func}: a time condition must follow an event, '.' or '.*' ({} in pattern)",
                            at(start)
                        );
                    }
                    let Ok(secs) = i64::try_from(secs) else {
                        return plan_err!("{func}: time {secs} is too large in pattern");
                    };
                    p.actions
                        .push(Action::Time(op, kind.scale_seconds(func, secs)?));
                    p.has_time = true;
                } else {
                    let Some((n, next)) = read_number(bytes, pos) else {
                        return plan_err!("{func}: could not parse number {} in pattern", at(pos));
                    };
                    if n == 0 || n > conditions as u64 {
                        return plan_err!(
                            "{func}: event number {n} is out of range in pattern, the call has {conditions} conditions"
                        );
                    }
                    pos = next;
                    let bit = (n - 1) as u32;
                    p.actions.push(Action::Event(bit));
                    if let Some(last) = p.dfa.last_mut() {
                        last.transition = Some(Some(bit));
                    }
                    p.dfa.push(DfaState {
                        kleene: false,
                        transition: None,
                    });
                    p.conditions |= 1 << bit;
                }
                if bytes.get(pos) != Some(&b')') {
                    return plan_err!(
                        "{func}: expected closing parenthesis, found {} in pattern",
                        at(pos)
                    );
                }
                pos += 1;
            } else if rest.starts_with(b".*") {
                pos += 2;
                p.actions.push(Action::Kleene);
                if let Some(last) = p.dfa.last_mut() {
                    last.kleene = true;
                }
            } else if rest.starts_with(b".") {
                pos += 1;
                p.actions.push(Action::Any);
                if let Some(last) = p.dfa.last_mut() {
                    last.transition = Some(None);
                }
                p.dfa.push(DfaState {
                    kleene: false,
                    transition: None,
                });
            } else {
                return plan_err!(
                    "{func}: could not parse pattern, unexpected symbol {}",
                    at(pos)
                );
            }
        }
        Ok(p)
    }
}

/// Reads decimal digits at `pos`: the value and the position after them.
fn read_number(bytes: &[u8], pos: usize) -> Option<(u64, usize)> {
    let digits = bytes[pos..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let text = std::str::from_utf8(&bytes[pos..pos + digits]).ok()?;
    Some((text.parse().ok()?, pos + digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tokens_and_rejects_bad_patterns() {
        let p = Pattern::parse("f", "(?1).*(?t<=5)(?2).", 2, TsKind::Integer).ok();
        let Some(p) = p else {
            panic!("pattern should parse");
        };
        assert_eq!(
            p.actions,
            vec![
                Action::Kleene,
                Action::Event(0),
                Action::Kleene,
                Action::Time(TimeOp::Le, 5),
                Action::Event(1),
                Action::Any
            ]
        );
        assert!(p.has_time);
        assert_eq!(p.conditions, 0b11);
        for bad in [
            "(?3)",
            "(?0)",
            "(?1)(?t<1)(?t>2)",
            "(?x)",
            "(?1",
            " (?1)",
            "(?t~1)",
            "(?1)(?t<)",
        ] {
            assert!(
                Pattern::parse("f", bad, 2, TsKind::Integer).is_err(),
                "{bad}"
            );
        }
        let micros = Pattern::parse("f", "(?1)(?t>2)", 1, TsKind::Micros).ok();
        assert_eq!(
            micros.map(|p| p.actions[2]),
            Some(Action::Time(TimeOp::Gt, 2_000_000))
        );
    }
}
