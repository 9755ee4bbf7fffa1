//! Parser vectors. Each body follows Meta's documented example of its webhook (Messenger
//! Platform webhook reference: `messages`, `messaging_postbacks`, `message_echoes`,
//! `message_deliveries`, `message_reads`; Instagram messaging webhooks: `messages`,
//! `messaging_seen`; Page `feed` and Instagram `comments` change webhooks), with the
//! placeholders filled in; the expected rows are written out by hand from the mapping tables of
//! the module docs. Times: a messaging `timestamp` of N ms is N * 10^3 µs; a `created_time` or
//! comment `entry.time` of N s is N * 10^6 µs.

#![allow(clippy::unwrap_used)]

use super::rows::{CommentReplyRow, CommentRow, Watermark};
use crate::ingest::webhook::Platform;
use crate::ingest::whatsapp::Parsed;
use crate::ingest::whatsapp::route::Routes;
use crate::ingest::whatsapp::rows::{
    AnalyticsRow, ContactEventRow, MessageRow, StatusRow, UnroutedRow,
};

const PAGE: &str = "106540352242922";
const IG: &str = "17841405822304914";
const PSID: &str = "1254459154682919";
const IGSID: &str = "6297372296968282";
/// 2026-01-01T00:00:00Z.
const RECEIVED: i64 = 1_767_225_600_000_000;

fn routes() -> Routes {
    Routes::from_channels(Vec::<(&str, &str, &str)>::new()).with_pages([
        ("messenger", PAGE, "t1", "fb1"),
        ("instagram", IG, "t1", "ig1"),
        // A page two tenants claim.
        ("messenger", "777", "t2", "fbA"),
        ("messenger", "777", "t3", "fbB"),
        // The Instagram account's id as a Messenger page of another channel type: not taken
        // by Messenger bodies.
        ("whatsapp", "555", "t1", "wa1"),
    ])
}

fn parse(platform: Platform, raw: &str) -> Parsed {
    super::parse(platform, raw, RECEIVED, &routes()).unwrap()
}

/// A Messenger body of our page with one messaging event.
fn page_event(event: &str) -> String {
    format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":1458692752478,"messaging":[{event}]}}]}}"#
    )
}

/// A Messenger body of our page with one event of the user at `ms` with `members` (after
/// `sender`, `recipient` and `timestamp`).
fn user_event(ms: i64, members: &str) -> String {
    page_event(&format!(
        r#"{{"sender":{{"id":"{PSID}"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{ms},{members}}}"#
    ))
}

/// An Instagram body of our account with one messaging event.
fn ig_event(event: &str) -> String {
    format!(
        r#"{{"object":"instagram","entry":[{{"time":1569262486134,"id":"{IG}","messaging":[{event}]}}]}}"#
    )
}

/// A user's message on the page at `ms` with `message` members after `mid`.
fn from_user(mid: &str, ms: i64, members: &str) -> String {
    page_event(&format!(
        r#"{{"sender":{{"id":"{PSID}"}},"recipient":{{"id":"{PAGE}"}},"timestamp":{ms},"message":{{"mid":"{mid}"{members}}}}}"#
    ))
}

fn inbound(mid: &str, ms: i64, msg_type: &'static str) -> MessageRow {
    MessageRow {
        tenant_id: "t1".into(),
        channel_id: "fb1".into(),
        message_id: mid.into(),
        direction: "inbound",
        ts: ms * 1_000,
        contact_id: PSID.into(),
        msg_type,
        ..MessageRow::default()
    }
}

fn only_message(platform: Platform, raw: &str) -> MessageRow {
    let parsed = parse(platform, raw);
    assert_eq!(parsed.skipped, Vec::<String>::new());
    assert_eq!(parsed.unrouted, Vec::new());
    assert_eq!(parsed.messages.len(), 1, "{parsed:?}");
    parsed.messages[0].clone()
}

