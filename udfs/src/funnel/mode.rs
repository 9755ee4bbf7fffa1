//! The `mode` argument of `window_funnel`: a comma-separated set of ClickHouse options.

use datafusion::common::{Result, plan_err};

/// The options of one `window_funnel` call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Modes {
    /// `strict_order`: a row matching no condition (or a step out of order) ends the search.
    pub strict_order: bool,
    /// `strict_deduplication`: a repeated step (other than step 1) ends the search.
    pub strict_deduplication: bool,
    /// `strict_increase`: each step needs a strictly later timestamp than the previous one.
    pub strict_increase: bool,
    /// `strict_once`: one row counts for at most one step of a chain.
    pub strict_once: bool,
    /// `allow_reentry` (needs `strict_order`): a step seen too early is ignored, not fatal.
    pub allow_reentry: bool,
}

impl Modes {
    /// Parses `''` or a comma-separated list such as `'strict_order, allow_reentry'`.
    ///
    /// Names are matched case-insensitively after trimming; empty items are ignored. The
    /// pre-2022 name `strict` is rejected as ClickHouse does.
    pub fn parse(text: &str) -> Result<Self> {
        let mut modes = Self::default();
        for item in text.split(',') {
            let name = item.trim().to_ascii_lowercase();
            match name.as_str() {
                "" => {}
                "strict_order" => modes.strict_order = true,
                "strict_deduplication" => modes.strict_deduplication = true,
                "strict_increase" => modes.strict_increase = true,
                "strict_once" => modes.strict_once = true,
                "allow_reentry" => modes.allow_reentry = true,
                "strict" => {
                    return plan_err!(
                        "window_funnel: mode 'strict' was renamed, use 'strict_deduplication'"
                    );
                }
                _ => {
                    return plan_err!(
                        "window_funnel: unknown mode '{}', expected a comma-separated subset of \
                         strict_order, strict_deduplication, strict_increase, strict_once, allow_reentry",
                        item.trim()
                    );
                }
            }
        }
        if modes.allow_reentry && !modes.strict_order {
            return plan_err!("window_funnel: mode allow_reentry requires strict_order");
        }
        Ok(modes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_rejects_bad_names() {
        assert_eq!(Modes::parse("").ok(), Some(Modes::default()));
        let m = Modes::parse(" strict_order ,allow_reentry").ok();
        assert!(m.is_some_and(|m| m.strict_order && m.allow_reentry && !m.strict_once));
        assert!(Modes::parse("strict").is_err());
        assert!(Modes::parse("allow_reentry").is_err());
        assert!(Modes::parse("strict_order,bogus").is_err());
    }
}
