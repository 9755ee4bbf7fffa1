//! `chatlake ingest --format whatsapp-webhook|messenger-webhook|instagram-webhook`, then
//! `--replay-unrouted` and `--reparse`.
//!
//! WhatsApp: the sample bodies of
//! `data/sample/whatsapp_webhooks.ndjson` (a logging proxy's file: one body per line) into a lake
//! holding the other sample files, read back with `chatlake sql`. Expected rows are worked out by
//! hand from the file: its times are epoch seconds, 2026-10-01T00:00:00Z = 1790812800, so
//! 1791021600 = 2026-10-03T10:00:00Z; contacts' other columns come from data/sample/contacts.csv.
//!
//! The file: (1) Asha's text on pn-1 (channel wa-main), (2-4) sent/delivered/read of our
//! wamid.O1 (PMP, regular, utility), (5) Chris's button reply to wamid.O1, (6) wamid.O2 failed
//! with 131026, (7) wamid.O3 sent in a free-entry-point conversation fep-77 (expires 1791281400),
//! (8) a text to pn-9, which no channel has, (9) a redelivery of line 1, (10) a text from a
//! username-only user (BSUID IN.4455667788, profile "Dev").

mod common;

use common::cli::{chatlake, ingest_sample_channels, ok, sample, sql};

use std::path::{Path, PathBuf};
use std::process::Output;

fn fresh_dir(name: &str) -> PathBuf {
    common::cli::fresh_dir(&format!("ingest-webhooks-{name}"))
}

/// A lake with the sample tenant, channels (pn-1 = wa-main, pn-2 = wa-cloud) and contacts.
fn lake_with_channels(name: &str) -> PathBuf {
    let lake = fresh_dir(name).join("lake");
    ingest_sample_channels(&lake);
    lake
}

fn ingest_webhooks(lake: &Path, files: &[&Path], extra: &[&str]) -> Output {
    ingest_format(lake, "whatsapp-webhook", files, extra)
}

fn ingest_format(lake: &Path, format: &str, files: &[&Path], extra: &[&str]) -> Output {
    common::cli::ingest_files(lake, "--format", format, files, extra)
}

const MESSAGES: &str = "SELECT message_id, channel_id, contact_id, coalesce(wa_id, '-'), msg_type, \
    coalesce(interaction_id, '-'), coalesce(context_message_id, '-'), coalesce(body_text, '-'), \
    coalesce(country_code, '-'), author_type, to_unixtime(ts) \
    FROM messages WHERE message_id LIKE 'wamid.%' ORDER BY message_id";
const STATUSES: &str = "SELECT message_id, status, coalesce(pricing_model, '-'), \
    coalesce(pricing_type, '-'), coalesce(pricing_category, '-'), \
    coalesce(CAST(error_code AS VARCHAR), '-'), coalesce(error_bucket, '-'), to_unixtime(ts) \
    FROM message_statuses WHERE message_id LIKE 'wamid.%' ORDER BY message_id, ts";
const CONVERSATIONS: &str = "SELECT conversation_id, channel_id, contact_id, waba_id, origin, \
    pricing_model, billable, country_code, source, to_unixtime(opened_at), to_unixtime(expires_at) \
    FROM conversations WHERE source = 'webhook' ORDER BY conversation_id";
const CONTACTS: &str = "SELECT contact_id, coalesce(wa_id, '-'), coalesce(name, '-'), \
    coalesce(language, '-'), coalesce(optin_status, '-'), coalesce(country_code, '-'), \
    to_unixtime(created_at), to_unixtime(updated_at) FROM contacts \
    WHERE channel_id = 'wa-main' AND contact_id IN ('919876543210', '447400999888', 'bsuid:IN.4455667788') \
    ORDER BY contact_id";

fn expected_messages() -> Vec<String> {
    [
        "wamid.B1,wa-main,bsuid:IN.4455667788,-,text,-,-,hello,-,contact,1791022400",
        "wamid.C1,wa-main,447400999888,447400999888,interactive,track,wamid.O1,Track order,GB,contact,1791022000",
        "wamid.S1,wa-main,919876543210,919876543210,text,-,-,\"Hi, is my order shipped?\",IN,contact,1791021600",
    ]
    .map(String::from)
    .to_vec()
}

fn expected_statuses() -> Vec<String> {
    [
        "wamid.O1,sent,PMP,regular,utility,-,-,1791021660",
        "wamid.O1,delivered,PMP,regular,utility,-,-,1791021665",
        "wamid.O1,read,PMP,regular,utility,-,-,1791021700",
        "wamid.O2,failed,-,-,-,131026,undeliverable,1791022100",
        "wamid.O3,sent,PMP,free_entry_point,referral_conversion,-,-,1791022200",
    ]
    .map(String::from)
    .to_vec()
}

