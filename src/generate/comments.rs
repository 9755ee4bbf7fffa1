//! Facebook and Instagram posts and their comments (Stella's comment-to-reply).
//!
//! | quantity | model |
//! |---|---|
//! | posts | per Messenger/Instagram channel, 0.3 a day (×campaign scale), in business hours |
//! | comments per post | log-normal, median 12; 60 % the first day, then 25 %, 10 %, 5 % |
//! | commenter | 75 % an existing contact of the channel, 25 % someone who is not a contact (`contact_id` NULL) |
//! | reply rule | matches 60 %: `public` 30 %, `private` 30 %, `both` 40 %, replied 2-40 s later; unmatched: `none` |
//! | private reply | a direct message from `automation` (`comment-to-dm`); 30 % of those who see it answer |

use super::clock::{HOUR, INBOUND_HOURS, SEC, cumulative, hour_from};
use super::contacts::{Contact, Population};
use super::day::{Act, ActKind};
use super::ids;
use super::names::{AUTOMATION_LINES, COMMENTS, FOLLOW_UPS};
use super::sim::{Attention, Ctx, Recv, Send};
use super::tables::{CommentRow, LakeRow};
use super::world::ChannelType;

/// A post collecting comments.
pub(crate) struct Post {
    channel: u8,
    id: String,
    posted_at: i64,
    total: f64,
    age: u32,
}

/// A tenant's live posts.
#[derive(Default)]
pub(crate) struct Posts {
    /// Posts younger than four days.
    pub active: Vec<Post>,
}

const DAY_SHARE: [f64; 4] = [0.6, 0.25, 0.1, 0.05];

/// Publishes today's posts and plans today's comments; comments by non-contacts are written
/// at once, those of contacts become activities.
pub(crate) fn plan(
    ctx: &mut Ctx<'_>,
    pop: &Population,
    posts: &mut Posts,
    exist: &[usize],
    acts: &mut Vec<Act>,
) {
    let tenant = ctx.tenant;
    posts.active.retain(|p| p.age < DAY_SHARE.len() as u32);
    for (ci, ch) in tenant.channels.iter().enumerate() {
        if !matches!(ch.ctype, ChannelType::Messenger | ChannelType::Instagram) {
            continue;
        }
        let n = ctx.rng.poisson(0.3 * ctx.scale.campaigns).min(5);
        for _ in 0..n {
            let hour = 10 + ctx.rng.below(8) as usize;
            let posted_at = ctx.local_at(hour, HOUR);
            let page = ch.page_id.as_deref().unwrap_or("0");
            let id = format!(
                "{page}_{}",
                100_000_000_000_000u64 + ctx.rng.below(900_000_000_000_000)
            );
            let total = ctx.rng.lognormal(12.0, 1.0) * ctx.scale.campaigns.sqrt();
            posts.active.push(Post {
                channel: ci as u8,
                id,
                posted_at,
                total,
                age: 0,
            });
        }
    }
    let hours = cumulative(&INBOUND_HOURS);
    let day_start = ctx.local.start();
    for (pi, post) in posts.active.iter_mut().enumerate() {
        let share = DAY_SHARE[post.age as usize % DAY_SHARE.len()];
        post.age += 1;
        let n = ctx.rng.poisson(post.total * share);
        let list = &pop.by_channel[post.channel as usize];
        let n_exist = exist
            .get(post.channel as usize)
            .copied()
            .unwrap_or(0)
            .min(list.len());
        for _ in 0..n {
            let ts = if post.age == 1 {
                post.posted_at + (ctx.rng.exp(3.0 * 3600.0) * SEC as f64) as i64
            } else {
                ctx.local.at(
                    hour_from(&hours, ctx.rng.f64()),
                    ctx.rng.below(HOUR as u64) as i64,
                )
            };
            if ts < day_start.max(ctx.start_utc) || ts >= ctx.next_day || ts >= ctx.horizon {
                continue;
            }
            if n_exist > 0 && ctx.rng.chance(0.75) {
                let ci = list[ctx.rng.below(n_exist as u64) as usize];
                acts.push(Act {
                    contact: ci,
                    ts,
                    rank: 3,
                    kind: ActKind::Comment { post: pi as u32 },
                });
            } else {
                let key = ctx.next_key();
                write_comment(ctx, post, key, None, ts);
            }
        }
    }
}

fn write_comment(
    ctx: &mut Ctx<'_>,
    post: &Post,
    key: u64,
    contact: Option<&str>,
    ts: i64,
) -> (&'static str, Option<i64>) {
    let tenant = ctx.tenant;
    let ch = &tenant.channels[post.channel as usize];
    let matched = ctx.rng.chance(0.6);
    let reply_kind = if matched {
        ["public", "private", "both"][ctx.rng.weighted(&[0.3, 0.3, 0.4])]
    } else {
        "none"
    };
    let replied_at = matched.then(|| ts + ctx.secs(2.0, 40.0));
    let text = ctx.rng.pick(&COMMENTS);
    let mut cid = String::new();
    ids::comment_id(&mut cid, &post.id, key);
    CommentRow {
        tenant_id: &tenant.id,
        channel_id: &ch.id,
        post_id: &post.id,
        comment_id: &cid,
        contact_id: contact,
        ts,
        text,
        matched,
        reply_kind,
        replied_at,
    }
    .append(&mut ctx.out.comments);
    (reply_kind, replied_at)
}

/// A contact comments on a post at `t`.
pub(crate) fn comment(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    post: &Post,
    t: i64,
    deadline: i64,
) -> i64 {
    let key = ctx.next_key();
    let contact = std::mem::take(&mut ctx.b.contact);
    let (kind, replied_at) = write_comment(ctx, post, key, Some(&contact), t);
    ctx.b.contact = contact;
    let Some(at) = replied_at.filter(|_| matches!(kind, "private" | "both")) else {
        return t;
    };
    if at >= deadline {
        return t;
    }
    let sent = ctx.outbound(
        c,
        &Send {
            ts: at,
            msg_type: "text",
            template: None,
            author: "automation",
            author_id: Some("comment-to-dm"),
            flow: None,
            campaign: None,
            context: None,
            body: Some(AUTOMATION_LINES[3]),
            attention: Attention::Notification,
        },
    );
    let mut end = at;
    if let Some(seen) = sent.seen_at
        && ctx.rng.chance(0.3)
    {
        let r = seen + ctx.think(30.0);
        if r < deadline {
            let body = ctx.rng.pick(&FOLLOW_UPS);
            ctx.inbound(
                c,
                &Recv {
                    ts: r,
                    msg_type: "text",
                    body: Some(body),
                    interaction: None,
                    context: Some(sent.key),
                    referral: None,
                },
            );
            end = r;
            ctx.schedule_auto_close(c, end);
        }
    }
    end
}
