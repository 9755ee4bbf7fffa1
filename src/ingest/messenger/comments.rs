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
//! shares) and a `verb` other than `add` (`edited`, `remove`: the first version stays) give
//! none and are noted.
//!
//! **Replies and `matched`.** The page's or account's own comments (`from.id` = `entry[].id`)
//! are not comments received. One whose `parent_id` is another comment (not the post itself)
//! is a public reply to it: a `comment_replies` row (`comment_id` = `parent_id`, `reply_id` =
//! its own id, `reply_kind = 'public'`); one on the post itself is noted and dropped. Whether a
//! reply rule matched is the bot's decision and is not in the webhook; what the webhooks show
//! is its effect, the page's reply. So webhook comments are stored with `matched = false`, and
//! the comment reports (`stella_comment_replies`, `stella_comment_details`) count a comment as
//! matched when its row says so (a bot that records its matches loads them with
//! `chatlake ingest --table comments`) **or** a `comment_replies` row answers it: computed at
//! query time, so the answer does not depend on whether the reply's webhook arrived before or
//! after the comment's. A private reply (a Messenger message sent with `recipient.comment_id`)
//! is not recognisable: its echo names the user, not the comment; a bot that sends them can
//! load `comment_replies` rows with `reply_kind = 'private'`.

use serde_json::Value;

use super::messaging::epoch;
use super::rows::{CommentReplyRow, CommentRow};
use crate::ingest::webhook::Platform;
use crate::ingest::whatsapp::text;

/// What one change gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new comment.
    Comment(Box<CommentRow>),
    /// The page's (account's) public reply to a comment.
    Reply(Box<CommentReplyRow>),
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
    let ts = || {
        epoch(v.get("created_time"))
            .or(entry_time)
            .ok_or_else(|| format!("comment {id}: no usable created_time or entry time"))
    };
    if from == Some(owner) {
        let whose = if platform == Platform::Instagram {
            "account"
        } else {
            "page"
        };
        let parent = text(v, &["parent_id"]).filter(|p| Some(*p) != post);
        let Some(parent) = parent else {
            return Ok(Change::Ignored(format!(
                "comment {id}: written by the {whose} itself on the post (not a reply)"
            )));
        };
        return Ok(Change::Reply(Box::new(CommentReplyRow {
            tenant_id: tenant_id.to_string(),
            channel_id: channel_id.to_string(),
            comment_id: parent.to_string(),
            reply_id: id.to_string(),
            post_id: post.map(str::to_string),
            reply_kind: "public",
            ts: ts()?,
            text: said.filter(|s| !s.is_empty()).map(str::to_string),
        })));
    }
    let post = post.ok_or_else(|| format!("comment {id}: no post or media id"))?;
    let ts = ts()?;
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
