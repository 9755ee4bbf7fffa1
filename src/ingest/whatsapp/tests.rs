//! Parser vectors. Each body follows the shape of Meta's documented examples (the messages
//! and status webhook references: WABA 102290129340398, phone number id 106540352242922,
//! display number 15550783881, the user Sheena Nelson, wa_id 16505551234), one per message
//! type and status kind, both pricing eras; the expected rows are written out by hand from the
//! mapping tables of the module docs. Times: a webhook `timestamp` of N seconds is N * 10^6 µs.

#![allow(clippy::unwrap_used)]

use super::route::Routes;
use super::rows::*;
use super::*;

const WABA: &str = "102290129340398";
const PHONE_ID: &str = "106540352242922";
const USER: &str = "16505551234";
/// When the tests "receive" a body: 2026-01-01T00:00:00Z.
const RECEIVED: i64 = 1_767_225_600_000_000;

fn routes() -> Routes {
    Routes::from_channels([
        (PHONE_ID, "t1", "wa1"),
        ("999", "t2", "wa2"),
        ("999", "t3", "wa3"),
    ])
}

/// Meta's envelope around one `value` of a `messages` change of our phone number.
fn body(value_members: &str) -> String {
    body_for(PHONE_ID, value_members)
}

fn body_for(phone_id: &str, value_members: &str) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"{WABA}","changes":[{{"value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"{phone_id}"}},{value_members}}},"field":"messages"}}]}}]}}"#
    )
}

const PROFILE: &str = r#""contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}]"#;

/// One inbound message of Sheena's (`from` 16505551234) with `members` after `type`.
fn inbound(id: &str, ts: &str, kind: &str, members: &str) -> String {
    body(&format!(
        r#"{PROFILE},"messages":[{{"from":"{USER}","id":"{id}","timestamp":"{ts}","type":"{kind}"{members}}}]"#
    ))
}

fn parse_ok(raw: &str) -> Parsed {
    parse(raw, RECEIVED, &routes()).unwrap()
}

/// The message row every vector starts from: Sheena, our channel, inbound.
fn message(id: &str, ts_seconds: i64, msg_type: &'static str) -> MessageRow {
    MessageRow {
        tenant_id: "t1".into(),
        channel_id: "wa1".into(),
        message_id: id.into(),
        direction: "inbound",
        ts: ts_seconds * 1_000_000,
        contact_id: USER.into(),
        wa_id: Some(USER.into()),
        msg_type,
        ..MessageRow::default()
    }
}

fn only_message(raw: &str) -> MessageRow {
    let parsed = parse_ok(raw);
    assert_eq!(parsed.skipped, Vec::<String>::new());
    assert_eq!(parsed.messages.len(), 1, "{parsed:?}");
    parsed.messages[0].clone()
}

#[test]
fn a_text_message_gives_the_message_the_profile_and_the_body() {
    let raw = inbound(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        "1749416383",
        "text",
        r#","text":{"body":"Does it come in another color?"}"#,
    );
    let parsed = parse_ok(&raw);
    let mut expected = message(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        1_749_416_383,
        "text",
    );
    expected.body_text = Some("Does it come in another color?".into());
    assert_eq!(parsed.messages, vec![expected]);
    assert_eq!(
        parsed.contacts,
        vec![ContactRow {
            tenant_id: "t1".into(),
            channel_id: "wa1".into(),
            contact_id: USER.into(),
            wa_id: Some(USER.into()),
            name: Some("Sheena Nelson".into()),
            created_at: 1_749_416_383_000_000,
            updated_at: 1_749_416_383_000_000,
            ..ContactRow::default()
        }]
    );
    assert_eq!(parsed.body.tenant_id.as_deref(), Some("t1"));
    assert_eq!(parsed.body.platform, "whatsapp");
    assert_eq!(parsed.body.ts, 1_749_416_383_000_000);
    assert_eq!(parsed.body.received_at, RECEIVED);
    assert_eq!(parsed.body.phone_number_id.as_deref(), Some(PHONE_ID));
    assert_eq!(parsed.body.body, raw, "the raw text, byte for byte");
    assert_eq!(parsed.body.body_sha256.len(), 64);
    assert!(parsed.unrouted.is_empty() && parsed.statuses.is_empty());
}

#[test]
fn media_messages_keep_their_caption() {
    let cases: [(&str, &str, &'static str, Option<&str>); 5] = [
        (
            "image",
            r#","image":{"caption":"Blue one?","mime_type":"image/jpeg","sha256":"abc","id":"1003383421387256"}"#,
            "image",
            Some("Blue one?"),
        ),
        (
            "audio",
            r#","audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"abc","id":"1003383421387257","voice":true}"#,
            "audio",
            None,
        ),
        (
            "video",
            r#","video":{"caption":"unboxing","mime_type":"video/mp4","sha256":"abc","id":"1003383421387258"}"#,
            "video",
            Some("unboxing"),
        ),
        (
            "document",
            r#","document":{"filename":"invoice-0042.pdf","mime_type":"application/pdf","sha256":"abc","id":"1003383421387259"}"#,
            "document",
            Some("invoice-0042.pdf"),
        ),
        (
            "sticker",
            r#","sticker":{"mime_type":"image/webp","sha256":"abc","id":"1003383421387260","animated":false}"#,
            "sticker",
            None,
        ),
    ];
    for (kind, members, msg_type, text) in cases {
        let got = only_message(&inbound("wamid.media", "1749416400", kind, members));
        let mut expected = message("wamid.media", 1_749_416_400, msg_type);
        expected.body_text = text.map(str::to_string);
        assert_eq!(got, expected, "{kind}");
    }
}

#[test]
fn a_location_joins_name_and_address() {
    let got = only_message(&inbound(
        "wamid.loc",
        "1749416500",
        "location",
        r#","location":{"address":"1 Hacker Way, Menlo Park, CA 94025","latitude":37.483307,"longitude":-122.148981,"name":"Philz Coffee","url":"https://philzcoffee.com"}"#,
    ));
    let mut expected = message("wamid.loc", 1_749_416_500, "location");
    expected.body_text = Some("Philz Coffee, 1 Hacker Way, Menlo Park, CA 94025".into());
    assert_eq!(got, expected);
}

#[test]
fn shared_contact_cards_list_their_names() {
    let got = only_message(&inbound(
        "wamid.cards",
        "1749416510",
        "contacts",
        r#","contacts":[{"name":{"first_name":"Barbara","last_name":"Johnson","formatted_name":"Barbara J. Johnson"},"phones":[{"phone":"+1 (940) 555-1234","type":"HOME","wa_id":"19405551234"}]},{"name":{"formatted_name":"Kim Lee"}}]"#,
    ));
    let mut expected = message("wamid.cards", 1_749_416_510, "contacts");
    expected.body_text = Some("Barbara J. Johnson, Kim Lee".into());
    assert_eq!(got, expected);
}

#[test]
fn interactive_replies_carry_the_chosen_id_and_the_message_replied_to() {
    let context = r#","context":{"from":"15550783881","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}"#;
    let button = only_message(&inbound(
        "wamid.btn",
        "1749416600",
        "interactive",
        &format!(
            r#"{context},"interactive":{{"type":"button_reply","button_reply":{{"id":"change-button","title":"Change"}}}}"#
        ),
    ));
    let mut expected = message("wamid.btn", 1_749_416_600, "interactive");
    expected.interaction_id = Some("change-button".into());
    expected.body_text = Some("Change".into());
    expected.context_message_id =
        Some("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA".into());
    assert_eq!(button, expected);

    let list = only_message(&inbound(
        "wamid.list",
        "1749416601",
        "interactive",
        &format!(
            r#"{context},"interactive":{{"type":"list_reply","list_reply":{{"id":"priority_express","title":"Express Shipping","description":"Next Day to 2 Days"}}}}"#
        ),
    ));
    let mut expected = message("wamid.list", 1_749_416_601, "interactive");
    expected.interaction_id = Some("priority_express".into());
    expected.body_text = Some("Express Shipping".into());
    expected.context_message_id =
        Some("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA".into());
    assert_eq!(list, expected);
}

#[test]
fn a_flow_reply_keeps_its_answers_and_flow_token() {
    let answers = r#"{\"flow_token\":\"FT-7781\",\"rating\":\"5\"}"#;
    let got = only_message(&inbound(
        "wamid.flow",
        "1749416700",
        "interactive",
        &format!(
            r#","context":{{"from":"15550783881","id":"wamid.flowsend"}},"interactive":{{"type":"nfm_reply","nfm_reply":{{"name":"flow","body":"Sent","response_json":"{answers}"}}}}"#
        ),
    ));
    let mut expected = message("wamid.flow", 1_749_416_700, "interactive");
    expected.interaction_id = Some("FT-7781".into());
    expected.body_text = Some(r#"{"flow_token":"FT-7781","rating":"5"}"#.into());
    expected.context_message_id = Some("wamid.flowsend".into());
    assert_eq!(got, expected);
}

#[test]
fn a_template_quick_reply_is_a_button_message() {
    let got = only_message(&inbound(
        "wamid.qr",
        "1749416800",
        "button",
        r#","context":{"from":"15550783881","id":"wamid.template1"},"button":{"payload":"STOP_PROMOS","text":"Stop promotions"}"#,
    ));
    let mut expected = message("wamid.qr", 1_749_416_800, "button");
    expected.interaction_id = Some("STOP_PROMOS".into());
    expected.body_text = Some("Stop promotions".into());
    expected.context_message_id = Some("wamid.template1".into());
    assert_eq!(got, expected);
}

#[test]
fn a_reaction_points_at_the_message_it_is_about() {
    let got = only_message(&inbound(
        "wamid.react",
        "1749416900",
        "reaction",
        r#","reaction":{"message_id":"wamid.ours42","emoji":"\ud83d\udc4d"}"#,
    ));
    let mut expected = message("wamid.react", 1_749_416_900, "reaction");
    expected.body_text = Some("\u{1f44d}".into());
    expected.context_message_id = Some("wamid.ours42".into());
    assert_eq!(got, expected);
}

#[test]
fn an_order_keeps_its_text() {
    let got = only_message(&inbound(
        "wamid.order",
        "1749417000",
        "order",
        r#","order":{"catalog_id":"194836987003835","text":"Two please","product_items":[{"product_retailer_id":"di9ozbzfi4","quantity":2,"item_price":30,"currency":"USD"}]}"#,
    ));
    let mut expected = message("wamid.order", 1_749_417_000, "order");
    expected.body_text = Some("Two please".into());
    assert_eq!(got, expected);
}

#[test]
fn system_and_welcome_messages_are_system() {
    let got = only_message(&inbound(
        "wamid.sys",
        "1749417100",
        "system",
        r#","system":{"body":"Sheena changed from 16505551234 to 16505550000","wa_id":"16505550000","type":"user_changed_number"}"#,
    ));
    let mut expected = message("wamid.sys", 1_749_417_100, "system");
    expected.body_text = Some("Sheena changed from 16505551234 to 16505550000".into());
    assert_eq!(got, expected);

    let got = only_message(&inbound("wamid.hello", "1749417101", "request_welcome", ""));
    assert_eq!(got, message("wamid.hello", 1_749_417_101, "system"));
}

#[test]
fn unsupported_and_unknown_types_are_unsupported() {
    let got = only_message(&inbound(
        "wamid.unsup",
        "1749417200",
        "unsupported",
        r#","errors":[{"code":131051,"title":"Message type unknown","message":"Message type unknown","error_data":{"details":"Message type is currently not supported."}}]"#,
    ));
    let mut expected = message("wamid.unsup", 1_749_417_200, "unsupported");
    expected.body_text = Some("error 131051: Message type unknown".into());
    assert_eq!(got, expected);

    let got = only_message(&inbound(
        "wamid.edit",
        "1749417201",
        "edit",
        r#","edit":{"original_message_id":"wamid.x"}"#,
    ));
    let mut expected = message("wamid.edit", 1_749_417_201, "unsupported");
    expected.body_text = Some("unknown type: edit".into());
    assert_eq!(got, expected);
}

#[test]
fn a_click_to_whatsapp_referral_is_kept() {
    let got = only_message(&inbound(
        "wamid.ctwa",
        "1749417300",
        "text",
        r#","text":{"body":"Is this still available?"},"referral":{"source_url":"https://fb.me/3cr4Wqqkv","source_id":"120226305854810726","source_type":"ad","body":"Summer sale","headline":"50% off","media_type":"image","image_url":"https://x","ctwa_clid":"Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0NiNbEe6xJN2SdrwLNCGdu"}"#,
    ));
    let mut expected = message("wamid.ctwa", 1_749_417_300, "text");
    expected.body_text = Some("Is this still available?".into());
    expected.referral_source_type = Some("ad".into());
    expected.referral_source_id = Some("120226305854810726".into());
    assert_eq!(got, expected);
}

#[test]
fn a_username_only_user_is_named_by_the_business_scoped_id() {
    // 2026 usernames: no `from` and no `wa_id`, only the BSUID (reference 5.5).
    let raw = body(
        r#""contacts":[{"profile":{"name":"Sheena","username":"@sheena"},"user_id":"US.13491208655302741918"}],"messages":[{"from_user_id":"US.13491208655302741918","id":"wamid.bsuid","timestamp":"1749417400","type":"text","text":{"body":"hi"}}]"#,
    );
    let parsed = parse_ok(&raw);
    let mut expected = message("wamid.bsuid", 1_749_417_400, "text");
    expected.contact_id = "bsuid:US.13491208655302741918".into();
    expected.wa_id = None;
    expected.body_text = Some("hi".into());
    expected.bsuid = Some("US.13491208655302741918".into());
    assert_eq!(parsed.messages, vec![expected]);
    assert_eq!(parsed.contacts.len(), 1);
    assert_eq!(
        parsed.contacts[0].contact_id,
        "bsuid:US.13491208655302741918"
    );
    assert_eq!(parsed.contacts[0].wa_id, None);
    assert_eq!(parsed.contacts[0].name.as_deref(), Some("Sheena"));
    assert_eq!(
        parsed.contacts[0].bsuid.as_deref(),
        Some("US.13491208655302741918")
    );

    // The same user when the body also gives the wa_id for the BSUID: the usual contact id.
    let raw = body(
        r#""contacts":[{"profile":{"name":"Sheena"},"wa_id":"16505551234","user_id":"US.13491208655302741918"}],"messages":[{"from_user_id":"US.13491208655302741918","id":"wamid.bsuid2","timestamp":"1749417401","type":"text","text":{"body":"hi"}}]"#,
    );
    let parsed = parse_ok(&raw);
    assert_eq!(parsed.messages[0].contact_id, USER);
    assert_eq!(parsed.messages[0].wa_id.as_deref(), Some(USER));
}

/// One status of our message to Sheena with `members` after its timestamp.
fn status_body(status: &str, ts: &str, members: &str) -> String {
    body(&format!(
        r#""statuses":[{{"id":"wamid.out1","status":"{status}","timestamp":"{ts}","recipient_id":"{USER}"{members}}}]"#
    ))
}

fn status(kind: &str, ts_seconds: i64) -> StatusRow {
    StatusRow {
        tenant_id: "t1".into(),
        channel_id: "wa1".into(),
        message_id: "wamid.out1".into(),
        status: kind.into(),
        ts: ts_seconds * 1_000_000,
        ..StatusRow::default()
    }
}

#[test]
fn a_cbp_sent_status_reports_its_conversation() {
    let parsed = parse_ok(&status_body(
        "sent",
        "1750263773",
        r#","conversation":{"id":"6ceb9d929c2e5c4c5c4b4ad0aac8d4f0","expiration_timestamp":"1750350180","origin":{"type":"utility"}},"pricing":{"billable":true,"pricing_model":"CBP","category":"utility"}"#,
    ));
    let mut expected = status("sent", 1_750_263_773);
    expected.conversation_id = Some("6ceb9d929c2e5c4c5c4b4ad0aac8d4f0".into());
    expected.conversation_origin = Some("utility".into());
    expected.conversation_expires_at = Some(1_750_350_180_000_000);
    expected.pricing_model = Some("CBP".into());
    expected.pricing_billable = Some(true);
    expected.pricing_category = Some("utility".into());
    assert_eq!(parsed.statuses, vec![expected]);
    // Opened 24 h before it expires: 1750350180 - 86400 = 1750263780.
    assert_eq!(
        parsed.conversations,
        vec![ConversationRow {
            tenant_id: "t1".into(),
            channel_id: "wa1".into(),
            waba_id: Some(WABA.into()),
            conversation_id: "6ceb9d929c2e5c4c5c4b4ad0aac8d4f0".into(),
            contact_id: USER.into(),
            opened_at: 1_750_263_780_000_000,
            expires_at: 1_750_350_180_000_000,
            origin: "utility".into(),
            pricing_model: Some("CBP".into()),
            billable: Some(true),
            bsuid: None,
        }]
    );
    assert!(parsed.messages.is_empty() && parsed.contacts.is_empty());
    assert_eq!(parsed.body.ts, 1_750_263_773_000_000);
}

#[test]
fn a_cbp_v1_delivered_status_without_expiry_gives_no_conversation_row() {
    let parsed = parse_ok(&status_body(
        "delivered",
        "1651000000",
        r#","conversation":{"id":"c-2022","origin":{"type":"business_initiated"}},"pricing":{"billable":true,"pricing_model":"CBP","category":"business_initiated"}"#,
    ));
    let mut expected = status("delivered", 1_651_000_000);
    expected.conversation_id = Some("c-2022".into());
    expected.conversation_origin = Some("business_initiated".into());
    expected.pricing_model = Some("CBP".into());
    expected.pricing_billable = Some(true);
    expected.pricing_category = Some("business_initiated".into());
    assert_eq!(parsed.statuses, vec![expected]);
    assert!(parsed.conversations.is_empty());
}

#[test]
fn pmp_statuses_carry_type_and_category() {
    let parsed = parse_ok(&status_body(
        "read",
        "1752000000",
        r#","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}"#,
    ));
    let mut expected = status("read", 1_752_000_000);
    expected.pricing_model = Some("PMP".into());
    expected.pricing_billable = Some(true);
    expected.pricing_category = Some("marketing".into());
    expected.pricing_type = Some("regular".into());
    assert_eq!(parsed.statuses, vec![expected]);
    assert!(parsed.conversations.is_empty());

    let parsed = parse_ok(&status_body(
        "delivered",
        "1752000100",
        r#","pricing":{"billable":false,"pricing_model":"PMP","type":"free_customer_service","category":"service"}"#,
    ));
    let mut expected = status("delivered", 1_752_000_100);
    expected.pricing_model = Some("PMP".into());
    expected.pricing_billable = Some(false);
    expected.pricing_category = Some("service".into());
    expected.pricing_type = Some("free_customer_service".into());
    assert_eq!(parsed.statuses, vec![expected]);
}

#[test]
fn a_pmp_free_entry_point_window_is_a_72_hour_conversation() {
    let parsed = parse_ok(&status_body(
        "sent",
        "1752000200",
        r#","conversation":{"id":"fep-1","expiration_timestamp":"1752259400","origin":{"type":"referral_conversion"}},"pricing":{"billable":false,"pricing_model":"PMP","type":"free_entry_point","category":"referral_conversion"}"#,
    ));
    assert_eq!(parsed.statuses.len(), 1);
    assert_eq!(
        parsed.statuses[0].pricing_type.as_deref(),
        Some("free_entry_point")
    );
    // 1752259400 - 72 * 3600 = 1752259400 - 259200 = 1752000200.
    assert_eq!(parsed.conversations.len(), 1);
    assert_eq!(parsed.conversations[0].opened_at, 1_752_000_200_000_000);
    assert_eq!(parsed.conversations[0].expires_at, 1_752_259_400_000_000);
    assert_eq!(parsed.conversations[0].origin, "referral_conversion");
    assert_eq!(
        parsed.conversations[0].pricing_model.as_deref(),
        Some("PMP")
    );
    assert_eq!(parsed.conversations[0].billable, Some(false));
}

#[test]
fn played_deleted_and_failed_statuses() {
    let parsed = parse_ok(&status_body("played", "1752000300", ""));
    assert_eq!(parsed.statuses, vec![status("played", 1_752_000_300)]);
    let parsed = parse_ok(&status_body("deleted", "1752000301", ""));
    assert_eq!(parsed.statuses, vec![status("deleted", 1_752_000_301)]);

    let parsed = parse_ok(&status_body(
        "failed",
        "1752000400",
        r#","errors":[{"code":131050,"title":"Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business","message":"Unable to deliver the message.","error_data":{"details":"stopped marketing"},"href":"https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]"#,
    ));
    let mut expected = status("failed", 1_752_000_400);
    expected.error_code = Some(131_050);
    expected.error_title = Some("Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business".into());
    assert_eq!(parsed.statuses, vec![expected]);
}

#[test]
fn unknown_statuses_are_skipped_and_unknown_pricing_values_are_null() {
    let parsed = parse_ok(&status_body("warning", "1752000500", ""));
    assert!(parsed.statuses.is_empty());
    assert_eq!(parsed.skipped.len(), 1);
    assert!(
        parsed.skipped[0].contains("'warning' is not one of"),
        "{:?}",
        parsed.skipped
    );
    // The body is kept even so.
    assert_eq!(parsed.body.tenant_id.as_deref(), Some("t1"));

    let parsed = parse_ok(&status_body(
        "sent",
        "1752000600",
        r#","pricing":{"pricing_model":"XYZ","type":"free_something","category":"marketing_lite"}"#,
    ));
    let mut expected = status("sent", 1_752_000_600);
    expected.pricing_category = Some("marketing_lite".into());
    assert_eq!(parsed.statuses, vec![expected]);
    assert_eq!(parsed.skipped.len(), 2, "{:?}", parsed.skipped);
}

#[test]
fn a_phone_number_no_channel_has_is_kept_unrouted() {
    let raw = body_for(
        "555000111",
        &format!(
            r#"{PROFILE},"messages":[{{"from":"{USER}","id":"wamid.lost","timestamp":"1749418000","type":"text","text":{{"body":"hello?"}}}}]"#
        ),
    );
    let parsed = parse_ok(&raw);
    assert!(parsed.messages.is_empty() && parsed.contacts.is_empty());
    assert_eq!(
        parsed.unrouted,
        vec![UnroutedRow {
            tenant_id: None,
            platform: "whatsapp",
            body_sha256: parsed.body.body_sha256.clone(),
            phone_number_id: Some("555000111".into()),
            reason: "phone_number_id 555000111 is in no channels row".into(),
            // The message's time, although it is not routed.
            ts: 1_749_418_000_000_000,
            received_at: RECEIVED,
            body: raw.clone(),
        }]
    );
    assert_eq!(parsed.body.tenant_id, None);

    // Two channels with one number: the tenant is unclear, so nobody gets it.
    let parsed = parse_ok(&body_for("999", r#""statuses":[]"#));
    assert_eq!(parsed.unrouted.len(), 1);
    assert_eq!(
        parsed.unrouted[0].reason,
        "phone_number_id 999 is in 2 channels rows: the tenant is unclear"
    );

    // A body with a change for us and one for an unknown number: our rows are routed, the body
    // is kept unrouted too, and no tenant sees the raw body (part of it is not theirs).
    let ours = r#"{"value":{"metadata":{"phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.m1","status":"sent","timestamp":"1752000000","recipient_id":"16505551234"}]},"field":"messages"}"#;
    let theirs = r#"{"value":{"metadata":{"phone_number_id":"555000111"},"statuses":[{"id":"wamid.m2","status":"sent","timestamp":"1751000000","recipient_id":"16505551234"}]},"field":"messages"}"#;
    let mixed = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"{WABA}","changes":[{ours},{theirs}]}}]}}"#
    );
    let parsed = parse_ok(&mixed);
    assert_eq!(
        parsed.statuses,
        vec![StatusRow {
            message_id: "wamid.m1".into(),
            ..status("sent", 1_752_000_000)
        }]
    );
    assert_eq!(parsed.unrouted.len(), 1);
    assert_eq!(
        parsed.unrouted[0].phone_number_id.as_deref(),
        Some("555000111")
    );
    assert_eq!(parsed.body.tenant_id, None);
    // The earliest event of the body, routed or not: 1751000000.
    assert_eq!(parsed.body.ts, 1_751_000_000_000_000);
    assert_eq!(parsed.unrouted[0].ts, 1_751_000_000_000_000);

    // Another platform's body on this endpoint.
    let parsed = parse_ok(r#"{"object":"page","entry":[]}"#);
    assert_eq!(parsed.unrouted.len(), 1);
    assert_eq!(parsed.unrouted[0].phone_number_id, None);
    assert_eq!(
        parsed.unrouted[0].reason,
        "object is 'page', not whatsapp_business_account"
    );
}