#[test]
fn a_text_message_gives_the_message_and_the_body() {
    let raw = from_user(
        "mid.1457764197618:41d102a3e1ae206a38",
        1458692752478,
        r#","text":"hello, world!""#,
    );
    let parsed = parse(Platform::Messenger, &raw);
    assert_eq!(
        parsed.messages,
        vec![MessageRow {
            body_text: Some("hello, world!".into()),
            ..inbound(
                "mid.1457764197618:41d102a3e1ae206a38",
                1458692752478,
                "text"
            )
        }]
    );
    assert!(parsed.statuses.is_empty() && parsed.comments.is_empty() && parsed.contacts.is_empty());
    assert_eq!(parsed.body.platform, "messenger");
    assert_eq!(parsed.body.tenant_id.as_deref(), Some("t1"));
    assert_eq!(parsed.body.phone_number_id.as_deref(), Some(PAGE));
    assert_eq!(parsed.body.ts, 1_458_692_752_478_000);
    assert_eq!(parsed.body.received_at, RECEIVED);
    assert_eq!(parsed.body.body, raw);
    assert_eq!(
        parsed.body.body_sha256,
        crate::ingest::whatsapp::sha256_hex(raw.as_bytes())
    );
}

#[test]
fn a_quick_reply_is_an_interactive_message_with_its_payload() {
    let raw = from_user(
        "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P",
        1458692752478,
        r#","text":"Red","quick_reply":{"payload":"DEVELOPER_DEFINED_PAYLOAD_FOR_PICKING_RED"}"#,
    );
    assert_eq!(
        only_message(Platform::Messenger, &raw),
        MessageRow {
            interaction_id: Some("DEVELOPER_DEFINED_PAYLOAD_FOR_PICKING_RED".into()),
            body_text: Some("Red".into()),
            ..inbound(
                "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P",
                1458692752478,
                "interactive"
            )
        }
    );
}

