//! `GET` and `POST /webhooks/whatsapp`, `/webhooks/messenger` and `/webhooks/instagram` on the
//! ingest listener (`chatlake serve --ingest-listen`): one Meta app's verify token and secret
//! for all three, each endpoint's bodies read by its platform's parser ([`Platform`]).
//!
//! | request                                   | answer                                                                 |
//! |-------------------------------------------|------------------------------------------------------------------------|
//! | `GET` with `hub.mode=subscribe`, `hub.verify_token` = `CHATLAKE_WEBHOOK_VERIFY_TOKEN`, `hub.challenge` | `200`, the challenge as a `text/plain` body (Meta's verification handshake) |
//! | `GET`, anything else (or no verify token configured) | `403`                                                        |
//! | `POST`, no `CHATLAKE_WEBHOOK_SECRET` configured | `503` (Meta retries; nothing is lost while the secret is being set)  |
//! | `POST`, body over `--ingest-max-body`     | `413`, `Connection: close`                                              |
//! | `POST`, `X-Hub-Signature-256` missing or not `sha256=` + hex HMAC-SHA256 of the raw body with the secret (compared in constant time) | `401` |
//! | `POST`, signed, not a JSON object         | `400 {"error"}`                                                         |
//! | `POST`, signed JSON object                | appended to the write-ahead log as one record of the platform's [`Platform::wal_table`] (the raw bytes), fsynced, then `200 {"status":"stored"}`; a full WAL or a disk error: `503` with `Retry-After` |
//!
//! The body is parsed, routed and committed by the flusher ([`crate::ingest::flusher`]), with
//! the channels of that moment. A body whose phone number (page) no channel has is still `200`: it
//! lands in `webhook_unrouted`. A redelivered body adds nothing: its rows, and the body itself,
//! are dropped by their natural keys at commit.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::ingest::http::{closing, error, json, read_body};
use crate::ingest::wal::{AppendError, Wal};
use crate::ingest::webhook::Platform;

/// The signature header Meta sends.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The verify token and app secret of the Meta app (unset: the endpoint refuses).
#[derive(Clone, Default)]
pub struct WebhookSecrets {
    /// `CHATLAKE_WEBHOOK_VERIFY_TOKEN`: the token typed into the Meta app's webhook settings.
    pub verify_token: Option<String>,
    /// `CHATLAKE_WEBHOOK_SECRET`: the Meta app secret that signs every body.
    pub app_secret: Option<String>,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecrets")
            .field("verify_token", &self.verify_token.as_ref().map(|_| "***"))
            .field("app_secret", &self.app_secret.as_ref().map(|_| "***"))
            .finish()
    }
}

/// What the webhook handlers share.
#[derive(Debug)]
pub struct ReceiverState {
    /// The write-ahead log.
    pub wal: Arc<Wal>,
    /// The Meta app's secrets.
    pub secrets: WebhookSecrets,
    /// Largest body, in bytes.
    pub max_body: usize,
    /// Time allowed to receive a body.
    pub body_timeout: Duration,
}

/// The webhook routes, to merge into the ingest listener's router.
pub fn routes(state: Arc<ReceiverState>) -> Router {
    let mut router = Router::new();
    for platform in Platform::ALL {
        router = router.route(
            &format!("/webhooks/{}", platform.name()),
            get(verify).post(
                move |state: State<Arc<ReceiverState>>, headers: HeaderMap, body: Body| {
                    receive(platform, state, headers, body)
                },
            ),
        );
    }
    router.with_state(state)
}

/// Compares without stopping at the first difference (the length is not secret).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(0u8, |acc, (x, y)| std::hint::black_box(acc | (x ^ y)))
            == 0
}

/// Meta's verification handshake.
async fn verify(State(state): State<Arc<ReceiverState>>, uri: Uri) -> Response {
    let (mut mode, mut token, mut challenge) = (None, None, None);
    for (key, value) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "hub.mode" => mode = Some(value.into_owned()),
            "hub.verify_token" => token = Some(value.into_owned()),
            "hub.challenge" => challenge = Some(value.into_owned()),
            _ => {}
        }
    }
    let expected = state.secrets.verify_token.as_deref().unwrap_or("");
    let token_ok =
        !expected.is_empty() && token.is_some_and(|t| same(t.as_bytes(), expected.as_bytes()));
    if mode.as_deref() != Some("subscribe") || !token_ok {
        return (
            StatusCode::FORBIDDEN,
            "verification refused: hub.mode must be subscribe and hub.verify_token must equal CHATLAKE_WEBHOOK_VERIFY_TOKEN\n",
        )
            .into_response();
    }
    match challenge {
        Some(challenge) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
            challenge,
        )
            .into_response(),
        None => (StatusCode::BAD_REQUEST, "hub.challenge is missing\n").into_response(),
    }
}