#[test]
fn other_fields_and_unknown_members_are_ignored() {
    let raw = r#"{"object":"whatsapp_business_account","future":1,"entry":[{"id":"102290129340398","changes":[{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":1}}]}]}"#;
    let parsed = parse_ok(raw);
    assert!(parsed.messages.is_empty() && parsed.unrouted.is_empty() && parsed.skipped.is_empty());
    assert_eq!(parsed.body.ts, RECEIVED, "no event time: the receipt time");
}

#[test]
fn only_json_objects_are_bodies() {
    assert!(
        parse("{\"object\":", RECEIVED, &routes())
            .unwrap_err()
            .starts_with("invalid JSON")
    );
    assert_eq!(
        parse("[1,2]", RECEIVED, &routes()).unwrap_err(),
        "not a webhook body: the JSON is not an object"
    );
}

#[test]
fn the_body_hash_is_sha256_of_the_raw_text() {
    // FIPS 180-2 example: SHA-256("abc").
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn decoded_rows_get_the_derived_columns() {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int32Type;
    let mut collected = expand::parse_bodies(
        &[
            expand::Incoming {
                platform: crate::ingest::webhook::Platform::Whatsapp,
                raw: inbound("wamid.d1", "1749416383", "text", r#","text":{"body":"hi"}"#),
                received_at: RECEIVED,
                origin: "t:1".into(),
            },
            expand::Incoming {
                platform: crate::ingest::webhook::Platform::Whatsapp,
                raw: status_body(
                    "failed",
                    "1752000400",
                    r#","errors":[{"code":131050,"title":"stopped"}]"#,
                ),
                received_at: RECEIVED,
                origin: "t:2".into(),
            },
        ],
        &routes(),
    );
    let batches = collected.decode(RECEIVED).unwrap();
    assert_eq!(collected.skipped, Vec::<String>::new());
    let table = |name: &str| {
        batches
            .iter()
            .find(|(def, _)| def.name == name)
            .map(|(_, b)| b.clone())
            .unwrap()
    };
    let messages = table("messages");
    assert_eq!(messages.num_rows(), 1);
    let text = |b: &arrow::array::RecordBatch, c: &str| {
        b.column_by_name(c)
            .unwrap()
            .as_string::<i32>()
            .value(0)
            .to_string()
    };
    // +1 650 555 1234: a US number (San Francisco Bay Area, 650).
    assert_eq!(text(&messages, "country_code"), "US");
    assert_eq!(
        messages
            .column_by_name("calling_code")
            .unwrap()
            .as_primitive::<Int32Type>()
            .value(0),
        1
    );
    assert_eq!(text(&messages, "author_type"), "contact");
    assert!(
        !messages
            .column_by_name("is_template")
            .unwrap()
            .as_boolean()
            .value(0)
    );
    let statuses = table("message_statuses");
    // Reference 5.4: 131050 = the user stopped marketing messages.
    assert_eq!(text(&statuses, "error_bucket"), "opted_out_marketing");
    let bodies = table("webhook_bodies");
    assert_eq!(bodies.num_rows(), 2);
    assert!(bodies.column_by_name("tenant_id").unwrap().is_valid(0));
}
