//! Progress bars of long command-line work (`ingest`, `export`): drawn on standard error when
//! it is a terminal, hidden otherwise (scripts and tests get the summary line only).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `total` steps drawn with `template` (indicatif's syntax), hidden unless `show` and
/// there is something to count.
pub fn bar(show: bool, total: u64, template: &str) -> ProgressBar {
    if !show || total == 0 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}
