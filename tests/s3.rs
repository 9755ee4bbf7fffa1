//! The lake on a real S3-compatible server: moto's S3 server on loopback (PyPI `moto[server]`,
//! installed by `scripts/test`). The generator writes into a bucket, the engine queries it,
//! and the answers equal those of the same generation on local disk.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::moto::{create_bucket, start_moto};

use chatlake::config::EngineConfig;
use chatlake::engine::Engine;
use chatlake::lake::{Lake, StoreOptions};
use futures::TryStreamExt;

use common::table_counts as counts;

#[tokio::test]
async fn generate_into_s3_and_query_it() {
    let moto = start_moto();
    create_bucket(&moto.endpoint, "chatlake-test");
    let options = StoreOptions {
        endpoint: Some(moto.endpoint.clone()),
        region: Some("us-east-1".into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: true,
    };
    let mut cfg = common::fixture_config();
    cfg.contacts = 400;
    cfg.days = 7;

    let url = "s3://chatlake-test/lakes/demo";
    common::write_lake(url, &options, &cfg).await;

    // The bucket holds a Delta table per table: a commit log and Hive-partitioned Parquet.
    let lake = Lake::open(url, &options).expect("lake");
    let keys: Vec<String> = lake
        .object_store()
        .list(Some(&object_store::path::Path::from("lakes/demo/messages")))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .expect("list");
    assert!(
        keys.iter()
            .any(|k| k.starts_with("lakes/demo/messages/_delta_log/") && k.ends_with(".json"))
    );
    assert!(
        keys.iter()
            .any(|k| k.contains("/messages/dt=") && k.ends_with(".parquet"))
    );

    let mut s3_config = EngineConfig::new(url);
    s3_config.store = options;
    let from_s3 = counts(&s3_config).await;

    let local = common::cli::fresh_path("s3-twin");
    common::write_lake(&local.to_string_lossy(), &StoreOptions::default(), &cfg).await;
    let from_disk = counts(&EngineConfig::new(local.to_string_lossy())).await;

    assert_eq!(from_s3, from_disk);
    // Every table the generator fills has rows (webhook bodies and the page's comment replies
    // come only from ingest: the generator's comments carry their outcome themselves).
    assert!(
        from_s3.iter().all(|(table, n)| *n > 0
            || table.starts_with("webhook_")
            || *table == "comment_replies"),
        "{from_s3:?}"
    );
}

#[tokio::test]
async fn an_unreachable_s3_endpoint_is_a_clear_error() {
    // Nothing listens on this port (bound and released).
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut config = EngineConfig::new("s3://nowhere/lake");
    config.store = StoreOptions {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: Some("us-east-1".into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: true,
    };
    let started = Instant::now();
    let err = Engine::open(&config).await.expect_err("unreachable");
    let text = chatlake::error::report(&err);
    assert!(text.contains("s3://nowhere/lake"), "names the lake: {text}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "fails in reasonable time"
    );
}
