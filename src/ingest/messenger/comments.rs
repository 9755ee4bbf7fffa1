//! One `entry[].changes[]` of a Messenger (`field = "feed"`) or Instagram (`field =
//! "comments"`, `"live_comments"`) body to a `comments` row, for Stella's comment-to-reply
//! reports (`stella_comment_replies`, `stella_comment_details`, `stella_active_users`).
//!
//! | column       | Facebook page `feed` change          | Instagram `comments` change           |
//! |--------------|--------------------------------------|---------------------------------------|
//! | `post_id`    | `value.post_id`                      | `value.media.id`                      |
//! | `comment_id` | `value.comment_id`                   | `value.id`                            |
//! | `contact_id` | `value.from.id`                      | `value.from.id`                       |
//! | `ts`         | `value.created_time`, else `entry[].time` | `entry[].time`                   |
//! | `text`       | `value.message`                      | `value.text`                          |
//! | `matched`    | `false`                              | `false`                               |
//!
//! Only new comments are rows: a feed change whose `item` is not `comment` (posts, reactions,
//! shares), a `verb` other than `add` (`edited`, `remove`: the first version stays), and the
//! page's or account's own comments (`from.id` = `entry[].id`: its public replies, which are
//! not comments received) give none and are noted. Whether a reply rule matched is the bot's
//! decision and is not in the webhook: webhook comments are stored unmatched (`matched =
//! false`, `reply_kind` and `replied_at` NULL); a bot that records its matches loads them with
//! `chatlake ingest --table comments` before the webhooks of the same comments arrive (the
//! natural key keeps the first row).

use serde_json::Value;

use super::messaging::epoch;
use super::rows::CommentRow;
use crate::ingest::webhook::Platform;
use crate::ingest::whatsapp::text;

/// What one change gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new comment.
    Comment(Box<CommentRow>),
    /// A change this table does not hold, with why.
    Ignored(String),
}

/// The row of change `c` of `entry` (a page or account `owner`) of `platform`, or why the
/// change cannot be read; `entry_time` is `entry[].time` (µs).
pub fn change_row(
    platform: Platform,
    c: &Value,
    owner: &str,
    entry_time: Option<i64>,
    tenant_id: &str,
    channel_id: &str,
) -> Result<Change, String> {
    let field = text(c, &["field"]).unwrap_or("");
    let comment_field = match platform {
        Platform::Instagram => matches!(field, "comments" | "live_comments"),
        _ => field == "feed",
    };
    if !comment_field {
        return Err(format!("unknown event kind: a change of field '{field}'"));
    }
    let v = c
        .get("value")
        .ok_or_else(|| format!("a {field} change without value"))?;
    if platform != Platform::Instagram {
        let item = text(v, &["item"]).unwrap_or("");
        if item != "comment" {
            return Ok(Change::Ignored(format!(
                "a feed change of item '{item}' (not a comment)"
            )));
        }
    }
    let verb = text(v, &["verb"]).unwrap_or("add");
    let (post, id, said) = match platform {
        Platform::Instagram => (
            text(v, &["media", "id"]),
            text(v, &["id"]),
            text(v, &["text"]),
        ),
        _ => (
            text(v, &["post_id"]),
            text(v, &["comment_id"]),
            text(v, &["message"]),
        ),
    };
    let id = id.ok_or_else(|| format!("a {field} comment without its id"))?;
    if verb != "add" {
        return Ok(Change::Ignored(format!(
            "comment {id}: verb '{verb}' (only added comments are rows)"
        )));
    }
    let from = text(v, &["from", "id"]);
    if from == Some(owner) {
        return Ok(Change::Ignored(format!(
            "comment {id}: written by the {} itself (a reply, not a comment received)",
            if platform == Platform::Instagram {
                "account"
            } else {
                "page"
            }
        )));
    }
    let post = post.ok_or_else(|| format!("comment {id}: no post or media id"))?;
    let ts = epoch(v.get("created_time"))
        .or(entry_time)
        .ok_or_else(|| format!("comment {id}: no usable created_time or entry time"))?;
    Ok(Change::Comment(Box::new(CommentRow {
        tenant_id: tenant_id.to_string(),
        channel_id: channel_id.to_string(),
        post_id: post.to_string(),
        comment_id: id.to_string(),
        contact_id: from.map(str::to_string),
        ts,
        text: said.filter(|s| !s.is_empty()).map(str::to_string),
        matched: false,
    })))
}
