//! Dashboards as files: `sql/dashboards/<name>.toml` parsed, checked against the engine's
//! reports and the columns each panel's query returns, and served as JSON
//! (`GET /v1/dashboards`, `GET /v1/dashboards/{name}`).
//!
//! ```toml
//! title = "Glific analytics"
//! description = "..."
//! seed = "001_442a8c49e7c42666.txt"
//! filters = ["range", "channel", "tz"]      # and "campaign"
//!
//! [[panel]]
//! title = "Daily contacts"
//! chart = "line"                            # number line bar stacked_bar pie heatmap funnel table
//! report = "glific_daily_contacts"          # or sql = "SELECT ... $from_date ..."
//! x = "day"
//! y = ["contacts"]
//! value = "messages"                        # number and heatmap panels
//! width = 6                                 # of 12 (default 6, number panels 3)
//! description = "..."                       # default: the report's header comment
//! ```
//!
//! | Check (at start-up; the first failure stops it, naming file, panel and reason) | |
//! |---|---|
//! | TOML | well-formed, `title` and at least one `[[panel]]`; `filters` among `range`, `channel`, `tz`, `campaign` |
//! | panel | exactly one of `report` and `sql`; `chart` one of [`CHARTS`]; `width` 1–12 |
//! | `report` | a report of the engine; becomes `SELECT * FROM report($from_date, …)` with its leading parameters that are placeholders (a report needing any other parameter needs `sql`) |
//! | placeholders | only [`PLACEHOLDERS`] (`$from_date`, `$to_date`, `$channel_id`, `$tz`, `$campaign_id`, `$tenant_id`) |
//! | columns | the query is planned (as `/v1/query` plans it, placeholders replaced by sample literals); `x`, `y` and `value` must be among its columns, and the chart must have the ones it draws: `number` a `value`; `line`, `bar`, `stacked_bar`, `funnel` an `x` and a `y`; `pie` an `x` and one `y`; `heatmap` an `x`, one `y` and a `value` |
//!
//! Keys beyond these (in the file or a panel) are kept and passed through to the pages as
//! they are, so a page can grow an option without a server change.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::engine::reports::ReportDef;
use crate::engine::tenant::TenantScope;
use crate::error::{Error, Result};
use crate::pg::session::Session;

/// The chart kinds a panel may have.
pub const CHARTS: &[&str] = &[
    "number",
    "line",
    "bar",
    "stacked_bar",
    "pie",
    "heatmap",
    "funnel",
    "table",
];

/// The filters a dashboard may offer.
pub const FILTERS: &[&str] = &["range", "channel", "tz", "campaign"];

/// The placeholders panel SQL may use, with the sample literal a panel's query is checked with.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("from_date", "DATE '2026-10-01'"),
    ("to_date", "DATE '2026-10-31'"),
    ("channel_id", "'sample-channel'"),
    ("tz", "'UTC'"),
    ("campaign_id", "'sample-campaign'"),
    ("tenant_id", "'sample-tenant'"),
];

/// One dashboard file, parsed and checked.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    /// The file stem (`glific` for `glific.toml`): the `/d/{name}` of its page.
    pub name: String,
    /// Shown as the page title.
    pub title: String,
    /// One paragraph under the title.
    pub description: String,
    /// The product document (under `reference/seeds/`) the dashboard reproduces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// The filters the page offers, in order.
    pub filters: Vec<String>,
    /// The panels, in order.
    pub panels: Vec<Panel>,
    /// Other keys of the file, passed through.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One panel of a dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct Panel {
    /// Shown above the chart.
    pub title: String,
    /// One of [`CHARTS`].
    pub chart: String,
    /// The report it shows, when it was given as `report` (else `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// The final SQL template, with placeholders ([`PLACEHOLDERS`]).
    pub sql: String,
    /// The category / x-axis column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// The value column(s).
    pub y: Vec<String>,
    /// The single value column (number, heatmap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Grid columns of 12.
    pub width: u8,
    /// The metric's definition: the panel's own, else the report's header comment.
    pub description: String,
    /// The result's column names, in order.
    pub columns: Vec<String>,
    /// Other keys of the panel, passed through.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct DashboardFile {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    seed: Option<String>,
    #[serde(default)]
    filters: Vec<String>,
    #[serde(default, rename = "panel")]
    panels: Vec<PanelFile>,
    #[serde(flatten)]
    extra: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
struct PanelFile {
    title: String,
    chart: String,
    #[serde(default)]
    report: Option<String>,
    #[serde(default)]
    sql: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Vec<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    width: Option<u8>,
    #[serde(default)]
    description: Option<String>,
    #[serde(flatten)]
    extra: BTreeMap<String, toml::Value>,
}