#[test]
fn attachments_give_their_type_and_a_reply_its_context() {
    let cases: [(&str, &'static str, Option<&str>); 6] = [
        (
            r#"{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/a.jpg"}}"#,
            "image",
            None,
        ),
        (
            r#"{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/s.png","sticker_id":369239263222822}}"#,
            "sticker",
            None,
        ),
        (
            r#"{"type":"audio","payload":{"url":"https://x/a.mp4"}}"#,
            "audio",
            None,
        ),
        (
            r#"{"type":"video","payload":{"url":"https://x/v.mp4"}}"#,
            "video",
            None,
        ),
        (
            r#"{"type":"file","title":"invoice.pdf","payload":{"url":"https://x/invoice.pdf"}}"#,
            "document",
            Some("invoice.pdf"),
        ),
        (
            r#"{"type":"fallback","payload":{"url":"https://example.com"}}"#,
            "unsupported",
            Some("attachment: fallback"),
        ),
    ];
    for (attachment, msg_type, body_text) in cases {
        let raw = from_user(
            "m_att",
            1458692752478,
            &format!(r#","reply_to":{{"mid":"m_earlier"}},"attachments":[{attachment}]"#),
        );
        assert_eq!(
            only_message(Platform::Messenger, &raw),
            MessageRow {
                context_message_id: Some("m_earlier".into()),
                body_text: body_text.map(str::to_string),
                ..inbound("m_att", 1458692752478, msg_type)
            },
            "{attachment}"
        );
    }
}

#[test]
fn an_echo_is_the_page_s_outbound_message_to_the_recipient() {
    let echo = |app: &str| {
        page_event(&format!(
            r#"{{"sender":{{"id":"{PAGE}"}},"recipient":{{"id":"{PSID}"}},"timestamp":1457764197627,"message":{{"is_echo":true,{app}"metadata":"<DEVELOPER_DEFINED_METADATA_STRING>","mid":"mid.1457764197618:41d102a3e1ae206a38","text":"hello, world!"}}}}"#
        ))
    };
    let expected = |author_type: &'static str, author_id: Option<&str>| MessageRow {
        direction: "outbound",
        body_text: Some("hello, world!".into()),
        author_type: Some(author_type),
        author_id: author_id.map(str::to_string),
        ..inbound(
            "mid.1457764197618:41d102a3e1ae206a38",
            1457764197627,
            "text",
        )
    };
    assert_eq!(
        only_message(Platform::Messenger, &echo(r#""app_id":1517776481860111,"#)),
        expected("api", Some("1517776481860111"))
    );
    // Sent by a person from the Page Inbox, or without an app.
    assert_eq!(
        only_message(Platform::Messenger, &echo(r#""app_id":263902037430900,"#)),
        expected("agent", Some("263902037430900"))
    );
    assert_eq!(
        only_message(Platform::Messenger, &echo("")),
        expected("agent", None)
    );
}

#[test]
fn a_postback_is_a_button_message_with_its_ad_referral() {
    // Meta's example gives this timestamp in seconds.
    let raw = page_event(&format!(
        r#"{{"sender":{{"id":"{PSID}"}},"recipient":{{"id":"{PAGE}"}},"timestamp":1527459824,"postback":{{"mid":"m_MESSAGE-ID","title":"Get Started","payload":"GET_STARTED_PAYLOAD","referral":{{"ref":"summer","source":"ADS","type":"OPEN_THREAD","ad_id":"6045246247433"}}}}}}"#
    ));
    assert_eq!(
        only_message(Platform::Messenger, &raw),
        MessageRow {
            ts: 1_527_459_824_000_000,
            interaction_id: Some("GET_STARTED_PAYLOAD".into()),
            body_text: Some("Get Started".into()),
            referral_source_type: Some("ad".into()),
            referral_source_id: Some("6045246247433".into()),
            ..inbound("m_MESSAGE-ID", 0, "button")
        }
    );
    // An older postback without a mid gets one from its sender and time.
    let raw = page_event(&format!(
        r#"{{"sender":{{"id":"{PSID}"}},"recipient":{{"id":"{PAGE}"}},"timestamp":1527459824123,"postback":{{"title":"Menu","payload":"MENU"}}}}"#
    ));
    assert_eq!(
        only_message(Platform::Messenger, &raw).message_id,
        format!("postback:{PSID}:1527459824123")
    );
}

#[test]
fn a_delivery_with_mids_gives_one_status_per_message() {
    // Meta's example has no timestamp: the watermark stands in.
    let raw = page_event(&format!(
        r#"{{"sender":{{"id":"{PSID}"}},"recipient":{{"id":"{PAGE}"}},"delivery":{{"mids":["mid.1458668856218:ed81099e15d3f4f233","mid.1458668856219:aa"],"watermark":1458668856253}}}}"#
    ));
    let parsed = parse(Platform::Messenger, &raw);
    let status = |mid: &str| StatusRow {
        tenant_id: "t1".into(),
        channel_id: "fb1".into(),
        message_id: mid.into(),
        status: "delivered".into(),
        ts: 1_458_668_856_253_000,
        ..StatusRow::default()
    };
    assert_eq!(
        parsed.statuses,
        vec![
            status("mid.1458668856218:ed81099e15d3f4f233"),
            status("mid.1458668856219:aa")
        ]
    );
    assert_eq!(parsed.skipped, Vec::<String>::new());
    // No event timestamp: the body's time is the entry's.
    assert_eq!(parsed.body.ts, 1_458_692_752_478_000);
}

#[test]
fn a_messenger_read_is_a_watermark() {
    let raw = page_event(&format!(
        r#"{{"sender":{{"id":"{PSID}"}},"recipient":{{"id":"{PAGE}"}},"timestamp":1458668856463,"read":{{"watermark":1458668856253}}}}"#
    ));
    let parsed = parse(Platform::Messenger, &raw);
    assert_eq!(
        parsed.watermarks,
        vec![Watermark {
            tenant_id: "t1".into(),
            channel_id: "fb1".into(),
            contact_id: PSID.into(),
            status: "read",
            watermark: 1_458_668_856_253_000,
            ts: 1_458_668_856_463_000,
        }]
    );
    assert!(parsed.statuses.is_empty() && parsed.skipped.is_empty());
    assert_eq!(parsed.body.ts, 1_458_668_856_463_000);
}

#[test]
fn instagram_messages_and_seen_receipts() {
    let raw = ig_event(&format!(
        r#"{{"sender":{{"id":"{IGSID}"}},"recipient":{{"id":"{IG}"}},"timestamp":1569262485349,"message":{{"mid":"aWdfZAG1faXRlbTox","text":"Hi there"}}}}"#
    ));
    assert_eq!(
        only_message(Platform::Instagram, &raw),
        MessageRow {
            channel_id: "ig1".into(),
            contact_id: IGSID.into(),
            body_text: Some("Hi there".into()),
            ..inbound("aWdfZAG1faXRlbTox", 1569262485349, "text")
        }
    );
    let raw = ig_event(&format!(
        r#"{{"sender":{{"id":"{IGSID}"}},"recipient":{{"id":"{IG}"}},"timestamp":1569262485349,"read":{{"mid":"aWdfZAG1faXRlbTpPUT"}}}}"#
    ));
    let parsed = parse(Platform::Instagram, &raw);
    assert_eq!(
        parsed.statuses,
        vec![StatusRow {
            tenant_id: "t1".into(),
            channel_id: "ig1".into(),
            message_id: "aWdfZAG1faXRlbTpPUT".into(),
            status: "read".into(),
            ts: 1_569_262_485_349_000,
            ..StatusRow::default()
        }]
    );
    // A story mention is a user action of an attachment type the lake has no name for.
    let raw = ig_event(&format!(
        r#"{{"sender":{{"id":"{IGSID}"}},"recipient":{{"id":"{IG}"}},"timestamp":1569262485349,"message":{{"mid":"m_story","attachments":[{{"type":"story_mention","payload":{{"url":"https://lookaside"}}}}]}}}}"#
    ));
    let row = only_message(Platform::Instagram, &raw);
    assert_eq!(
        (row.msg_type, row.body_text.as_deref()),
        ("unsupported", Some("attachment: story_mention"))
    );
    // An unsent message is no row; the body is kept.
    let raw = ig_event(&format!(
        r#"{{"sender":{{"id":"{IGSID}"}},"recipient":{{"id":"{IG}"}},"timestamp":1569262485349,"message":{{"mid":"m_gone","is_deleted":true}}}}"#
    ));
    let parsed = parse(Platform::Instagram, &raw);
    assert!(parsed.messages.is_empty());
    assert_eq!(
        parsed.skipped,
        vec!["message m_gone was deleted by its sender (no row)"]
    );
    assert_eq!(parsed.body.tenant_id.as_deref(), Some("t1"));
}

#[test]
fn a_page_feed_comment_is_a_comments_row() {
    let change = |value: &str| {
        format!(
            r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":1520383572,"changes":[{{"field":"feed","value":{value}}}]}}]}}"#
        )
    };
    let raw = change(&format!(
        r#"{{"from":{{"id":"{PSID}","name":"Cinderella Hoover"}},"item":"comment","post_id":"{PAGE}_444444444","comment_id":"{PAGE}_444444444_555","parent_id":"{PAGE}_444444444","verb":"add","created_time":1520383571,"message":"Is this still available?","post":{{"status_type":"added_photos","is_published":true}}}}"#
    ));
    let parsed = parse(Platform::Messenger, &raw);
    assert_eq!(
        parsed.comments,
        vec![CommentRow {
            tenant_id: "t1".into(),
            channel_id: "fb1".into(),
            post_id: format!("{PAGE}_444444444"),
            comment_id: format!("{PAGE}_444444444_555"),
            contact_id: Some(PSID.into()),
            ts: 1_520_383_571_000_000,
            text: Some("Is this still available?".into()),
            matched: false,
        }]
    );
    assert_eq!(parsed.body.ts, 1_520_383_571_000_000);
    // The page's own comment on its post, an edit, and a reaction are no comments received.
    for (value, note) in [
        (
            format!(
                r#"{{"from":{{"id":"{PAGE}","name":"Our Page"}},"item":"comment","post_id":"p","comment_id":"c2","parent_id":"p","verb":"add","created_time":1520383600,"message":"Yes!"}}"#
            ),
            "comment c2: written by the page itself on the post (not a reply)",
        ),
        (
            format!(
                r#"{{"from":{{"id":"{PSID}"}},"item":"comment","post_id":"p","comment_id":"c1","verb":"edited","created_time":1520383600,"message":"edit"}}"#
            ),
            "comment c1: verb 'edited' (only added comments are rows)",
        ),
        (
            format!(
                r#"{{"from":{{"id":"{PSID}"}},"item":"reaction","post_id":"p","verb":"add","reaction_type":"like","created_time":1520383600}}"#
            ),
            "a feed change of item 'reaction' (not a comment)",
        ),
    ] {
        let parsed = parse(Platform::Messenger, &change(&value));
        assert!(parsed.comments.is_empty());
        assert_eq!(parsed.skipped, vec![note]);
    }
}

#[test]
fn an_instagram_comment_is_a_comments_row_at_its_entry_time() {
    let raw = format!(
        r#"{{"object":"instagram","entry":[{{"id":"{IG}","time":1604027613,"changes":[{{"field":"comments","value":{{"from":{{"id":"232323232","username":"test"}},"media":{{"id":"123123123","media_product_type":"FEED"}},"id":"17865799348089039","parent_id":"1231231234","text":"This is an example."}}}}]}}]}}"#
    );
    let parsed = parse(Platform::Instagram, &raw);
    assert_eq!(
        parsed.comments,
        vec![CommentRow {
            tenant_id: "t1".into(),
            channel_id: "ig1".into(),
            post_id: "123123123".into(),
            comment_id: "17865799348089039".into(),
            contact_id: Some("232323232".into()),
            ts: 1_604_027_613_000_000,
            text: Some("This is an example.".into()),
            matched: false,
        }]
    );
    assert_eq!(parsed.skipped, Vec::<String>::new());
}

#[test]
fn unknown_kinds_are_counted_and_unknown_members_ignored() {
    let raw = page_event(&format!(
        r#"{{"sender":{{"id":"{PSID}"}},"recipient":{{"id":"{PAGE}"}},"timestamp":1458692752478,"reaction":{{"reaction":"smile","emoji":"\ud83d\ude04","action":"react","mid":"m_1"}}}},{{"sender":{{"id":"{PSID}"}},"recipient":{{"id":"{PAGE}"}},"timestamp":1458692752479,"brand_new":{{"x":1}},"message":{{"mid":"m_2","text":"hi","nlp":{{"entities":{{}}}},"future_member":[1,2]}}}}"#
    ));
    let parsed = parse(Platform::Messenger, &raw);
    assert_eq!(parsed.skipped, Vec::<String>::new());
    assert_eq!(
        parsed.messages,
        vec![
            MessageRow {
                message_id: format!("reaction:{PSID}:1458692752478"),
                context_message_id: Some("m_1".into()),
                body_text: Some("\u{1f604}".into()),
                ..inbound("-", 1458692752478, "reaction")
            },
            MessageRow {
                body_text: Some("hi".into()),
                ..inbound("m_2", 1458692752479, "text")
            }
        ]
    );
    let raw = user_event(
        1458692752478,
        r#""policy_enforcement":{"action":"block","reason":"spam"}"#,
    );
    assert_eq!(
        parse(Platform::Messenger, &raw).skipped,
        vec!["unknown event kind: policy_enforcement"]
    );
    let raw = format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":1458692752,"changes":[{{"field":"ratings","value":{{"x":1}}}}],"standby":[{{"sender":{{"id":"{PSID}"}}}}]}}]}}"#
    );
    let parsed = parse(Platform::Messenger, &raw);
    assert_eq!(
        parsed.skipped,
        vec![
            "unknown event kind: a change of field 'ratings'",
            "unknown event kind: 1 standby events (handover protocol)"
        ]
    );
    assert_eq!(parsed.body.tenant_id.as_deref(), Some("t1"));
}

#[test]
fn pages_no_channel_or_two_channels_have_are_kept_unrouted() {
    let unrouted = |id: Option<&str>, reason: &str, raw: &str, ts: i64| UnroutedRow {
        tenant_id: None,
        platform: "messenger",
        body_sha256: crate::ingest::whatsapp::sha256_hex(raw.as_bytes()),
        phone_number_id: id.map(str::to_string),
        reason: reason.into(),
        ts,
        received_at: RECEIVED,
        body: raw.to_string(),
    };
    let event = format!(
        r#"{{"sender":{{"id":"{PSID}"}},"recipient":{{"id":"x"}},"timestamp":1458692752478,"message":{{"mid":"m_1","text":"hi"}}}}"#
    );
    // Two entries: an unknown page and one claimed by two tenants; and the WhatsApp channel's
    // id, which is no Messenger page.
    let raw = format!(
        r#"{{"object":"page","entry":[{{"id":"888","messaging":[{event}]}},{{"id":"777","messaging":[{event}]}},{{"id":"555","messaging":[{event}]}}]}}"#
    );
    let parsed = parse(Platform::Messenger, &raw);
    assert!(parsed.messages.is_empty());
    let ts = 1_458_692_752_478_000;
    assert_eq!(
        parsed.unrouted,
        vec![
            unrouted(
                Some("888"),
                "page_id 888 is in no messenger channels row",
                &raw,
                ts
            ),
            unrouted(
                Some("777"),
                "page_id 777 is in 2 messenger channels rows: the tenant is unclear",
                &raw,
                ts
            ),
            unrouted(
                Some("555"),
                "page_id 555 is in no messenger channels row",
                &raw,
                ts
            ),
        ]
    );
    assert_eq!(parsed.body.tenant_id, None);
    assert_eq!(parsed.body.phone_number_id.as_deref(), Some("888"));
    // Another platform's body on the Instagram endpoint.
    let raw = from_user("m_3", 1458692752478, r#","text":"hi""#);
    let parsed = parse(Platform::Instagram, &raw);
    assert!(parsed.messages.is_empty());
    assert_eq!(parsed.unrouted.len(), 1);
    assert_eq!(parsed.unrouted[0].platform, "instagram");
    assert_eq!(parsed.unrouted[0].reason, "object is 'page', not instagram");
    assert_eq!(parsed.body.ts, RECEIVED);
}

#[test]
fn only_json_objects_are_bodies() {
    let routes = routes();
    assert!(super::parse(Platform::Messenger, "[1]", RECEIVED, &routes).is_err());
    assert!(super::parse(Platform::Messenger, "{", RECEIVED, &routes).is_err());
    let parsed = super::parse(Platform::Messenger, "{}", RECEIVED, &routes).unwrap();
    assert_eq!(
        parsed.unrouted[0].reason,
        "the body has no object member (expected page)"
    );
}

#[test]
fn a_reaction_is_a_reaction_message_about_the_reacted_to_message() {
    // Meta's `message_reactions` example: a heart on one of the page's messages, then removed.
    let event = |action: &str, ms: i64| {
        user_event(
            ms,
            &format!(
                r#""reaction":{{"reaction":"love","emoji":"\u2764\ufe0f","action":"{action}","mid":"m_out_1"}}"#
            ),
        )
    };
    let expected = |ms: i64, body_text: Option<&str>| MessageRow {
        message_id: format!("reaction:{PSID}:{ms}"),
        context_message_id: Some("m_out_1".into()),
        body_text: body_text.map(str::to_string),
        ..inbound("-", ms, "reaction")
    };
    assert_eq!(
        only_message(Platform::Messenger, &event("react", 1458668856463)),
        expected(1458668856463, Some("\u{2764}\u{fe0f}"))
    );
    // Removed: no emoji, as a removed WhatsApp reaction.
    assert_eq!(
        only_message(Platform::Messenger, &event("unreact", 1458668856999)),
        expected(1458668856999, None)
    );
}

#[test]
fn a_referral_of_a_user_in_the_thread_is_an_analytics_event() {
    // Meta's `messaging_referrals` examples: an m.me link, then an ad.
    let raw = user_event(
        1458692752478,
        r#""referral":{"ref":"spring-sale","source":"SHORTLINK","type":"OPEN_THREAD"}"#,
    );
    let parsed = parse(Platform::Messenger, &raw);
    let row = |action: &str, label: &str| AnalyticsRow {
        tenant_id: "t1".into(),
        channel_id: "fb1".into(),
        contact_id: PSID.into(),
        ts: 1_458_692_752_478_000,
        category: "referral",
        action: action.into(),
        label: Some(label.into()),
        value: None,
    };
    assert_eq!(
        parsed.analytics_events,
        vec![row("shortlink", "spring-sale")]
    );
    assert!(parsed.messages.is_empty() && parsed.skipped.is_empty());
    let raw = user_event(
        1458692752478,
        &format!(
            r#""referral":{{"ref":"summer","ad_id":"6045246247433","source":"ADS","type":"OPEN_THREAD","ads_context_data":{{"ad_title":"Summer","post_id":"{PAGE}_1"}}}}"#
        ),
    );
    assert_eq!(
        parse(Platform::Messenger, &raw).analytics_events,
        vec![row("ads", "6045246247433")]
    );
}

#[test]
fn an_optin_is_a_contact_event() {
    // Meta's `messaging_optins` example for marketing (notification) messages; the same user
    // stopping them; the Send to Messenger plugin; a checkbox-plugin user with no PSID yet.
    let event = |optin: &str| user_event(1458692752478, &format!(r#""optin":{optin}"#));
    let row = |event_type: &'static str, method: &str, key: &str, value: &str| ContactEventRow {
        tenant_id: "t1".into(),
        channel_id: "fb1".into(),
        contact_id: PSID.into(),
        ts: 1_458_692_752_478_000,
        event_type,
        method: Some(method.into()),
        key: Some(key.into()),
        value: Some(value.into()),
    };
    let cases = [
        (
            r#"{"type":"notification_messages","payload":"WEEKLY_DEALS","notification_messages_token":"tok","notification_messages_frequency":"WEEKLY","notification_messages_timezone":"Asia/Kolkata","token_expiry_timestamp":1466692752478,"user_token_status":"NOT_REFRESHED","notification_messages_status":"RESUME_NOTIFICATIONS","title":"Deals"}"#,
            row(
                "opted_in",
                "notification_messages",
                "payload",
                "WEEKLY_DEALS",
            ),
        ),
        (
            r#"{"type":"notification_messages","payload":"WEEKLY_DEALS","notification_messages_token":"tok","notification_messages_status":"STOP_NOTIFICATIONS"}"#,
            row(
                "opted_out",
                "notification_messages",
                "payload",
                "WEEKLY_DEALS",
            ),
        ),
        (
            r#"{"ref":"PASS_THROUGH_PARAM","user_ref":"UNIQUE_REF_PARAM"}"#,
            row("opted_in", "plugin", "ref", "PASS_THROUGH_PARAM"),
        ),
    ];
    for (optin, expected) in cases {
        let parsed = parse(Platform::Messenger, &event(optin));
        assert_eq!(parsed.contact_events, vec![expected], "{optin}");
        assert!(parsed.skipped.is_empty());
    }
    let raw = page_event(&format!(
        r#"{{"sender":{{"user_ref":"UNIQUE_REF_PARAM"}},"recipient":{{"id":"{PAGE}"}},"timestamp":1458692752478,"optin":{{"ref":"PASS","user_ref":"UNIQUE_REF_PARAM"}}}}"#
    ));
    let parsed = parse(Platform::Messenger, &raw);
    assert!(parsed.contact_events.is_empty());
    assert_eq!(
        parsed.skipped,
        vec!["an optin of user_ref UNIQUE_REF_PARAM only (no PSID yet)"]
    );
}

#[test]
fn the_page_s_reply_to_a_comment_is_a_comment_reply() {
    // A page feed change of the page's own comment under a user's comment (parent_id = that
    // comment), and the Instagram account's reply (comments field, from = the account).
    let raw = format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":1520383700,"changes":[{{"field":"feed","value":{{"from":{{"id":"{PAGE}","name":"Our Page"}},"item":"comment","post_id":"{PAGE}_444444444","comment_id":"{PAGE}_444444444_777","parent_id":"{PAGE}_444444444_555","verb":"add","created_time":1520383690,"message":"Yes, still available"}}}}]}}]}}"#
    );
    let parsed = parse(Platform::Messenger, &raw);
    assert_eq!(
        parsed.comment_replies,
        vec![CommentReplyRow {
            tenant_id: "t1".into(),
            channel_id: "fb1".into(),
            comment_id: format!("{PAGE}_444444444_555"),
            reply_id: format!("{PAGE}_444444444_777"),
            post_id: Some(format!("{PAGE}_444444444")),
            reply_kind: "public",
            ts: 1_520_383_690_000_000,
            text: Some("Yes, still available".into()),
        }]
    );
    assert!(parsed.comments.is_empty() && parsed.skipped.is_empty());
    let raw = format!(
        r#"{{"object":"instagram","entry":[{{"id":"{IG}","time":1604027700,"changes":[{{"field":"comments","value":{{"from":{{"id":"{IG}","username":"our_shop"}},"media":{{"id":"123123123","media_product_type":"FEED"}},"id":"17865799348089100","parent_id":"17865799348089039","text":"Thanks!"}}}}]}}]}}"#
    );
    let parsed = parse(Platform::Instagram, &raw);
    assert_eq!(
        parsed.comment_replies,
        vec![CommentReplyRow {
            tenant_id: "t1".into(),
            channel_id: "ig1".into(),
            comment_id: "17865799348089039".into(),
            reply_id: "17865799348089100".into(),
            post_id: Some("123123123".into()),
            reply_kind: "public",
            ts: 1_604_027_700_000_000,
            text: Some("Thanks!".into()),
        }]
    );
}
