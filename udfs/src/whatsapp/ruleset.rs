//! Which WhatsApp pricing rules apply: a named ruleset, or `auto` by the message's date.
//!
//! | ruleset | rules |
//! |---|---|
//! | `cbp_2022` | conversation-based pricing v1 (from 2022-02-01): `user_initiated` / `business_initiated` |
//! | `cbp_2023` | conversation-based pricing v2 (from 2023-06-01): `marketing` / `utility` / `authentication` / `service` |
//! | `pmp_2025` | per-message pricing (from 2025-07-01); conversations as `cbp_2023` (WhatsApp still reports them for older API versions and free entry points), prices per message |
//! | `auto` | per message by its UTC date: before 2023-06-01 `cbp_2022`, before 2025-07-01 `cbp_2023`, else `pmp_2025` |
//!
//! `auto` switches at UTC midnight; WhatsApp switched each account at midnight of the account's
//! own time zone, so a message sent within a few hours of a switch may get the neighbouring
//! era's rules. Pass an explicit ruleset where that matters.

use datafusion::common::{Result, plan_err};

/// 2023-06-01T00:00:00Z in microseconds: the start of CBP v2.
const CBP_2023_FROM: i64 = 19_509 * 86_400 * 1_000_000;
/// 2025-07-01T00:00:00Z in microseconds: the start of per-message pricing.
const PMP_2025_FROM: i64 = 20_270 * 86_400 * 1_000_000;

/// One set of rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Rules {
    /// Conversation-based pricing v1.
    Cbp2022,
    /// Conversation-based pricing v2.
    Cbp2023,
    /// Per-message pricing.
    Pmp2025,
}

/// The `ruleset` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ruleset {
    /// The same rules for every message.
    Fixed(Rules),
    /// The rules in force on each message's UTC date.
    Auto,
}

impl Ruleset {
    /// Parses a ruleset name (case-insensitive); the error lists the accepted names.
    pub(crate) fn parse(function: &str, name: &str) -> Result<Self> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "cbp_2022" => Self::Fixed(Rules::Cbp2022),
            "cbp_2023" => Self::Fixed(Rules::Cbp2023),
            "pmp_2025" => Self::Fixed(Rules::Pmp2025),
            "auto" => Self::Auto,
            _ => {
                return plan_err!(
                    "{function}: unknown ruleset '{name}'; expected one of 'cbp_2022', 'cbp_2023', 'pmp_2025', 'auto'"
                );
            }
        })
    }

    /// The rules for a message at `ts` (UTC µs).
    pub(crate) fn rules_at(self, ts: i64) -> Rules {
        match self {
            Self::Fixed(rules) => rules,
            Self::Auto if ts < CBP_2023_FROM => Rules::Cbp2022,
            Self::Auto if ts < PMP_2025_FROM => Rules::Cbp2023,
            Self::Auto => Rules::Pmp2025,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_switches_at_utc_midnight_of_the_cutover_dates() {
        let auto = Ruleset::Auto;
        assert_eq!(auto.rules_at(CBP_2023_FROM - 1), Rules::Cbp2022);
        assert_eq!(auto.rules_at(CBP_2023_FROM), Rules::Cbp2023);
        assert_eq!(auto.rules_at(PMP_2025_FROM - 1), Rules::Cbp2023);
        assert_eq!(auto.rules_at(PMP_2025_FROM), Rules::Pmp2025);
    }

    #[test]
    fn unknown_names_are_refused() {
        assert!(Ruleset::parse("wa_conversations", "CBP_2023").is_ok());
        let err = Ruleset::parse("wa_conversations", "cbp_2024")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unknown ruleset 'cbp_2024'"), "{err}");
    }
}