/// One dashboard file to load: where it came from (for errors), its name and its text.
#[derive(Debug, Clone)]
pub struct DashboardSource {
    /// `sql/dashboards/glific.toml` or a path on disk.
    pub origin: String,
    /// The file stem.
    pub name: String,
    /// The TOML text.
    pub text: String,
}

/// The dashboards this binary serves: `sql/dashboards/` of its checkout read from disk in a
/// debug build (so they can be edited without rebuilding), else the embedded files.
pub fn shipped() -> Result<Vec<DashboardSource>> {
    #[cfg(debug_assertions)]
    {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/dashboards");
        if dir.is_dir() {
            return read_dir(&dir);
        }
    }
    Ok(super::assets::EMBEDDED_DASHBOARDS
        .iter()
        .map(|(file, text)| DashboardSource {
            origin: format!("sql/dashboards/{file}"),
            name: file.trim_end_matches(".toml").to_string(),
            text: (*text).to_string(),
        })
        .collect())
}

/// The `*.toml` files of `dir`, sorted by name.
pub fn read_dir(dir: &Path) -> Result<Vec<DashboardSource>> {
    let io = |source| Error::Io {
        context: format!("reading dashboards in {}", dir.display()),
        source,
    };
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            context: format!("reading {}", path.display()),
            source,
        })?;
        sources.push(DashboardSource {
            origin: path.display().to_string(),
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default(),
            text,
        });
    }
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(sources)
}

/// Parses and checks every source against `engine`'s reports and tables (see the module
/// table); the first error names its file.
pub async fn load(sources: &[DashboardSource], engine: &Arc<Engine>) -> Result<Vec<Dashboard>> {
    let session = crate::pg::server::connection_session(&crate::pg::engine_sessions(
        engine.clone(),
        TenantScope::All,
    ));
    let session = &session;
    let reports = engine.reports();
    let mut dashboards = Vec::with_capacity(sources.len());
    for source in sources {
        let dashboard = load_one(source, reports, session)
            .await
            .map_err(|reason| Error::Config(format!("dashboard {}: {reason}", source.origin)))?;
        dashboards.push(dashboard);
    }
    Ok(dashboards)
}

async fn load_one(
    source: &DashboardSource,
    reports: &[Arc<ReportDef>],
    session: &Session,
) -> std::result::Result<Dashboard, String> {
    let file: DashboardFile = toml::from_str(&source.text).map_err(|e| e.to_string())?;
    if file.panels.is_empty() {
        return Err("no [[panel]]".into());
    }
    for filter in &file.filters {
        if !FILTERS.contains(&filter.as_str()) {
            return Err(format!(
                "unknown filter \"{filter}\" (filters: {})",
                FILTERS.join(", ")
            ));
        }
    }
    let mut panels = Vec::with_capacity(file.panels.len());
    for (i, panel) in file.panels.into_iter().enumerate() {
        let label = format!("panel {} \"{}\"", i + 1, panel.title);
        let panel = check_panel(panel, reports, session)
            .await
            .map_err(|reason| format!("{label}: {reason}"))?;
        panels.push(panel);
    }
    Ok(Dashboard {
        name: source.name.clone(),
        title: file.title,
        description: file.description,
        seed: file.seed,
        filters: file.filters,
        panels,
        extra: to_json(file.extra),
    })
}

async fn check_panel(
    panel: PanelFile,
    reports: &[Arc<ReportDef>],
    session: &Session,
) -> std::result::Result<Panel, String> {
    if !CHARTS.contains(&panel.chart.as_str()) {
        return Err(format!(
            "unknown chart kind \"{}\" (charts: {})",
            panel.chart,
            CHARTS.join(", ")
        ));
    }
    let width = panel
        .width
        .unwrap_or(if panel.chart == "number" { 3 } else { 6 });
    if !(1..=12).contains(&width) {
        return Err(format!("width {width} is not between 1 and 12"));
    }
    let (sql, described_by) = match (&panel.report, &panel.sql) {
        (Some(name), None) => {
            let report = reports
                .iter()
                .find(|r| r.name == *name)
                .ok_or_else(|| format!("unknown report \"{name}\""))?;
            (report_call(report)?, Some(report.clone()))
        }
        (None, Some(sql)) => (sql.clone(), first_report_called(sql, reports)),
        _ => return Err("give exactly one of `report` and `sql`".into()),
    };
    let planned = sample_sql(&sql)?;
    let columns = plan_columns(&planned, session)
        .await
        .map_err(|e| format!("its query does not plan: {e} (SQL: {sql})"))?;
    check_chart_columns(&panel, &columns)?;
    let description = panel
        .description
        .clone()
        .or_else(|| described_by.map(|r| r.description.clone()))
        .unwrap_or_default();
    Ok(Panel {
        title: panel.title,
        chart: panel.chart,
        report: panel.report,
        sql,
        x: panel.x,
        y: panel.y,
        value: panel.value,
        width,
        description,
        columns,
        extra: to_json(panel.extra),
    })
}

