//! The console's dashboard files (`chatlake::http::dashboards`) loaded and checked against an
//! engine over the fixture lake: the fixtures of `tests/fixtures/dashboards/` (one good, each
//! other one wrong in one way, whose error must name the file, the panel and the reason), and
//! every dashboard shipped in `sql/dashboards/`. The query API itself is tested from Python
//! against pgwire (`tests/python/test_query_api.py`).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chatlake::config::EngineConfig;
use chatlake::engine::Engine;
use chatlake::http::dashboards::{CHARTS, DashboardSource, load, read_dir};

async fn engine() -> Arc<Engine> {
    let lake = common::fixture_lake().await;
    Arc::new(
        Engine::open(&EngineConfig::new(lake.to_string_lossy().to_string()))
            .await
            .expect("open the fixture lake"),
    )
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dashboards")
}

fn fixture(name: &str) -> DashboardSource {
    read_dir(&fixtures())
        .expect("read the fixtures")
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

/// The error loading fixture `name` gives.
async fn load_error(engine: &Arc<Engine>, name: &str) -> String {
    match load(&[fixture(name)], engine).await {
        Ok(_) => panic!("{name} loaded, but it is wrong"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_good_dashboard_loads_with_final_sql_descriptions_and_defaults() {
    let engine = engine().await;
    let loaded = load(&[fixture("good")], &engine)
        .await
        .expect("good.toml loads");
    let good = &loaded[0];
    assert_eq!(good.name, "good");
    assert_eq!(good.title, "Fixture dashboard");
    assert_eq!(good.filters, ["range", "channel", "tz"]);
    assert_eq!(good.extra["theme"], "light");
    let [line, number, heatmap] = good.panels.as_slice() else {
        panic!("three panels, got {}", good.panels.len());
    };
    // The report shorthand: every leading parameter of the report is a placeholder.
    assert_eq!(
        line.sql,
        "SELECT * FROM glific_daily_contacts($from_date, $to_date, $channel_id, $tz)"
    );
    assert_eq!(line.report.as_deref(), Some("glific_daily_contacts"));
    assert_eq!(line.width, 6);
    assert_eq!(line.columns, ["day", "contacts"]);
    // Descriptions: the report's header comment (one line in that report's file).
    let header = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/reports/glific_daily_contacts.sql"),
    )
    .expect("report file");
    let first_line = header.lines().next().expect("a header line");
    assert_eq!(line.description, first_line.trim_start_matches("-- "));
    // An SQL panel takes the description of the report it calls; a number panel is 3 wide.
    assert_eq!(
        number.sql,
        "SELECT inbound FROM glific_summary($from_date, $to_date, $channel_id, $tz)"
    );
    assert!(number.report.is_none());
    assert_eq!(number.width, 3);
    assert!(
        number.description.starts_with("Glific"),
        "{}",
        number.description
    );
    assert_eq!(
        heatmap.description,
        "Inbound messages per weekday and hour."
    );
    assert_eq!(heatmap.width, 12);
    assert_eq!(heatmap.extra["download"], true);
    let json = serde_json::to_value(good).expect("serializes");
    assert_eq!(json["panels"][2]["download"], true);
    assert_eq!(json["panels"][0]["y"], serde_json::json!(["contacts"]));
}

#[tokio::test]
async fn loader_errors_name_the_file_the_panel_and_the_reason() {
    let engine = engine().await;
    let cases = [
        (
            "unknown_report",
            "panel 2 \"Daily contacts\": unknown report \"glific_daily_contactz\"",
        ),
        (
            "unknown_chart",
            "panel 1 \"Contacts\": unknown chart kind \"donut\"",
        ),
        (
            "missing_column",
            "panel 1 \"Daily contacts\": no column \"new_contacts\" in its result (columns: day, contacts)",
        ),
        (
            "unknown_placeholder",
            "panel 1 \"Inbound\": unknown placeholder $until_date",
        ),
        ("bad_toml", "line 4"),
    ];
    for (name, reason) in cases {
        let error = load_error(&engine, name).await;
        let file = fixtures().join(format!("{name}.toml"));
        assert!(
            error.contains(&file.display().to_string()),
            "{name}: the error does not name {}: {error}",
            file.display()
        );
        assert!(
            error.contains(reason),
            "{name}: expected {reason:?} in {error}"
        );
    }
}

#[tokio::test]
async fn every_shipped_dashboard_loads_and_names_reports_and_columns_that_exist() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/dashboards");
    if !dir.is_dir() {
        return; // No dashboards shipped yet: nothing to check.
    }
    let sources = read_dir(&dir).expect("read sql/dashboards");
    let engine = engine().await;
    let dashboards = load(&sources, &engine)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dashboards.len(), sources.len());
    let reports: Vec<&str> = engine.reports().iter().map(|r| r.name.as_str()).collect();
    for dashboard in &dashboards {
        assert!(!dashboard.panels.is_empty(), "{}", dashboard.name);
        for panel in &dashboard.panels {
            assert!(CHARTS.contains(&panel.chart.as_str()));
            if let Some(report) = &panel.report {
                assert!(reports.contains(&report.as_str()), "{report}");
            }
            for column in panel.x.iter().chain(&panel.y).chain(panel.value.iter()) {
                assert!(panel.columns.contains(column), "{}: {column}", panel.title);
            }
        }
    }
}
