//! Tests of what a user of the generated lake would notice. Expected values come from
//! rules written here by hand (numbering plans, the CSW definition, the era dates), never
//! from the generator's own output.

#![allow(clippy::needless_range_loop)]

use std::collections::{HashMap, HashSet};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int32Type, TimestampMicrosecondType};
use chrono::{NaiveDate, TimeZone, Timelike};

use super::phones::{COUNTRIES, mobile_number};
use super::rng::Rand;
use super::{GenerateConfig, generate_batches};
use crate::lake::schema::table;

fn collect(cfg: &GenerateConfig) -> HashMap<&'static str, RecordBatch> {
    let mut parts: HashMap<&'static str, Vec<RecordBatch>> = HashMap::new();
    generate_batches(cfg, |name, batch| {
        let def = table(name).expect("known table");
        assert_eq!(batch.schema(), def.schema, "schema of {name}");
        parts.entry(name).or_default().push(batch);
        Ok(())
    })
    .expect("generation succeeds");
    parts
        .into_iter()
        .map(|(name, batches)| {
            let schema = table(name).expect("known table").schema.clone();
            (
                name,
                arrow::compute::concat_batches(&schema, &batches).expect("concat"),
            )
        })
        .collect()
}

fn strs(b: &RecordBatch, col: &str) -> Vec<Option<String>> {
    let a = b.column_by_name(col).expect("column").as_string::<i32>();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
        .collect()
}

fn s(b: &RecordBatch, col: &str) -> Vec<String> {
    strs(b, col)
        .into_iter()
        .map(|x| x.expect("not null"))
        .collect()
}