/// `SELECT * FROM report($from_date, $to_date, …)`: the report's leading parameters that are
/// placeholders; a later one that is required makes the shorthand impossible.
fn report_call(report: &ReportDef) -> std::result::Result<String, String> {
    let mut args = Vec::new();
    let mut rest = report.params.iter();
    for param in rest.by_ref() {
        if PLACEHOLDERS.iter().any(|(name, _)| *name == param.name) {
            args.push(format!("${}", param.name));
        } else {
            if param.required {
                return Err(format!(
                    "report \"{}\" needs parameter {}, which no filter gives: write the panel's `sql` instead",
                    report.name, param.name
                ));
            }
            break;
        }
    }
    if let Some(required) = rest.find(|p| p.required) {
        return Err(format!(
            "report \"{}\" needs parameter {}, which no filter gives: write the panel's `sql` instead",
            report.name, required.name
        ));
    }
    Ok(format!(
        "SELECT * FROM {}({})",
        report.name,
        args.join(", ")
    ))
}

/// The first report `sql` calls (`name(`), for its description.
fn first_report_called(sql: &str, reports: &[Arc<ReportDef>]) -> Option<Arc<ReportDef>> {
    let lower = sql.to_ascii_lowercase();
    reports
        .iter()
        .filter_map(|r| {
            let at = lower.find(&format!("{}(", r.name))?;
            let before = lower[..at].chars().next_back();
            before
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
                .then(|| (at, r.clone()))
        })
        .min_by_key(|(at, _)| *at)
        .map(|(_, r)| r)
}

/// `sql` with each placeholder replaced by its sample literal; an unknown `$name` is an error.
pub fn sample_sql(sql: &str) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        let literal = PLACEHOLDERS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, literal)| *literal)
            .ok_or_else(|| {
                format!(
                    "unknown placeholder ${name} (placeholders: {})",
                    PLACEHOLDERS
                        .iter()
                        .map(|(n, _)| format!("${n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        out.push_str(literal);
        rest = &after[len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The result column names of `sql`, planned as `/v1/query` plans it.
async fn plan_columns(sql: &str, session: &Session) -> std::result::Result<Vec<String>, String> {
    let query = super::query::plan(session, sql)
        .await
        .map_err(|e| format!("{} ({})", e.message, e.sqlstate))?;
    Ok(query
        .columns
        .as_ref()
        .map(|c| c.names().to_vec())
        .unwrap_or_default())
}

/// The chart's columns: present in the result, and the ones its kind draws given.
fn check_chart_columns(panel: &PanelFile, columns: &[String]) -> std::result::Result<(), String> {
    let named = panel.x.iter().chain(&panel.y).chain(panel.value.iter());
    for name in named {
        if !columns.contains(name) {
            return Err(format!(
                "no column \"{name}\" in its result (columns: {})",
                columns.join(", ")
            ));
        }
    }
    let needs = |what: &str, ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(format!("a {} panel needs {what}", panel.chart))
        }
    };
    match panel.chart.as_str() {
        "number" => needs("`value`", panel.value.is_some()),
        "line" | "bar" | "stacked_bar" | "funnel" => {
            needs("`x` and `y`", panel.x.is_some() && !panel.y.is_empty())
        }
        "pie" => needs("`x` and one `y`", panel.x.is_some() && panel.y.len() == 1),
        "heatmap" => needs(
            "`x`, one `y` and `value`",
            panel.x.is_some() && panel.y.len() == 1 && panel.value.is_some(),
        ),
        _ => Ok(()),
    }
}

fn to_json(extra: BTreeMap<String, toml::Value>) -> BTreeMap<String, serde_json::Value> {
    extra
        .into_iter()
        .filter_map(|(k, v)| serde_json::to_value(v).ok().map(|v| (k, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::sample_sql;

    #[test]
    fn placeholders_become_sample_literals() {
        assert_eq!(
            sample_sql("SELECT * FROM r($from_date, $to_date, $tz)").as_deref(),
            Ok("SELECT * FROM r(DATE '2026-10-01', DATE '2026-10-31', 'UTC')")
        );
        let error = sample_sql("SELECT $fromdate").expect_err("unknown placeholder");
        assert!(error.contains("$fromdate"), "{error}");
    }
}
