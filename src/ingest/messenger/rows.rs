//! The rows a Messenger or Instagram body gives beyond those it shares with WhatsApp
//! ([`crate::ingest::whatsapp::rows`]: messages, statuses, contact and analytics events,
//! bodies, unrouted parts).

use serde::Serialize;

/// One comment on a Facebook page post or an Instagram media (`comments`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommentRow {
    /// Routed tenant.
    pub tenant_id: String,
    /// Routed channel (the page, the Instagram account).
    pub channel_id: String,
    /// Facebook: `value.post_id`; Instagram: `value.media.id`.
    pub post_id: String,
    /// Facebook: `value.comment_id`; Instagram: `value.id`.
    pub comment_id: String,
    /// `value.from.id`: the commenter (page-scoped / Instagram-scoped user id).
    pub contact_id: Option<String>,
    /// Facebook: `value.created_time`; Instagram: `entry[].time` (comments carry no time).
    #[serde(serialize_with = "crate::ingest::whatsapp::rows::micros_text")]
    pub ts: i64,
    /// Facebook: `value.message`; Instagram: `value.text`.
    pub text: Option<String>,
    /// Always `false`: whether a reply rule of the bot matched is the bot's to say, not the
    /// platform's; the reports also count a comment the page replied to as matched (see the
    /// module docs of [`super::comments`]).
    pub matched: bool,
}

/// A page's or account's own public reply to a comment (`comment_replies`): the evidence that
/// the comment got an answer, from which the comment reports compute `matched`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommentReplyRow {
    /// Routed tenant.
    pub tenant_id: String,
    /// Routed channel (the page, the Instagram account).
    pub channel_id: String,
    /// `value.parent_id`: the comment replied to.
    pub comment_id: String,
    /// The reply's own id (Facebook: `value.comment_id`; Instagram: `value.id`).
    pub reply_id: String,
    /// Facebook: `value.post_id`; Instagram: `value.media.id`.
    pub post_id: Option<String>,
    /// `public` (a comment under the comment); `private` replies (a message to the commenter)
    /// are not recognisable in webhooks (see [`super::comments`]).
    pub reply_kind: &'static str,
    /// As for [`CommentRow::ts`].
    #[serde(serialize_with = "crate::ingest::whatsapp::rows::micros_text")]
    pub ts: i64,
    /// The reply's text.
    pub text: Option<String>,
}

/// A Messenger `read` or `delivery` that names no message: every outbound message of the
/// contact sent up to `watermark` was read (delivered) at `ts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watermark {
    /// Routed tenant.
    pub tenant_id: String,
    /// Routed channel.
    pub channel_id: String,
    /// The user (`sender.id`).
    pub contact_id: String,
    /// `read` or `delivered`.
    pub status: &'static str,
    /// `read.watermark` / `delivery.watermark`, µs.
    pub watermark: i64,
    /// The event's `timestamp` (else the watermark), µs.
    pub ts: i64,
}