fn tss(b: &RecordBatch, col: &str) -> Vec<Option<i64>> {
    let a = b
        .column_by_name(col)
        .expect("column")
        .as_primitive::<TimestampMicrosecondType>();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

fn ts(b: &RecordBatch, col: &str) -> Vec<i64> {
    tss(b, col)
        .into_iter()
        .map(|x| x.expect("not null"))
        .collect()
}

fn bools(b: &RecordBatch, col: &str) -> Vec<Option<bool>> {
    let a = b.column_by_name(col).expect("column").as_boolean();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

fn i32s(b: &RecordBatch, col: &str) -> Vec<Option<i32>> {
    let a = b
        .column_by_name(col)
        .expect("column")
        .as_primitive::<Int32Type>();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

fn micros(y: i32, m: u32, d: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
        .expect("valid date")
}

fn small() -> GenerateConfig {
    GenerateConfig {
        tenants: 6,
        contacts: 2500,
        days: 45,
        seed: 7,
        ..GenerateConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Phone numbers

const CARIBBEAN_AND_OTHER_NANP: [u16; 28] = [
    242, 246, 264, 268, 284, 340, 345, 441, 473, 649, 658, 664, 670, 671, 684, 721, 758, 767, 784,
    787, 809, 829, 849, 868, 869, 876, 939, 500,
];
const CANADA: [u16; 41] = [
    204, 226, 236, 249, 250, 289, 306, 343, 365, 403, 416, 418, 431, 437, 438, 450, 506, 514, 519,
    548, 579, 581, 587, 604, 613, 639, 647, 672, 705, 709, 742, 778, 780, 782, 807, 819, 825, 867,
    873, 902, 905,
];

/// The national-number rule of each country, written from the public numbering plans
/// (ITU / national regulators), independent of the generator's patterns.
fn valid_national(iso: &str, n: &str) -> bool {
    let len = n.len();
    let b = n.as_bytes();
    let starts = |p: &str| n.starts_with(p);
    let nanp = |n: &str| -> Option<(u16, bool)> {
        let area: u16 = n.get(0..3)?.parse().ok()?;
        let exch_ok = matches!(n.as_bytes().get(3), Some(b'2'..=b'9'));
        (n.len() == 10).then_some((area, exch_ok))
    };
    match iso {
        "IN" => len == 10 && matches!(b[0], b'6'..=b'9'),
        "NP" => len == 10 && starts("9") && matches!(b[1], b'6'..=b'8'),
        "BR" => len == 11 && b[0] != b'0' && b[1] != b'0' && b[2] == b'9',
        "GB" => {
            len == 10
                && starts("7")
                // Crown dependencies' mobile ranges share +44 but are not GB.
                && !["7624", "7524", "7924", "7781", "7839", "7911", "7509", "7700", "7797", "7829", "7937"]
                    .iter()
                    .any(|p| starts(p))
        }
        "US" => nanp(n).is_some_and(|(a, e)| {
            e && a >= 200
                && a % 100 != 11
                && !CANADA.contains(&a)
                && !CARIBBEAN_AND_OTHER_NANP.contains(&a)
                && ![800, 833, 844, 855, 866, 877, 888, 900].contains(&a)
        }),
        "CA" => nanp(n).is_some_and(|(a, e)| e && CANADA.contains(&a)),
        "JM" => nanp(n).is_some_and(|(a, e)| e && (a == 876 || a == 658)),
        "KY" => nanp(n).is_some_and(|(a, e)| e && a == 345),
        "PR" => nanp(n).is_some_and(|(a, e)| e && (a == 787 || a == 939)),
        "TT" => nanp(n).is_some_and(|(a, e)| e && a == 868),
        "AU" => len == 9 && starts("4"),
        "NZ" => (8..=10).contains(&len) && starts("2"),
        "NG" => len == 10 && matches!(b[0], b'7'..=b'9') && matches!(b[1], b'0' | b'1'),
        "KE" => len == 9 && (starts("7") || starts("10") || starts("11")),
        "ZA" => len == 9 && matches!(b[0], b'6'..=b'8'),
        "ID" => (9..=12).contains(&len) && starts("8"),
        "MX" => len == 10 && b[0] != b'0' && b[0] != b'1',
        "ES" => len == 9 && (starts("6") || starts("7")),
        "PT" => len == 9 && starts("9"),
        "AR" => len == 11 && starts("9") && b[1] != b'0',
        "CO" => len == 10 && starts("3"),
        "AE" => len == 9 && starts("5"),
        "SA" => len == 9 && starts("5"),
        "PK" => len == 10 && starts("3"),
        "BD" => len == 10 && starts("1") && b[1] != b'0' && b[1] != b'2',
        "PH" => len == 10 && (starts("9") || starts("8")),
        "MY" => (9..=10).contains(&len) && starts("1"),
        "SG" => len == 8 && (starts("8") || starts("9")),
        "DE" => (10..=11).contains(&len) && (starts("15") || starts("16") || starts("17")),
        "FR" => len == 9 && (starts("6") || starts("7")),
        "IE" => len == 9 && starts("8"),
        "EG" => len == 10 && (starts("10") || starts("11") || starts("12") || starts("15")),
        "TR" => len == 10 && starts("5"),
        "QA" => len == 8 && matches!(b[0], b'3' | b'5' | b'6' | b'7'),
        _ => false,
    }
}

/// The calling code of each country, from the ITU list.
fn itu_code(iso: &str) -> Option<&'static str> {
    Some(match iso {
        "US" | "CA" | "JM" | "KY" | "PR" | "TT" => "1",
        "IN" => "91",
        "NP" => "977",
        "BR" => "55",
        "GB" => "44",
        "AU" => "61",
        "NZ" => "64",
        "NG" => "234",
        "KE" => "254",
        "ZA" => "27",
        "ID" => "62",
        "MX" => "52",
        "ES" => "34",
        "PT" => "351",
        "AR" => "54",
        "CO" => "57",
        "AE" => "971",
        "SA" => "966",
        "PK" => "92",
        "BD" => "880",
        "PH" => "63",
        "MY" => "60",
        "SG" => "65",
        "DE" => "49",
        "FR" => "33",
        "IE" => "353",
        "EG" => "20",
        "TR" => "90",
        "QA" => "974",
        _ => return None,
    })
}

fn check_number(iso: &str, digits: &str) {
    let cc = itu_code(iso).unwrap_or_else(|| panic!("no ITU code written for {iso}"));
    assert!(
        digits.starts_with(cc),
        "{iso}: {digits} does not start with +{cc}"
    );
    let national = &digits[cc.len()..];
    assert!(
        valid_national(iso, national),
        "{iso}: {digits} is not a valid mobile number"
    );
}

#[test]
fn every_country_plan_produces_valid_numbers() {
    let mut rng = Rand::derive(1, &[77]);
    assert!(COUNTRIES.len() >= 20);
    for c in COUNTRIES {
        assert_eq!(
            itu_code(c.iso).map(str::to_string),
            Some(c.calling_code.to_string()),
            "{}",
            c.iso
        );
        for _ in 0..2000 {
            check_number(c.iso, &mobile_number(&mut rng, c).to_string());
        }
    }
}

#[test]
fn known_examples_pass_the_rules() {
    // The examples of SPEC section 5.2, checked against the hand rules above.
    check_number("IN", "919876543210");
    check_number("CA", "16137827274");
    check_number("US", "15208782491");
    check_number("GB", "447400123456");
    assert!(
        !valid_national("US", "6137827274"),
        "a Canadian area code is not a US number"
    );
}

#[test]
fn contacts_come_from_twenty_countries_with_valid_numbers() {
    let lake = collect(&small());
    let contacts = &lake["contacts"];
    let wa = strs(contacts, "wa_id");
    let cc = strs(contacts, "country_code");
    let calling = i32s(contacts, "calling_code");
    let mut countries = HashSet::new();
    let mut username_only = 0;
    for i in 0..contacts.num_rows() {
        match (&wa[i], &cc[i]) {
            (Some(w), Some(iso)) => {
                assert!(
                    w.bytes().all(|b| b.is_ascii_digit()),
                    "wa_id {w} has non-digits"
                );
                check_number(iso, w);
                assert_eq!(calling[i].map(|c| c.to_string()).as_deref(), itu_code(iso));
                countries.insert(iso.clone());
            }
            (None, None) => {
                assert_eq!(calling[i], None);
                username_only += 1;
            }
            other => panic!("wa_id and country_code disagree: {other:?}"),
        }
    }
    assert!(
        countries.len() >= 20,
        "only {} countries: {countries:?}",
        countries.len()
    );
    for iso in ["US", "CA", "JM", "KY", "PR", "IN", "GB", "BR", "NP", "AU"] {
        assert!(countries.contains(iso), "no contact from {iso}");
    }
    assert!(
        username_only > 0,
        "some non-WhatsApp users are username-only"
    );

    // Business numbers are E.164 and valid too.
    let ch = &lake["channels"];
    let types = s(ch, "channel_type");
    for (i, p) in strs(ch, "display_phone").into_iter().enumerate() {
        assert_eq!(p.is_some(), types[i] == "whatsapp");
        if let Some(p) = p {
            assert!(
                p.starts_with('+') && p[1..].bytes().all(|b| b.is_ascii_digit()),
                "{p}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Determinism and shape

#[test]
fn same_seed_same_rows_and_another_seed_differs() {
    let cfg = GenerateConfig {
        tenants: 3,
        contacts: 600,
        days: 20,
        ..small()
    };
    let a = collect(&cfg);
    let b = collect(&cfg);
    let mut names: Vec<&&str> = a.keys().collect();
    names.sort();
    for name in names {
        assert_eq!(a[name], b[name], "table {name} differs between two runs");
    }
    let c = collect(&GenerateConfig {
        seed: cfg.seed + 1,
        ..cfg
    });
    assert_ne!(a["messages"], c["messages"]);
}

#[test]
fn every_table_is_written() {
    let lake = collect(&small());
    // Derived tables are written by a refresh of the lake, not by the generator; the webhook
    // tables hold raw bodies, which the generator does not make (its rows go in directly);
    // its comments carry their outcome in `matched`/`reply_kind`, as a bot records it, so it
    // writes no `comment_replies` (the page's replies as webhooks show them).
    let webhook = |name: &str| name.starts_with("webhook_") || name == "comment_replies";
    for def in crate::lake::schema::tables()
        .iter()
        .filter(|t| !t.derived && !webhook(t.name))
    {
        let n = lake.get(def.name).map(|b| b.num_rows()).unwrap_or(0);
        assert!(n > 0, "table {} is empty", def.name);
    }
    // Everything inside the range.
    let cfg = small();
    let start = micros(2026, 10, 31) - (cfg.days as i64 - 1) * 86_400_000_000;
    let end = micros(2026, 11, 1);
    for (name, col) in [
        ("messages", "ts"),
        ("message_statuses", "ts"),
        ("flow_events", "ts"),
        ("contact_events", "ts"),
        ("chat_events", "ts"),
        ("comments", "ts"),
        ("analytics_events", "ts"),
        ("conversations", "opened_at"),
        ("campaign_recipients", "queued_at"),
        ("campaigns", "created_at"),
    ] {
        for t in ts(&lake[name], col) {
            assert!(t >= start && t < end, "{name}.{col} {t} outside the range");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Messages, windows, statuses

struct Msg {
    key: (String, String, String),
    ts: i64,
    inbound: bool,
    in_csw: Option<bool>,
}

fn messages(b: &RecordBatch) -> Vec<Msg> {
    let (t, c, k, d, x, w) = (
        s(b, "tenant_id"),
        s(b, "channel_id"),
        s(b, "contact_id"),
        s(b, "direction"),
        ts(b, "ts"),
        bools(b, "in_csw"),
    );
    (0..b.num_rows())
        .map(|i| Msg {
            key: (t[i].clone(), c[i].clone(), k[i].clone()),
            ts: x[i],
            inbound: d[i] == "inbound",
            in_csw: w[i],
        })
        .collect()
}

#[test]
fn in_csw_means_an_inbound_in_the_previous_24_hours() {
    let lake = collect(&small());
    let mut by_contact: HashMap<(String, String, String), Vec<Msg>> = HashMap::new();
    for m in messages(&lake["messages"]) {
        by_contact.entry(m.key.clone()).or_default().push(m);
    }
    let day = 86_400_000_000i64;
    let (mut open, mut closed) = (0, 0);
    for msgs in by_contact.values() {
        let inbound: Vec<i64> = msgs.iter().filter(|m| m.inbound).map(|m| m.ts).collect();
        for m in msgs {
            if m.inbound {
                assert_eq!(m.in_csw, None, "in_csw is for outbound messages only");
                continue;
            }
            let expected = inbound.iter().any(|&t| t <= m.ts && m.ts - t < day);
            assert_eq!(
                m.in_csw,
                Some(expected),
                "in_csw wrong for an outbound at {}",
                m.ts
            );
            if expected { open += 1 } else { closed += 1 }
        }
    }
    assert!(
        open > 100 && closed > 100,
        "both cases occur: {open} inside, {closed} outside"
    );
}

#[test]
fn statuses_refer_to_outbound_messages_and_behave_like_webhooks() {
    let lake = collect(&small());
    let m = &lake["messages"];
    let (mt, mc, mid, dir, mts, mtype) = (
        s(m, "tenant_id"),
        s(m, "channel_id"),
        s(m, "message_id"),
        s(m, "direction"),
        ts(m, "ts"),
        s(m, "msg_type"),
    );
    let mut outbound: HashMap<(String, String, String), (i64, String)> = HashMap::new();
    let mut ids = HashSet::new();
    for i in 0..m.num_rows() {
        assert!(
            ids.insert((mt[i].clone(), mc[i].clone(), mid[i].clone())),
            "duplicate message id {}",
            mid[i]
        );
        if dir[i] == "outbound" {
            outbound.insert(
                (mt[i].clone(), mc[i].clone(), mid[i].clone()),
                (mts[i], mtype[i].clone()),
            );
        }
    }
    let st = &lake["message_statuses"];
    let (t, c, id, status, sts, ing) = (
        s(st, "tenant_id"),
        s(st, "channel_id"),
        s(st, "message_id"),
        s(st, "status"),
        ts(st, "ts"),
        ts(st, "ingested_at"),
    );
    let (code, bucket, title) = (
        i32s(st, "error_code"),
        strs(st, "error_bucket"),
        strs(st, "error_title"),
    );
    let mut per_msg: HashMap<&str, Vec<(usize, &str)>> = HashMap::new();
    let mut codes = HashSet::new();
    for i in 0..st.num_rows() {
        let Some((msg_ts, _)) = outbound.get(&(t[i].clone(), c[i].clone(), id[i].clone())) else {
            panic!(
                "status {} refers to no outbound message {}",
                status[i], id[i]
            );
        };
        assert!(sts[i] >= *msg_ts, "a status before its message");
        assert!(ing[i] > sts[i], "ingested before it happened");
        per_msg
            .entry(id[i].as_str())
            .or_default()
            .push((i, status[i].as_str()));
        match (status[i].as_str(), code[i]) {
            ("failed", Some(k)) => {
                codes.insert(k);
                assert_eq!(bucket[i].as_deref(), Some(super::error_bucket(k)));
                assert!(title[i].is_some());
            }
            ("failed", None) => panic!("a failure without a code"),
            (_, Some(_)) => panic!("an error code on a non-failed status"),
            _ => {}
        }
    }
    for k in [131026, 131047, 131049, 131050] {
        assert!(codes.contains(&k), "no failure with {k}: {codes:?}");
    }
    let (mut read_no_delivered, mut out_of_order, mut repeated, mut played) = (0, 0, 0, 0);
    for rows in per_msg.values() {
        let has = |x: &str| rows.iter().any(|r| r.1 == x);
        if has("read") && !has("delivered") {
            read_no_delivered += 1;
        }
        if has("played") {
            played += 1;
        }
        let mut seen = HashSet::new();
        if rows.iter().any(|r| !seen.insert(r.1)) {
            repeated += 1;
        }
        let first = |x: &str| {
            rows.iter()
                .filter(|r| r.1 == x)
                .map(|r| r.0)
                .min_by_key(|&i| sts[i])
        };
        if let (Some(d), Some(r)) = (first("delivered"), first("read")) {
            assert!(sts[d] <= sts[r], "read before delivered");
            if ing[d] > ing[r] {
                out_of_order += 1;
            }
        }
    }
    assert!(
        read_no_delivered > 0 && out_of_order > 0 && repeated > 0 && played > 0,
        "read w/o delivered {read_no_delivered}, out of order {out_of_order}, repeated {repeated}, played {played}"
    );
    // Audio gets `played`, nothing else does.
    for (i, st_) in status.iter().enumerate() {
        if st_ == "played" {
            let (_, ty) = &outbound[&(t[i].clone(), c[i].clone(), id[i].clone())];
            assert_eq!(ty, "audio");
        }
    }
}

#[test]
fn replies_point_at_earlier_messages_of_the_same_contact() {
    let lake = collect(&small());
    let m = &lake["messages"];
    let (mid, contact, tsv, ctx, ty, inter) = (
        s(m, "message_id"),
        s(m, "contact_id"),
        ts(m, "ts"),
        strs(m, "context_message_id"),
        s(m, "msg_type"),
        strs(m, "interaction_id"),
    );
    let dir = s(m, "direction");
    let index: HashMap<&str, usize> = mid
        .iter()
        .enumerate()
        .map(|(i, x)| (x.as_str(), i))
        .collect();
    let mut buttons = 0;
    for i in 0..m.num_rows() {
        if let Some(c) = &ctx[i] {
            let j = *index.get(c.as_str()).expect("context message exists");
            assert_eq!(contact[j], contact[i]);
            assert!(tsv[j] <= tsv[i], "a reply before the message it answers");
        }
        if dir[i] == "inbound" && (ty[i] == "button" || ty[i] == "interactive") {
            assert!(
                inter[i].is_some(),
                "a {} reply without interaction_id",
                ty[i]
            );
            if ctx[i].is_some() {
                buttons += 1;
            }
        }
    }
    assert!(buttons > 50, "button replies linked by context: {buttons}");
}

#[test]
fn messages_cover_types_authors_templates_and_referrals() {
    let lake = collect(&small());
    let m = &lake["messages"];
    let set = |col: &str| -> HashSet<String> { strs(m, col).into_iter().flatten().collect() };
    let authors = set("author_type");
    for a in [
        "contact",
        "flow",
        "agent",
        "api",
        "broadcast",
        "reminder",
        "automation",
        "system",
    ] {
        assert!(authors.contains(a), "no {a} author: {authors:?}");
    }
    let types = set("msg_type");
    for t in [
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "order",
        "template",
    ] {
        assert!(types.contains(t), "no {t} message: {types:?}");
    }
    let cats = set("template_category");
    for c in ["marketing", "utility", "authentication"] {
        assert!(cats.contains(c), "no {c} template");
    }
    assert!(set("referral_source_type").contains("ad"));
    let tpl = bools(m, "is_template");
    let names = strs(m, "template_name");
    for i in 0..m.num_rows() {
        assert_eq!(tpl[i] == Some(true), names[i].is_some());
    }
}

#[test]
fn local_rhythm_busy_evenings_quiet_nights_and_weekends() {
    let lake = collect(&GenerateConfig {
        tenants: 1,
        contacts: 3000,
        days: 56,
        ..small()
    });
    let m = &lake["messages"];
    let (dir, tsv) = (s(m, "direction"), ts(m, "ts"));
    let tz = chrono_tz::Asia::Kolkata; // the first tenant's zone
    let (mut by_hour, mut by_dow) = ([0u32; 24], [0u32; 7]);
    for i in 0..m.num_rows() {
        if dir[i] != "inbound" {
            continue;
        }
        let local = tz.timestamp_micros(tsv[i]).single().expect("instant");
        by_hour[local.hour() as usize] += 1;
        by_dow[chrono::Datelike::weekday(&local).num_days_from_monday() as usize] += 1;
    }
    let night: u32 = by_hour[2..6].iter().sum();
    let evening: u32 = by_hour[18..22].iter().sum();
    assert!(evening > 4 * night, "evening {evening} vs night {night}");
    let weekday = (by_dow[0..5].iter().sum::<u32>()) as f64 / 5.0;
    let weekend = (by_dow[5..7].iter().sum::<u32>()) as f64 / 2.0;
    assert!(weekend < weekday, "weekend {weekend} vs weekday {weekday}");
}

// ---------------------------------------------------------------------------------------
// Campaigns, flows, contacts

#[test]
fn campaign_recipients_are_consistent() {
    let lake = collect(&small());
    let m = &lake["messages"];
    let msg: HashMap<String, (Option<String>, Option<bool>)> = s(m, "message_id")
        .into_iter()
        .zip(
            strs(m, "campaign_id")
                .into_iter()
                .zip(bools(m, "is_template")),
        )
        .collect();
    let cp = &lake["campaigns"];
    let (cid, kind, parent) = (
        s(cp, "campaign_id"),
        s(cp, "kind"),
        strs(cp, "parent_campaign_id"),
    );
    let kinds: HashSet<&str> = kind.iter().map(String::as_str).collect();
    for k in [
        "push",
        "broadcast",
        "flow_broadcast",
        "template_campaign",
        "reminder",
    ] {
        assert!(kinds.contains(k), "no {k} campaign");
    }
    let r = &lake["campaign_recipients"];
    let (rc, contact, attempt, mid, result, code) = (
        s(r, "campaign_id"),
        s(r, "contact_id"),
        i32s(r, "attempt"),
        strs(r, "message_id"),
        s(r, "send_result"),
        i32s(r, "reject_code"),
    );
    let known: HashSet<&str> = cid.iter().map(String::as_str).collect();
    let mut rejected = 0;
    let mut by_campaign: HashMap<&str, HashSet<&str>> = HashMap::new();
    for i in 0..r.num_rows() {
        assert!(
            known.contains(rc[i].as_str()),
            "recipient of an unknown campaign"
        );
        by_campaign
            .entry(rc[i].as_str())
            .or_default()
            .insert(contact[i].as_str());
        match result[i].as_str() {
            "accepted" => {
                let id = mid[i].as_ref().expect("accepted has a message");
                let (camp, is_tpl) = msg.get(id).expect("accepted recipient's message exists");
                assert_eq!(camp.as_deref(), Some(rc[i].as_str()));
                assert_eq!(*is_tpl, Some(true));
                assert!(code[i].is_none());
            }
            "rejected" => {
                rejected += 1;
                assert!(mid[i].is_none() && code[i].is_some());
            }
            other => panic!("send_result {other}"),
        }
    }
    assert!(rejected > 0);
    let mut retries = 0;
    for i in 0..cp.num_rows() {
        if let Some(p) = &parent[i] {
            retries += 1;
            let parents = by_campaign.get(p.as_str()).expect("parent has recipients");
            if let Some(kids) = by_campaign.get(cid[i].as_str()) {
                assert!(
                    kids.is_subset(parents),
                    "a retry audience member was not in the parent"
                );
            }
            for j in 0..r.num_rows() {
                if rc[j] == cid[i] {
                    assert!(
                        attempt[j].is_some_and(|a| a >= 2),
                        "retry recipients are attempt 2"
                    );
                }
            }
        }
    }
    assert!(retries > 0, "no retry audiences");
}

#[test]
fn flow_runs_start_once_and_end_at_most_once() {
    let lake = collect(&small());
    let f = &lake["flow_events"];
    let (run, ev, tsv, trig) = (
        s(f, "flow_run_id"),
        s(f, "event_type"),
        ts(f, "ts"),
        strs(f, "trigger"),
    );
    let mut runs: HashMap<&str, (u32, u32, i64, i64)> = HashMap::new();
    let mut ends: HashSet<&str> = HashSet::new();
    let triggers: HashSet<&str> = trig.iter().flatten().map(String::as_str).collect();
    for i in 0..f.num_rows() {
        let e = runs
            .entry(run[i].as_str())
            .or_insert((0, 0, i64::MAX, i64::MIN));
        match ev[i].as_str() {
            "started" => {
                e.0 += 1;
                e.2 = e.2.min(tsv[i]);
            }
            "completed" | "killed" | "expired" | "errored" => {
                e.1 += 1;
                e.3 = e.3.max(tsv[i]);
                ends.insert(ev[i].as_str());
            }
            _ => {}
        }
    }
    for (id, (starts, end_events, start, end)) in &runs {
        assert_eq!(*starts, 1, "run {id} started {starts} times");
        assert!(*end_events <= 1, "run {id} ended {end_events} times");
        if *end_events == 1 {
            assert!(end >= start);
        }
    }
    for e in ["completed", "killed", "expired", "errored"] {
        assert!(ends.contains(e), "no {e} run");
    }
    for t in ["keyword", "broadcast", "flow", "api"] {
        assert!(triggers.contains(t), "no run triggered by {t}");
    }
}

#[test]
fn contacts_snapshot_agrees_with_contact_events() {
    let lake = collect(&small());
    let e = &lake["contact_events"];
    let (ec, et, ets) = (s(e, "contact_id"), s(e, "event_type"), ts(e, "ts"));
    let mut rows: Vec<(&str, i64, &str)> = (0..e.num_rows())
        .map(|i| (ec[i].as_str(), ets[i], et[i].as_str()))
        .collect();
    rows.sort();
    let mut optin: HashMap<&str, &str> = HashMap::new();
    let mut provider: HashMap<&str, &str> = HashMap::new();
    let mut created: HashMap<&str, (u32, i64)> = HashMap::new();
    for (c, t, ev) in &rows {
        match *ev {
            "opted_in" => {
                optin.insert(c, "opted_in");
            }
            "opted_out" => {
                optin.insert(c, "opted_out");
            }
            "marked_invalid" => {
                provider.insert(c, "invalid");
            }
            "marked_valid" | "unblocked" => {
                provider.insert(c, "valid");
            }
            "blocked" => {
                provider.insert(c, "blocked");
            }
            "created" => {
                let x = created.entry(c).or_insert((0, *t));
                x.0 += 1;
            }
            _ => {}
        }
    }
    let k = &lake["contacts"];
    let (kc, ko, kp, kca) = (
        s(k, "contact_id"),
        strs(k, "optin_status"),
        strs(k, "provider_status"),
        ts(k, "created_at"),
    );
    let mut statuses = HashSet::new();
    for i in 0..k.num_rows() {
        let c = kc[i].as_str();
        assert_eq!(
            ko[i].as_deref(),
            Some(*optin.get(c).unwrap_or(&"none")),
            "optin of {c}"
        );
        assert_eq!(
            kp[i].as_deref(),
            Some(*provider.get(c).unwrap_or(&"valid")),
            "provider status of {c}"
        );
        assert_eq!(
            created.get(c),
            Some(&(1, kca[i])),
            "one created event at created_at for {c}"
        );
        statuses.insert(ko[i].clone());
    }
    assert!(
        statuses.len() == 3,
        "opted in, opted out and never asked all occur: {statuses:?}"
    );
}

#[test]
fn chats_open_before_they_close() {
    let lake = collect(&small());
    let ce = &lake["chat_events"];
    let (chat, ev, tsv) = (s(ce, "chat_id"), s(ce, "event"), ts(ce, "ts"));
    let mut rows: Vec<(&str, i64, &str)> = (0..ce.num_rows())
        .map(|i| (chat[i].as_str(), tsv[i], ev[i].as_str()))
        .collect();
    rows.sort();
    let mut open: HashMap<&str, bool> = HashMap::new();
    for (c, _, e) in rows {
        let was = open.get(c).copied();
        match e {
            "opened" => {
                assert_eq!(was, None, "opened twice");
                open.insert(c, true);
            }
            "reopened" => {
                assert_eq!(was, Some(false), "reopened a chat that was not closed");
                open.insert(c, true);
            }
            "closed" => {
                assert_eq!(was, Some(true), "closed a chat that was not open");
                open.insert(c, false);
            }
            _ => assert_eq!(was, Some(true), "assigned a closed chat"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Eras

#[test]
fn eras_from_2023_to_2026_have_their_conversation_and_pricing_fields() {
    let cfg = GenerateConfig {
        tenants: 3,
        contacts: 500,
        days: (NaiveDate::from_ymd_opt(2026, 10, 31).expect("date")
            - NaiveDate::from_ymd_opt(2023, 1, 1).expect("date"))
        .num_days() as u32
            + 1,
        seed: 3,
        ..GenerateConfig::default()
    };
    let lake = collect(&cfg);
    let v2 = micros(2023, 6, 1);
    // PMP starts at local midnight of 2025-07-01 in the WABA's zone: UTC-12..UTC+14 brackets it.
    let (pmp_lo, pmp_hi) = (
        micros(2025, 7, 1) - 14 * 3_600_000_000,
        micros(2025, 7, 1) + 12 * 3_600_000_000,
    );
    let cv = &lake["conversations"];
    let (origin, opened, model) = (s(cv, "origin"), ts(cv, "opened_at"), s(cv, "pricing_model"));
    let mut seen = HashSet::new();
    for i in 0..cv.num_rows() {
        let o = origin[i].as_str();
        if opened[i] < pmp_lo {
            assert_eq!(model[i], "CBP", "a PMP conversation before July 2025");
        } else if opened[i] >= pmp_hi {
            assert_eq!(model[i], "PMP", "a CBP conversation after July 2025");
        }
        if opened[i] < v2 {
            assert!(
                matches!(
                    o,
                    "user_initiated" | "business_initiated" | "referral_conversion"
                ),
                "{o} before June 2023"
            );
        } else {
            assert!(
                matches!(
                    o,
                    "marketing" | "utility" | "authentication" | "service" | "referral_conversion"
                ),
                "{o} after June 2023"
            );
        }
        seen.insert(o.to_string());
    }
    assert!(model.iter().any(|m| m == "PMP") && model.iter().any(|m| m == "CBP"));
    for o in [
        "user_initiated",
        "business_initiated",
        "marketing",
        "utility",
        "authentication",
        "service",
    ] {
        assert!(seen.contains(o), "no {o} conversation");
    }
    let st = &lake["message_statuses"];
    let (pm, pt, sts) = (
        strs(st, "pricing_model"),
        strs(st, "pricing_type"),
        ts(st, "ts"),
    );
    let mut types = HashSet::new();
    let mut models = HashSet::new();
    for i in 0..st.num_rows() {
        if let Some(m) = &pm[i] {
            models.insert(m.clone());
            if m == "PMP" {
                assert!(sts[i] >= pmp_lo, "PMP pricing before July 2025");
                types.insert(pt[i].clone().expect("PMP has a pricing type"));
            } else {
                assert!(pt[i].is_none(), "pricing_type is PMP only");
            }
        }
    }
    assert_eq!(models.len(), 2);
    for t in ["regular", "free_customer_service"] {
        assert!(types.contains(t), "no {t} PMP message");
    }
    // Only meta_cloud / 360dialog channels report conversations.
    let ch = &lake["channels"];
    let reporting: HashSet<String> = s(ch, "channel_id")
        .into_iter()
        .zip(strs(ch, "integration"))
        .filter(|(_, i)| matches!(i.as_deref(), Some("meta_cloud" | "360dialog")))
        .map(|(c, _)| c)
        .collect();
    for c in s(cv, "channel_id") {
        assert!(
            reporting.contains(&c),
            "conversation on a non-webhook channel {c}"
        );
    }
    let cats: HashSet<String> = strs(&lake["messages"], "template_category")
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(cats.len(), 3);
}

#[test]
fn messages_target_scales_volume() {
    let base = GenerateConfig {
        tenants: 2,
        contacts: 800,
        days: 30,
        ..small()
    };
    let target = 40_000u64;
    let summary = generate_batches(
        &GenerateConfig {
            messages_target: Some(target),
            ..base
        },
        |_, _| Ok(()),
    )
    .expect("run");
    let n = summary.rows("messages") as f64;
    assert!(
        (n / target as f64 - 1.0).abs() < 0.35,
        "asked {target}, got {n}"
    );
}