/// Whether `header` is `sha256=` + the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature_ok(header: Option<&[u8]>, body: &[u8], secret: &[u8]) -> bool {
    let Some(hex) = header.and_then(|h| h.strip_prefix(b"sha256=")) else {
        return false;
    };
    let Some(given) = unhex(hex.trim_ascii()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given).is_ok()
}

/// Bytes of hex text (either case), `None` when it is not hex.
fn unhex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    text.chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Why a body is not a webhook body, if it is not a JSON object.
fn not_a_json_object(body: &[u8]) -> Option<String> {
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        return Some(format!("the body is not valid JSON: {e}"));
    }
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Some("the body is JSON but not an object".to_string());
    }
    None
}

/// A body from Meta for `platform`: checked, made durable, acknowledged.
async fn receive(
    platform: Platform,
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(secret) = state
        .secrets
        .app_secret
        .as_deref()
        .filter(|s| !s.is_empty())
    else {
        let mut response = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhooks are not configured: set CHATLAKE_WEBHOOK_SECRET (the Meta app secret)",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        // The body was not read: the connection cannot carry another request.
        return closing(response);
    };
    let body = match read_body(&headers, body, state.max_body, state.body_timeout).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let signature = headers.get(SIGNATURE_HEADER).map(HeaderValue::as_bytes);
    if !signature_ok(signature, &body, secret.as_bytes()) {
        let why = if signature.is_none() {
            "missing X-Hub-Signature-256 header"
        } else {
            "X-Hub-Signature-256 does not match the body (sha256=<hex HMAC-SHA256 of the raw body with the app secret>)"
        };
        return error(StatusCode::UNAUTHORIZED, why);
    }
    if let Some(why) = not_a_json_object(&body) {
        return error(StatusCode::BAD_REQUEST, why);
    }
    let received_at = chrono::Utc::now().timestamp_micros();
    match state
        .wal
        .append(platform.wal_table(), received_at, 1, &body)
        .await
    {
        Ok(()) => json(StatusCode::OK, &serde_json::json!({ "status": "stored" })),
        Err(AppendError::TooLarge(why)) => error(StatusCode::PAYLOAD_TOO_LARGE, why),
        Err(e) => {
            let mut response = error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{e}; the body was not stored"),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // HMAC-SHA256 test vector of RFC 4231, test case 2: key "Jefe",
    // data "what do ya want for nothing?".
    const RFC4231_2: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn signatures_follow_rfc_4231() {
        let body = b"what do ya want for nothing?";
        let header = format!("sha256={RFC4231_2}");
        assert!(signature_ok(Some(header.as_bytes()), body, b"Jefe"));
        let upper = format!("sha256={}", RFC4231_2.to_uppercase());
        assert!(signature_ok(Some(upper.as_bytes()), body, b"Jefe"));
        assert!(!signature_ok(Some(header.as_bytes()), body, b"jefe"));
        assert!(!signature_ok(
            Some(header.as_bytes()),
            b"what do ya want for nothing!",
            b"Jefe"
        ));
        assert!(
            !signature_ok(Some(RFC4231_2.as_bytes()), body, b"Jefe"),
            "no sha256= prefix"
        );
        assert!(!signature_ok(Some(b"sha256=zz"), body, b"Jefe"));
        assert!(!signature_ok(None, body, b"Jefe"));
    }

    #[test]
    fn only_json_objects_are_bodies() {
        assert_eq!(not_a_json_object(br#" {"object":"x"}"#), None);
        assert!(not_a_json_object(b"[1]").is_some_and(|w| w.contains("not an object")));
        assert!(not_a_json_object(b"{\"a\":").is_some_and(|w| w.contains("not valid JSON")));
    }
}