fn expected_contacts() -> Vec<String> {
    [
        // New: created and updated at Chris's message.
        "447400999888,447400999888,Chris,-,-,GB,1791022000,1791022000",
        // Stored (contacts.csv: Asha, en, opted_in, created 2026-10-01T08:00:00Z = 1790841600):
        // the profile renames her, the rest is kept, updated at her message.
        "919876543210,919876543210,Asha K,en,opted_in,IN,1790841600,1791021600",
        "bsuid:IN.4455667788,-,Dev,-,-,-,1791022400,1791022400",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn the_sample_bodies_load_into_every_table_once() {
    let lake = lake_with_channels("sample");
    let file = sample("whatsapp_webhooks.ndjson");
    let summary = ok(&ingest_webhooks(&lake, &[&file], &[]));
    assert!(
        summary.contains("ingested 10 WhatsApp webhook bodies")
            && summary
                .contains("0 bad lines, 1 unrouted (kept in webhook_unrouted), 0 events skipped"),
        "{summary}"
    );
    for part in [
        "messages +3 (1 duplicates)",
        "message_statuses +5 (0 duplicates)",
        "conversations +1 (0 duplicates)",
        "contacts +3",
        "webhook_bodies +9 (1 duplicates)",
        "webhook_unrouted +1 (0 duplicates)",
    ] {
        assert!(summary.contains(part), "{part}: {summary}");
    }

    let check = |lake: &Path| {
        assert_eq!(sql(lake, MESSAGES), expected_messages());
        assert_eq!(sql(lake, STATUSES), expected_statuses());
        // 1791281400 - 72 h (259200 s) = 1791022200: a free-entry-point window.
        assert_eq!(
            sql(lake, CONVERSATIONS),
            vec![
                "fep-77,wa-main,447400999888,waba-1,referral_conversion,PMP,false,GB,webhook,1791022200,1791281400"
            ]
        );
        assert_eq!(sql(lake, CONTACTS), expected_contacts());
        // Nine distinct bodies; the one for pn-9 belongs to no tenant.
        assert_eq!(
            sql(
                lake,
                "SELECT count(*), count(DISTINCT body_sha256), count(tenant_id), min(platform) FROM webhook_bodies"
            ),
            vec!["9,9,8,whatsapp"]
        );
        assert_eq!(
            sql(
                lake,
                "SELECT coalesce(tenant_id, '-'), phone_number_id, reason, to_unixtime(ts) FROM webhook_unrouted"
            ),
            vec!["-,pn-9,phone_number_id pn-9 is in no channels row,1791022300"]
        );
    };
    check(&lake);

    // The unrouted body and a routed one are kept byte for byte.
    let text = std::fs::read_to_string(&file).expect("read sample");
    let lines: Vec<&str> = text.lines().collect();
    let unrouted_sha = chatlake::ingest::whatsapp::sha256_hex(lines[7].as_bytes());
    assert_eq!(
        sql(&lake, "SELECT body_sha256 FROM webhook_unrouted"),
        vec![unrouted_sha.clone()]
    );
    assert_eq!(
        sql(
            &lake,
            &format!(
                "SELECT count(*) FROM webhook_bodies WHERE body_sha256 = '{unrouted_sha}' AND tenant_id IS NULL"
            )
        ),
        vec!["1"]
    );
    let first_sha = chatlake::ingest::whatsapp::sha256_hex(lines[0].as_bytes());
    assert_eq!(
        sql(
            &lake,
            &format!(
                "SELECT tenant_id, octet_length(body), to_unixtime(ts) FROM webhook_bodies WHERE body_sha256 = '{first_sha}'"
            )
        ),
        vec![format!("acme,{},1791021600", lines[0].len())]
    );

    // The same file again adds nothing.
    let again = ok(&ingest_webhooks(&lake, &[&file], &[]));
    for part in [
        "messages +0",
        "message_statuses +0",
        "conversations +0",
        "webhook_bodies +0",
        "webhook_unrouted +0",
    ] {
        assert!(again.contains(part), "{part}: {again}");
    }
    check(&lake);
}

#[test]
fn bad_lines_are_named_and_fail_the_load_unless_kept_aside() {
    let lake = lake_with_channels("bad");
    let dir = lake.parent().expect("dir").to_path_buf();
    let sample_text = std::fs::read_to_string(sample("whatsapp_webhooks.ndjson")).expect("sample");
    let first = sample_text.lines().next().expect("a line");
    let file = dir.join("proxy.ndjson");
    std::fs::write(
        &file,
        format!("{first}\nnot json\n[1,2]\n\n{{\"object\":\"page\",\"entry\":[]}}\n"),
    )
    .expect("write");
    let out = ingest_webhooks(&lake, &[&file], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let name = file.to_string_lossy();
    assert!(
        stderr.contains(&format!("{name}:2: invalid JSON")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{name}:3: not a webhook body: the JSON is not an object"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 of 4 lines are not webhook bodies; nothing was loaded"),
        "{stderr}"
    );
    assert_eq!(sql(&lake, "SELECT count(*) FROM webhook_bodies"), vec!["0"]);
    assert_eq!(
        sql(
            &lake,
            "SELECT count(*) FROM messages WHERE message_id LIKE 'wamid.%'"
        ),
        vec!["0"]
    );

    let rejects = dir.join("rejects.ndjson");
    let summary = ok(&ingest_webhooks(
        &lake,
        &[&file],
        &["--reject-file", &rejects.to_string_lossy()],
    ));
    assert!(summary.contains("2 bad lines (in "), "{summary}");
    let kept = std::fs::read_to_string(&rejects).expect("reject file");
    let kept: Vec<serde_json::Value> = kept
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0]["line"], 2);
    assert_eq!(kept[0]["row"], "not json");
    assert_eq!(kept[1]["line"], 3);
    assert_eq!(kept[1]["row"], "[1,2]");
    // The good lines: Asha's text and a Messenger body, which no WhatsApp channel takes.
    assert_eq!(sql(&lake, "SELECT count(*) FROM webhook_bodies"), vec!["2"]);
    assert_eq!(
        sql(
            &lake,
            "SELECT message_id FROM messages WHERE message_id LIKE 'wamid.%'"
        ),
        vec!["wamid.S1"]
    );
    assert_eq!(
        sql(
            &lake,
            "SELECT coalesce(phone_number_id, '-'), reason FROM webhook_unrouted"
        ),
        // (CSV quotes a field holding a quote.)
        vec!["-,\"object is 'page', not whatsapp_business_account\""]
    );
}

#[test]
fn the_table_flag_and_the_webhook_format_exclude_each_other() {
    let dir = fresh_dir("flags");
    let lake = dir.join("lake").to_string_lossy().to_string();
    let file = sample("whatsapp_webhooks.ndjson")
        .to_string_lossy()
        .to_string();
    let out = chatlake(&[
        "ingest",
        "--lake",
        &lake,
        "--format",
        "whatsapp-webhook",
        "--table",
        "messages",
        &file,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("leave out --table messages"));
    let out = chatlake(&["ingest", "--lake", &lake, &file]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--table is required"));
    // Bodies are routed by their channel: a --tenant would be ignored, so it is refused.
    let out = chatlake(&[
        "ingest",
        "--lake",
        &lake,
        "--format",
        "whatsapp-webhook",
        "--tenant",
        "acme",
        &file,
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--tenant applies to --format glific only")
    );
    // Replay and reparse read the lake's own bodies: no files, a day range that is one.
    for (args, says) in [
        (
            vec!["--replay-unrouted", file.as_str()],
            "cannot be used with",
        ),
        (vec!["--reparse"], "--from <DATE>"),
        (
            vec!["--reparse", "--from", "2026-10-03", "--to", "2026-10-01"],
            "--to 2026-10-01 is before --from 2026-10-03",
        ),
        (
            vec!["--reparse", "--from", "yesterday"],
            "invalid value 'yesterday'",
        ),
    ] {
        let mut full = vec!["ingest", "--lake", lake.as_str()];
        full.extend(args.iter().copied());
        let out = chatlake(&full);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_lake_written_before_the_webhook_tables_reads_them_empty_until_ingest_creates_them() {
    let lake = lake_with_channels("old-lake");
    for table in ["webhook_bodies", "webhook_unrouted"] {
        std::fs::remove_dir_all(lake.join(table)).expect("drop the table, as in an older lake");
    }
    assert_eq!(
        sql(
            &lake,
            "SELECT (SELECT count(*) FROM webhook_bodies) + (SELECT count(*) FROM webhook_unrouted)"
        ),
        vec!["0"]
    );
    ok(&ingest_webhooks(
        &lake,
        &[&sample("whatsapp_webhooks.ndjson")],
        &[],
    ));
    assert!(lake.join("webhook_bodies").join("_delta_log").is_dir());
    assert_eq!(
        sql(
            &lake,
            "SELECT (SELECT count(*) FROM webhook_bodies) AS bodies, (SELECT count(*) FROM webhook_unrouted) AS unrouted"
        ),
        vec!["9,1"]
    );
}

// Messenger and Instagram: data/sample/messenger_webhooks.ndjson and
// instagram_webhooks.ndjson, routed by data/sample/meta_channels.ndjson (page 104445553333 =
// fb-main, Instagram account 17841400000000001 = ig-main). Messaging times are epoch ms:
// 1791021600000 = 2026-10-03T10:00:00Z.
//
// Messenger file: (1) 7001's text m_F1 at 1791021600000, (2) the page's echo m_E1 to 7001 at
// 1791021660000 from the Page Inbox app, (3) its delivery at 1791021665000, (4) 7001's read
// with watermark 1791021660000 at 1791021700000 (covers m_E1), (5) 7002's postback m_P1
// "Track order"/TRACK at 1791021800000, (6) 7003's comment 104445553333_900_1 "Price?" on post
// 104445553333_900, created 1791021900, (7) a redelivery of line 1, (8) a text m_U1 to page
// 999000, which no channel has, (9) 7001's reaction (a heart) to m_E1 at 1791022100000.
//
// Instagram file: (1) 8001's text ig_M1 at 1791021600000, (2) the account's echo ig_E1 from
// app 1217981644879628 at 1791021650000, (3) 8001's read of ig_E1 at 1791021700000, (4) 8002's
// comment 18100000000000001 "Love it" on media 18000000000000001 (entry time 1791021900),
// (5) a redelivery of line 4.

/// A lake with the sample tenant, WhatsApp channels and contacts, and the Messenger and
/// Instagram channels.
fn lake_with_meta_channels(name: &str) -> PathBuf {
    let lake = lake_with_channels(name);
    ok(&chatlake(&[
        "ingest",
        "--lake",
        &lake.to_string_lossy(),
        "--table",
        "channels",
        &sample("meta_channels.ndjson").to_string_lossy(),
    ]));
    lake
}

const META_MESSAGES: &str = "SELECT message_id, channel_id, direction, contact_id, msg_type, \
    coalesce(interaction_id, '-'), coalesce(body_text, '-'), author_type, coalesce(author_id, '-'), \
    coalesce(CAST(in_csw AS VARCHAR), '-'), to_unixtime(ts) \
    FROM messages WHERE channel_id IN ('fb-main', 'ig-main', 'fb-nine') ORDER BY message_id";
const META_STATUSES: &str = "SELECT message_id, channel_id, status, to_unixtime(ts) \
    FROM message_statuses WHERE channel_id IN ('fb-main', 'ig-main') ORDER BY message_id, ts";
const META_COMMENTS: &str = "SELECT comment_id, channel_id, post_id, contact_id, text, matched, \
    to_unixtime(ts) FROM comments ORDER BY comment_id";

fn messenger_messages() -> Vec<String> {
    [
        // The echo: 7001 wrote at 10:00, so the customer-service window is open at 10:01.
        "m_E1,fb-main,outbound,7001,text,-,\"Yes, in 3 days\",agent,263902037430900,true,1791021660",
        "m_F1,fb-main,inbound,7001,text,-,\"Hi, do you ship to Pune?\",contact,-,-,1791021600",
        "m_P1,fb-main,inbound,7002,button,TRACK,Track order,contact,-,-,1791021800",
        // A reaction has no mid: its id is its sender's and time's.
        "reaction:7001:1791022100000,fb-main,inbound,7001,reaction,-,\u{2764},contact,-,-,1791022100",
    ]
    .map(String::from)
    .to_vec()
}

fn messenger_statuses() -> Vec<String> {
    [
        "m_E1,fb-main,delivered,1791021665",
        "m_E1,fb-main,read,1791021700",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn messenger_bodies_load_into_messages_statuses_and_comments_once() {
    let lake = lake_with_meta_channels("messenger");
    let file = sample("messenger_webhooks.ndjson");
    let summary = ok(&ingest_format(&lake, "messenger-webhook", &[&file], &[]));
    assert!(
        summary.contains("ingested 9 Messenger webhook bodies")
            && summary
                .contains("0 bad lines, 1 unrouted (kept in webhook_unrouted), 0 events skipped"),
        "{summary}"
    );
    for part in [
        "messages +4 (1 duplicates)",
        "message_statuses +2 (0 duplicates)",
        "comments +1 (0 duplicates)",
        "webhook_bodies +8 (1 duplicates)",
        "webhook_unrouted +1 (0 duplicates)",
    ] {
        assert!(summary.contains(part), "{part}: {summary}");
    }
    let check = |lake: &Path| {
        assert_eq!(sql(lake, META_MESSAGES), messenger_messages());
        assert_eq!(sql(lake, META_STATUSES), messenger_statuses());
        assert_eq!(
            sql(lake, META_COMMENTS),
            vec!["104445553333_900_1,fb-main,104445553333_900,7003,Price?,false,1791021900"]
        );
        assert_eq!(
            sql(
                lake,
                "SELECT count(*), count(DISTINCT body_sha256), count(tenant_id), min(platform), max(platform) FROM webhook_bodies"
            ),
            vec!["8,8,7,messenger,messenger"]
        );
        assert_eq!(
            sql(
                lake,
                "SELECT platform, phone_number_id, reason, to_unixtime(ts) FROM webhook_unrouted"
            ),
            vec!["messenger,999000,page_id 999000 is in no messenger channels row,1791022000"]
        );
    };
    check(&lake);
    // No contacts rows: Messenger webhooks carry no profile.
    assert_eq!(
        sql(
            &lake,
            "SELECT count(*) FROM contacts WHERE channel_id = 'fb-main'"
        ),
        vec!["0"]
    );
    let again = ok(&ingest_format(&lake, "messenger-webhook", &[&file], &[]));
    for part in [
        "messages +0",
        "message_statuses +0",
        "comments +0",
        "webhook_bodies +0",
        "webhook_unrouted +0",
    ] {
        assert!(again.contains(part), "{part}: {again}");
    }
    check(&lake);
}

#[test]
fn instagram_bodies_load_and_feed_the_comment_reports() {
    let lake = lake_with_meta_channels("instagram");
    ok(&ingest_format(
        &lake,
        "messenger-webhook",
        &[&sample("messenger_webhooks.ndjson")],
        &[],
    ));
    let summary = ok(&ingest_format(
        &lake,
        "instagram-webhook",
        &[&sample("instagram_webhooks.ndjson")],
        &[],
    ));
    assert!(
        summary.contains("ingested 5 Instagram webhook bodies")
            && summary
                .contains("0 bad lines, 0 unrouted (kept in webhook_unrouted), 0 events skipped")
            && summary.contains("comments +1 (1 duplicates)")
            && summary.contains("webhook_bodies +4 (1 duplicates)"),
        "{summary}"
    );
    let messages: Vec<String> = sql(&lake, META_MESSAGES)
        .into_iter()
        .filter(|r| r.contains(",ig-main,"))
        .collect();
    assert_eq!(
        messages,
        vec![
            "ig_E1,ig-main,outbound,8001,text,-,Yes!,api,1217981644879628,true,1791021650",
            "ig_M1,ig-main,inbound,8001,text,-,Is the blue one in stock?,contact,-,-,1791021600",
        ]
    );
    let statuses: Vec<String> = sql(&lake, META_STATUSES)
        .into_iter()
        .filter(|r| r.contains(",ig-main,"))
        .collect();
    assert_eq!(statuses, vec!["ig_E1,ig-main,read,1791021700"]);
    assert_eq!(
        sql(
            &lake,
            "SELECT platform, count(*) FROM webhook_bodies GROUP BY platform ORDER BY platform"
        ),
        vec!["instagram,4", "messenger,8"]
    );
    // Stella's comment reports over the two comments (none matched: webhooks do not say).
    assert_eq!(
        sql(
            &lake,
            "SELECT post_id, comments, matched, unmatched FROM stella_comment_replies('2026-10-01', '2026-10-31')"
        ),
        vec!["104445553333_900,1,0,1", "18000000000000001,1,0,1"]
    );
    assert_eq!(
        sql(
            &lake,
            "SELECT comment_id, contact_id, text, matched FROM stella_comment_details('18000000000000001', '2026-10-01', '2026-10-31')"
        ),
        vec!["18100000000000001,8002,Love it,false"]
    );
    assert_eq!(
        sql(
            &lake,
            "SELECT day, comment_active_users FROM stella_active_users('2026-10-03', '2026-10-03')"
        ),
        vec!["2026-10-03,2"]
    );
}

/// Replays `webhook_unrouted` into `lake`.
fn replay(lake: &Path) -> String {
    ok(&chatlake(&[
        "ingest",
        "--lake",
        &lake.to_string_lossy(),
        "--replay-unrouted",
    ]))
}

#[test]
fn a_new_channel_routes_the_kept_bodies_once_even_after_a_crash_before_the_delete() {
    let lake = lake_with_meta_channels("replay");
    ok(&ingest_webhooks(
        &lake,
        &[&sample("whatsapp_webhooks.ndjson")],
        &[],
    ));
    ok(&ingest_format(
        &lake,
        "messenger-webhook",
        &[&sample("messenger_webhooks.ndjson")],
        &[],
    ));
    assert_eq!(
        sql(
            &lake,
            "SELECT phone_number_id FROM webhook_unrouted ORDER BY 1"
        ),
        vec!["999000", "pn-9"]
    );
    // Nothing routes yet: nothing happens.
    let idle = replay(&lake);
    assert!(idle.contains("replayed 0 webhook bodies"), "{idle}");
    assert!(
        idle.contains("0 rows removed (now routed), 2 left"),
        "{idle}"
    );

    let dir = lake.parent().expect("dir").to_path_buf();
    let channels = dir.join("new_channels.ndjson");
    std::fs::write(
        &channels,
        concat!(
            r#"{"tenant_id":"acme","channel_id":"fb-nine","channel_type":"messenger","page_id":"999000"}"#,
            "
",
            r#"{"tenant_id":"acme","channel_id":"wa-nine","channel_type":"whatsapp","phone_number_id":"pn-9"}"#,
            "
"
        ),
    )
    .expect("write channels");
    ok(&chatlake(&[
        "ingest",
        "--lake",
        &lake.to_string_lossy(),
        "--table",
        "channels",
        &channels.to_string_lossy(),
    ]));
    // A crash after the rows' commits and before the delete: keep the unrouted table as it is
    // now, and put it back after the replay.
    let unrouted_dir = lake.join("webhook_unrouted");
    let saved = dir.join("webhook_unrouted.before");
    copy_dir(&unrouted_dir, &saved);

    let routed = |lake: &Path| {
        assert_eq!(
            sql(
                lake,
                "SELECT message_id, channel_id, contact_id, coalesce(body_text, '-') FROM messages \
                 WHERE channel_id IN ('fb-nine', 'wa-nine') ORDER BY message_id"
            ),
            vec![
                "m_U1,fb-nine,7009,hello?",
                "wamid.U1,wa-nine,919876543210,wrong number?"
            ]
        );
    };
    let first = replay(&lake);
    assert!(first.contains("replayed 2 webhook bodies"), "{first}");
    assert!(first.contains("messages +2 (0 duplicates)"), "{first}");
    assert!(
        first.contains("webhook_bodies +0 (2 duplicates)"),
        "{first}"
    );
    assert!(
        first.contains("2 rows removed (now routed), 0 left"),
        "{first}"
    );
    routed(&lake);
    assert_eq!(
        sql(&lake, "SELECT count(*) FROM webhook_unrouted"),
        vec!["0"]
    );
    // The body rows stay, once each.
    assert_eq!(
        sql(&lake, "SELECT count(*) FROM webhook_bodies"),
        vec!["17"]
    );

    std::fs::remove_dir_all(&unrouted_dir).expect("drop");
    copy_dir(&saved, &unrouted_dir);
    assert_eq!(
        sql(&lake, "SELECT count(*) FROM webhook_unrouted"),
        vec!["2"]
    );
    let after_crash = replay(&lake);
    assert!(
        after_crash.contains("messages +0 (2 duplicates)"),
        "{after_crash}"
    );
    assert!(after_crash.contains("2 rows removed"), "{after_crash}");
    routed(&lake);
    assert_eq!(
        sql(&lake, "SELECT count(*) FROM webhook_unrouted"),
        vec!["0"]
    );

    // Once more: nothing left to do, nothing added.
    let rerun = replay(&lake);
    assert!(rerun.contains("replayed 0 webhook bodies"), "{rerun}");
    routed(&lake);
    assert_eq!(
        sql(
            &lake,
            "SELECT count(*) FROM messages WHERE message_id IN ('m_U1', 'wamid.U1')"
        ),
        vec!["2"]
    );
}

/// Copies directory `from` to `to` (recursively).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn reparse_re_derives_a_day_by_natural_key() {
    let lake = lake_with_meta_channels("reparse");
    // What an older parser might have written for m_F1: another text. The webhook's m_F1 is a
    // duplicate of it on ingest.
    let dir = lake.parent().expect("dir").to_path_buf();
    let old = dir.join("old_parse.ndjson");
    std::fs::write(
        &old,
        r#"{"tenant_id":"acme","channel_id":"fb-main","message_id":"m_F1","direction":"inbound","ts":"2026-10-03T10:00:00Z","contact_id":"7001","msg_type":"unsupported","body_text":"garbled"}"#,
    )
    .expect("write");
    ok(&chatlake(&[
        "ingest",
        "--lake",
        &lake.to_string_lossy(),
        "--table",
        "messages",
        &old.to_string_lossy(),
    ]));
    ok(&ingest_format(
        &lake,
        "messenger-webhook",
        &[&sample("messenger_webhooks.ndjson")],
        &[],
    ));
    ok(&ingest_format(
        &lake,
        "instagram-webhook",
        &[&sample("instagram_webhooks.ndjson")],
        &[],
    ));
    assert_eq!(
        sql(
            &lake,
            "SELECT msg_type, body_text FROM messages WHERE message_id = 'm_F1'"
        ),
        vec!["unsupported,garbled"]
    );
    let counts = "SELECT (SELECT count(*) FROM messages) AS m, (SELECT count(*) FROM message_statuses) AS s, \
        (SELECT count(*) FROM comments) AS c, (SELECT count(*) FROM webhook_bodies) AS b, \
        (SELECT count(*) FROM webhook_unrouted) AS u";
    let before = sql(&lake, counts);
    let reparse = |lake: &Path| {
        ok(&chatlake(&[
            "ingest",
            "--lake",
            &lake.to_string_lossy(),
            "--reparse",
            "--from",
            "2026-10-03",
        ]))
    };
    let summary = reparse(&lake);
    // 8 Messenger and 4 Instagram bodies that day.
    assert!(
        summary.contains("re-derived 12 webhook bodies"),
        "{summary}"
    );
    // The day's rows, the same rows: m_F1 corrected, nothing doubled.
    assert_eq!(sql(&lake, counts), before);
    assert_eq!(
        sql(
            &lake,
            "SELECT msg_type, body_text FROM messages WHERE message_id = 'm_F1'"
        ),
        vec!["text,\"Hi, do you ship to Pune?\""]
    );
    let mut expected = messenger_messages();
    expected.extend([
        "ig_E1,ig-main,outbound,8001,text,-,Yes!,api,1217981644879628,true,1791021650".to_string(),
        "ig_M1,ig-main,inbound,8001,text,-,Is the blue one in stock?,contact,-,-,1791021600"
            .to_string(),
    ]);
    expected.sort();
    assert_eq!(sql(&lake, META_MESSAGES), expected);
    let statuses: Vec<String> = sql(&lake, META_STATUSES);
    assert_eq!(
        statuses,
        vec![
            "ig_E1,ig-main,read,1791021700",
            "m_E1,fb-main,delivered,1791021665",
            "m_E1,fb-main,read,1791021700"
        ]
    );
    // Twice: the same.
    reparse(&lake);
    assert_eq!(sql(&lake, counts), before);
    assert_eq!(sql(&lake, META_MESSAGES), expected);
    // A day without bodies re-derives nothing.
    let empty = ok(&chatlake(&[
        "ingest",
        "--lake",
        &lake.to_string_lossy(),
        "--reparse",
        "--from",
        "2026-10-04",
        "--to",
        "2026-10-05",
    ]));
    assert!(empty.contains("re-derived 0 webhook bodies"), "{empty}");
}

#[test]
fn a_messenger_read_watermark_finds_the_stored_messages_it_covers() {
    let lake = lake_with_meta_channels("watermark");
    let dir = lake.parent().expect("dir").to_path_buf();
    let text = std::fs::read_to_string(sample("messenger_webhooks.ndjson")).expect("sample");
    let lines: Vec<&str> = text.lines().collect();
    let part = |name: &str, wanted: &[usize]| {
        let path = dir.join(name);
        let body: Vec<&str> = wanted.iter().map(|i| lines[*i]).collect();
        std::fs::write(&path, body.join("\n") + "\n").expect("write");
        path
    };
    // The text, the echo and its delivery first; the read (line 4) in a later load, so the
    // echo it covers is found in the lake.
    let first = part("first.ndjson", &[0, 1, 2]);
    ok(&ingest_format(&lake, "messenger-webhook", &[&first], &[]));
    assert_eq!(
        sql(&lake, META_STATUSES),
        vec!["m_E1,fb-main,delivered,1791021665"]
    );
    let read = part("read.ndjson", &[3]);
    let summary = ok(&ingest_format(&lake, "messenger-webhook", &[&read], &[]));
    assert!(
        summary.contains("message_statuses +1 (0 duplicates)"),
        "{summary}"
    );
    assert_eq!(sql(&lake, META_STATUSES), messenger_statuses());
    // A later read (watermark 10:05, at 10:06) covers m_E1 again: it is read already, no row.
    let later = dir.join("later.ndjson");
    std::fs::write(
        &later,
        r#"{"object":"page","entry":[{"id":"104445553333","time":1791021960000,"messaging":[{"sender":{"id":"7001"},"recipient":{"id":"104445553333"},"timestamp":1791021960000,"read":{"watermark":1791021900000}}]}]}"#,
    )
    .expect("write");
    let summary = ok(&ingest_format(&lake, "messenger-webhook", &[&later], &[]));
    assert!(!summary.contains("message_statuses +"), "{summary}");
    assert_eq!(sql(&lake, META_STATUSES), messenger_statuses());
}

// Business-scoped user ids (reference 5.5). 2026-10-04T08:00:00Z = 1791100800. Mei (BSUID
// IN.1001, phone 919812345678) writes first with a username only (M1, 08:00), then with her
// number (M2, 09:00); Tom (GB.2002, phone 447400999777) first with his number (T1, 08:30), then
// with a username only (T2, 09:30); our message to Mei's BSUID reports conversation conv-m
// (sent 09:10 = 1791105000, expires 24 h later).

/// A WhatsApp body of phone number pn-1 (channel wa-main) with `members` in its value.
fn wa_body(members: &str) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"waba-1","changes":[{{"value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"919800000001","phone_number_id":"pn-1"}},{members}}},"field":"messages"}}]}}]}}"#
    )
}

/// A text `id` at `ts` (epoch seconds) from the user of BSUID `user`, named `name`, with the
/// phone number `phone` in `from` and `contacts[].wa_id` when the user has no username.
fn wa_text(id: &str, ts: i64, user: &str, phone: Option<&str>, name: &str) -> String {
    let wa_id = phone.map_or(String::new(), |p| format!(r#""wa_id":"{p}","#));
    let from = phone.map_or(String::new(), |p| format!(r#""from":"{p}","#));
    wa_body(&format!(
        r#""contacts":[{{"profile":{{"name":"{name}"}},{wa_id}"user_id":"{user}"}}],"messages":[{{{from}"from_user_id":"{user}","id":"{id}","timestamp":"{ts}","type":"text","text":{{"body":"hi"}}}}]"#
    ))
}

/// The BSUID bodies in arrival order: M1, T1, M2, T2, the status to Mei.
fn bsuid_bodies() -> Vec<String> {
    let (mei, tom) = (Some("919812345678"), Some("447400999777"));
    vec![
        wa_text("wamid.M1", 1_791_100_800, "IN.1001", None, "Mei"),
        wa_text("wamid.T1", 1_791_102_600, "GB.2002", tom, "Tom"),
        wa_text("wamid.M2", 1_791_104_400, "IN.1001", mei, "Mei"),
        wa_text("wamid.T2", 1_791_106_200, "GB.2002", None, "Tom"),
        wa_body(
            r#""statuses":[{"id":"wamid.OUT-M","status":"sent","timestamp":"1791105000","recipient_user_id":"IN.1001","recipient_type":"individual","conversation":{"id":"conv-m","expiration_timestamp":"1791191400","origin":{"type":"service"}},"pricing":{"pricing_model":"CBP","billable":true,"category":"service"}}]"#,
        ),
    ]
}

/// Writes `bodies` as one file of `dir`, one body per line.
fn bodies_file(dir: &Path, name: &str, bodies: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bodies.join("\n") + "\n").expect("write bodies");
    path
}

const BSUID_MESSAGES: &str = "SELECT message_id, contact_id, coalesce(wa_id, '-'), \
    coalesce(country_code, '-') FROM messages WHERE message_id SIMILAR TO 'wamid.(M|T)[0-9]' \
    ORDER BY message_id";

#[test]
fn a_user_s_bsuid_and_phone_number_are_one_contact_whatever_comes_first() {
    let lake = lake_with_channels("bsuid");
    let dir = lake.parent().expect("dir").to_path_buf();
    // One body per load, in arrival order: each later load finds the links of the earlier.
    for (i, body) in bsuid_bodies().iter().enumerate() {
        let file = bodies_file(
            &dir,
            &format!("body-{i}.ndjson"),
            std::slice::from_ref(body),
        );
        ok(&ingest_webhooks(&lake, &[&file], &[]));
    }
    // Mei keeps the id of her username-only start, Tom his number; each row keeps the number
    // its body gave, and Tom's username-only message gets his from the link.
    let expected = [
        "wamid.M1,bsuid:IN.1001,-,-",
        "wamid.M2,bsuid:IN.1001,919812345678,IN",
        "wamid.T1,447400999777,447400999777,GB",
        "wamid.T2,447400999777,447400999777,GB",
    ];
    assert_eq!(sql(&lake, BSUID_MESSAGES), expected);
    // The user-facing answer: 4 messages from 2 new users (not 4).
    let users =
        "SELECT day, user_messages, new_users FROM stella_users('2026-10-04', '2026-10-04')";
    assert_eq!(sql(&lake, users), vec!["2026-10-04,4,2"]);
    // One profile per user, Mei's with the number she showed later.
    assert_eq!(
        sql(
            &lake,
            "SELECT contact_id, coalesce(wa_id, '-'), name, coalesce(country_code, '-') \
             FROM contacts WHERE name IN ('Mei', 'Tom') ORDER BY contact_id"
        ),
        vec![
            "447400999777,447400999777,Tom,GB",
            "bsuid:IN.1001,919812345678,Mei,IN"
        ]
    );
    let links = "SELECT contact_id, value, method, to_unixtime(ts) FROM contact_events \
        WHERE event_type = 'field_updated' AND key = 'bsuid' ORDER BY value";
    assert_eq!(
        sql(&lake, links),
        vec![
            "447400999777,GB.2002,webhook,1791102600",
            "bsuid:IN.1001,IN.1001,webhook,1791100800"
        ]
    );
    // The status sent to Mei's BSUID: her conversation.
    assert_eq!(
        sql(
            &lake,
            "SELECT conversation_id, contact_id, to_unixtime(opened_at) FROM conversations WHERE conversation_id = 'conv-m'"
        ),
        vec!["conv-m,bsuid:IN.1001,1791105000"]
    );
    // Meta redelivers everything at once: nothing new, no second link.
    let all = bodies_file(&dir, "all.ndjson", &bsuid_bodies());
    let again = ok(&ingest_webhooks(&lake, &[&all], &[]));
    assert!(
        !again.contains("contact_events +") && again.contains("messages +0 (4 duplicates)"),
        "{again}"
    );
    assert_eq!(sql(&lake, BSUID_MESSAGES), expected);

    // Another lake, the same bodies in one load in reverse order: both users are seen with a
    // number in it, so both are named by it.
    let lake = lake_with_channels("bsuid-one-load");
    let mut reversed = bsuid_bodies();
    reversed.reverse();
    let file = bodies_file(&dir, "reversed.ndjson", &reversed);
    let summary = ok(&ingest_webhooks(&lake, &[&file], &[]));
    assert!(summary.contains("contact_events +2"), "{summary}");
    assert_eq!(
        sql(&lake, BSUID_MESSAGES),
        vec![
            "wamid.M1,919812345678,919812345678,IN",
            "wamid.M2,919812345678,919812345678,IN",
            "wamid.T1,447400999777,447400999777,GB",
            "wamid.T2,447400999777,447400999777,GB",
        ]
    );
    assert_eq!(sql(&lake, users), vec!["2026-10-04,4,2"]);
}

/// A Messenger body of page 104445553333 (fb-main) with one messaging `event`.
fn page_event(event: &str) -> String {
    format!(
        r#"{{"object":"page","entry":[{{"id":"104445553333","time":1791100800000,"messaging":[{event}]}}]}}"#
    )
}

#[test]
fn messenger_reactions_referrals_and_optins_become_rows() {
    let lake = lake_with_meta_channels("messenger-kinds");
    let dir = lake.parent().expect("dir").to_path_buf();
    // 7101 writes m_R1 at 08:00, the page answers m_R2 at 08:01, 7101 reacts to it with a
    // thumbs-up at 08:01:40, comes back from ad 6045246247433 at 08:03:20, opts in to the
    // weekly deals at 08:05 and out at 08:06:40.
    let user = r#""sender":{"id":"7101"},"recipient":{"id":"104445553333"}"#;
    let bodies = [
        format!(r#"{{{user},"timestamp":1791100800000,"message":{{"mid":"m_R1","text":"Hi"}}}}"#),
        r#"{"sender":{"id":"104445553333"},"recipient":{"id":"7101"},"timestamp":1791100860000,"message":{"is_echo":true,"mid":"m_R2","text":"Hello!"}}"#.to_string(),
        format!(
            r#"{{{user},"timestamp":1791100900000,"reaction":{{"mid":"m_R2","action":"react","reaction":"like","emoji":"\ud83d\udc4d"}}}}"#
        ),
        format!(
            r#"{{{user},"timestamp":1791101000000,"referral":{{"ref":"oct","ad_id":"6045246247433","source":"ADS","type":"OPEN_THREAD"}}}}"#
        ),
        format!(
            r#"{{{user},"timestamp":1791101100000,"optin":{{"type":"notification_messages","payload":"DEALS","notification_messages_token":"t","notification_messages_frequency":"WEEKLY","notification_messages_status":"RESUME_NOTIFICATIONS"}}}}"#
        ),
        format!(
            r#"{{{user},"timestamp":1791101200000,"optin":{{"type":"notification_messages","payload":"DEALS","notification_messages_token":"t","notification_messages_status":"STOP_NOTIFICATIONS"}}}}"#
        ),
    ]
    .map(|event| page_event(&event));
    let file = bodies_file(&dir, "kinds.ndjson", &bodies);
    let summary = ok(&ingest_format(&lake, "messenger-webhook", &[&file], &[]));
    assert!(summary.contains("0 events skipped"), "{summary}");
    assert_eq!(
        sql(
            &lake,
            "SELECT message_id, direction, msg_type, coalesce(context_message_id, '-'), body_text \
             FROM messages WHERE contact_id = '7101' ORDER BY ts"
        ),
        vec![
            "m_R1,inbound,text,-,Hi",
            "m_R2,outbound,text,-,Hello!",
            "reaction:7101:1791100900000,inbound,reaction,m_R2,\u{1f44d}",
        ]
    );
    assert_eq!(
        sql(
            &lake,
            "SELECT event_type, method, key, value, to_unixtime(ts) FROM contact_events \
             WHERE contact_id = '7101' ORDER BY ts"
        ),
        vec![
            "opted_in,notification_messages,payload,DEALS,1791101100",
            "opted_out,notification_messages,payload,DEALS,1791101200",
        ]
    );
    // What the dashboards show: the referral among the analytics events, the reaction among
    // the user's messages (2 user actions of 1 new user).
    assert_eq!(
        sql(
            &lake,
            "SELECT day, category, action, label, events FROM stella_analytics('2026-10-04', '2026-10-04', 'fb-main')"
        ),
        vec!["2026-10-04,referral,ads,6045246247433,1"]
    );
    assert_eq!(
        sql(
            &lake,
            "SELECT day, user_messages, new_users FROM stella_users('2026-10-04', '2026-10-04', 'fb-main')"
        ),
        vec!["2026-10-04,2,1"]
    );
    let again = ok(&ingest_format(&lake, "messenger-webhook", &[&file], &[]));
    assert!(
        again.contains("messages +0 (3 duplicates)")
            && again.contains("contact_events +0 (2 duplicates)")
            && again.contains("analytics_events +0 (1 duplicates)"),
        "{again}"
    );
}

/// Comments on page post 104445553333_901 and Instagram media 18000000000000009 (2026-10-04),
/// and the page's and account's public replies: 7201's comment _1 (08:00) is answered at
/// 08:01:40, 7202's _2 (08:03:20) is not; 8201's Instagram comment (entry time 08:00) is
/// answered at 08:01:40.
fn comment_bodies() -> (Vec<String>, Vec<String>) {
    let feed = |from: &str, id: &str, parent: &str, created: i64, text: &str| {
        format!(
            r#"{{"object":"page","entry":[{{"id":"104445553333","time":{created},"changes":[{{"field":"feed","value":{{"from":{{"id":"{from}"}},"item":"comment","post_id":"104445553333_901","comment_id":"104445553333_901_{id}","parent_id":"{parent}","verb":"add","created_time":{created},"message":"{text}"}}}}]}}]}}"#
        )
    };
    let ig = |from: &str, id: &str, parent: &str, time: i64, text: &str| {
        format!(
            r#"{{"object":"instagram","entry":[{{"id":"17841400000000001","time":{time},"changes":[{{"field":"comments","value":{{"from":{{"id":"{from}"}},"media":{{"id":"18000000000000009"}},"id":"{id}","parent_id":"{parent}","text":"{text}"}}}}]}}]}}"#
        )
    };
    let comments = vec![
        feed("7201", "1", "104445553333_901", 1_791_100_800, "Size?"),
        feed("7202", "2", "104445553333_901", 1_791_101_000, "Colour?"),
        ig(
            "8201",
            "18100000000000009",
            "18000000000000009",
            1_791_100_800,
            "Cost?",
        ),
    ];
    let replies = vec![
        feed(
            "104445553333",
            "3",
            "104445553333_901_1",
            1_791_100_900,
            "M and L",
        ),
        ig(
            "17841400000000001",
            "18100000000000010",
            "18100000000000009",
            1_791_100_900,
            "Rs 499",
        ),
    ];
    (comments, replies)
}

/// Loads the comment bodies of `platform`'s `format` from `bodies`.
fn ingest_meta(lake: &Path, dir: &Path, name: &str, bodies: &[String]) {
    for (platform, format) in [
        ("page", "messenger-webhook"),
        ("instagram", "instagram-webhook"),
    ] {
        let mine: Vec<String> = bodies
            .iter()
            .filter(|b| b.starts_with(&format!(r#"{{"object":"{platform}""#)))
            .cloned()
            .collect();
        let file = bodies_file(dir, &format!("{name}-{platform}.ndjson"), &mine);
        ok(&ingest_format(lake, format, &[&file], &[]));
    }
}

#[test]
fn a_comment_the_page_answered_is_matched_whichever_webhook_comes_first() {
    let (comments, replies) = comment_bodies();
    let report = "SELECT post_id, comments, matched, unmatched \
        FROM stella_comment_replies('2026-10-04', '2026-10-04')";
    let details = "SELECT comment_id, contact_id, text, matched \
        FROM stella_comment_details('104445553333_901', '2026-10-04', '2026-10-04')";
    let expected_report = vec!["104445553333_901,2,1,1", "18000000000000009,1,1,0"];
    let expected_details = vec![
        "104445553333_901_2,7202,Colour?,false",
        "104445553333_901_1,7201,Size?,true",
    ];
    // Replies before the comments, in separate loads; then the comments before the replies.
    for (name, first, second) in [
        ("replies-first", &replies, &comments),
        ("comments-first", &comments, &replies),
    ] {
        let lake = lake_with_meta_channels(name);
        let dir = lake.parent().expect("dir").to_path_buf();
        ingest_meta(&lake, &dir, "first", first);
        ingest_meta(&lake, &dir, "second", second);
        assert_eq!(sql(&lake, report), expected_report, "{name}");
        assert_eq!(sql(&lake, details), expected_details, "{name}");
        assert_eq!(
            sql(
                &lake,
                "SELECT comment_id, reply_id, reply_kind, to_unixtime(ts) FROM comment_replies ORDER BY reply_id"
            ),
            vec![
                "104445553333_901_1,104445553333_901_3,public,1791100900",
                "18100000000000009,18100000000000010,public,1791100900",
            ],
            "{name}"
        );
        // The replies are no comments received.
        assert_eq!(sql(&lake, "SELECT count(*) FROM comments"), vec!["3"]);
        // Redelivered: nothing new, the same answers.
        ingest_meta(
            &lake,
            &dir,
            "again",
            &[comments.clone(), replies.clone()].concat(),
        );
        assert_eq!(
            sql(
                &lake,
                "SELECT (SELECT count(*) FROM comments) + (SELECT count(*) FROM comment_replies)"
            ),
            vec!["5"]
        );
        assert_eq!(sql(&lake, report), expected_report, "{name}");
    }
}
