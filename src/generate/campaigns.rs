//! Campaigns: pushes, broadcasts, flow broadcasts, template campaigns and reminders, their
//! recipients (one row per recipient per attempt) and retry audiences.
//!
//! | kind | per tenant-day (by style) | audience | template | author |
//! |---|---|---|---|---|
//! | push | Stella 0.22, others 0.02-0.03 | 10-50 % of opted-in contacts of a WhatsApp channel | marketing 70 % / utility | `broadcast` |
//! | broadcast | Glific 0.22, others 0.03-0.08 | 10-60 % of opted-in | marketing 60 % / utility | `broadcast` |
//! | flow_broadcast | Glific 0.12, others 0.02-0.05 | 5-30 % of opted-in | marketing or utility, then the flow | `flow` |
//! | template_campaign | Botmaker 0.25, others 0.02-0.05 | 5-40 % of contacts not opted out (incl. never-active imports) | marketing 85 % | `broadcast` |
//! | reminder | Turn 0.30, others 0.05 | 1-5 % of contacts not opted out | `appointment_reminder` | `reminder` |
//!
//! Campaigns start between 09:00 and 15:00 local on weekdays mostly (weekend ×0.25), send at
//! 100/min (push), 60/min (reminder) up to 1000/min, faster when needed to finish within six
//! hours, and never cross the end of the range. Synchronous rejections: 130429 (0.6 %, retried
//! automatically a minute later as attempt 2 of the same campaign), 131008/131009/132000
//! (0.4 %), 132015 for every recipient after a template is paused mid-campaign (1 % of marketing
//! campaigns). Every accepted recipient has its template message in `messages` with the
//! `campaign_id`. After a campaign with failures (rejected, or a `failed` status not followed by
//! a delivery), 45 % of pushes, broadcasts and template campaigns get a retry audience one or two
//! days later: a campaign with `parent_campaign_id` whose recipients are the failed contacts,
//! sent as attempt 2.

use super::clock::{CAMPAIGN_DOW, HOUR, MIN, SEC, weekday_index};
use super::contacts::{Contact, OptIn, Population, Provider};
use super::day::{Act, ActKind};
use super::errors::error_title;
use super::ids;
use super::sessions::{Start, campaign_reply, flow_from_template};
use super::sim::{Attention, Ctx, Send};
use super::tables::{CampaignRow, LakeRow, RecipientRow};
use super::world::{Category, FLOW_WELCOME, Style, TEMPLATES};

/// A campaign kind (the `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Stella push.
    Push,
    /// Glific broadcast.
    Broadcast,
    /// Glific flow broadcast.
    FlowBroadcast,
    /// Botmaker template campaign.
    TemplateCampaign,
    /// Turn reminder.
    Reminder,
}

const KINDS: [Kind; 5] = [
    Kind::Push,
    Kind::Broadcast,
    Kind::FlowBroadcast,
    Kind::TemplateCampaign,
    Kind::Reminder,
];

impl Kind {
    /// The `kind` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Push => "push",
            Kind::Broadcast => "broadcast",
            Kind::FlowBroadcast => "flow_broadcast",
            Kind::TemplateCampaign => "template_campaign",
            Kind::Reminder => "reminder",
        }
    }

    fn rate(self, style: Style) -> f64 {
        let r = match style {
            Style::Stella => [0.22, 0.03, 0.02, 0.05, 0.05],
            Style::Glific => [0.02, 0.22, 0.12, 0.02, 0.05],
            Style::Turn => [0.03, 0.08, 0.05, 0.02, 0.30],
            Style::Botmaker => [0.03, 0.05, 0.02, 0.25, 0.05],
        };
        r[KINDS.iter().position(|k| *k == self).unwrap_or(0)]
    }

    fn audience_fraction(self) -> (f64, f64) {
        match self {
            Kind::Push => (0.1, 0.5),
            Kind::Broadcast => (0.1, 0.6),
            Kind::FlowBroadcast => (0.05, 0.3),
            Kind::TemplateCampaign => (0.05, 0.4),
            Kind::Reminder => (0.01, 0.05),
        }
    }

    fn per_minute(self) -> f64 {
        match self {
            Kind::Push => 100.0,
            Kind::Broadcast => 600.0,
            Kind::FlowBroadcast => 300.0,
            Kind::TemplateCampaign => 1000.0,
            Kind::Reminder => 60.0,
        }
    }

    fn eligible(self, c: &Contact) -> bool {
        if c.wa == 0 || c.st.provider == Provider::Blocked || !c.st.created {
            return false;
        }
        match self {
            Kind::Push | Kind::Broadcast | Kind::FlowBroadcast => c.st.optin == OptIn::In,
            Kind::TemplateCampaign | Kind::Reminder => c.st.optin != OptIn::Out,
        }
    }
}

/// Mean expected audience share (fraction × eligibility), for the volume estimate.
pub(crate) fn expected_share(style: Style) -> f64 {
    KINDS
        .iter()
        .map(|k| {
            let (lo, hi) = k.audience_fraction();
            let elig = match k {
                Kind::Push | Kind::Broadcast | Kind::FlowBroadcast => 0.45,
                _ => 0.9,
            };
            k.rate(style) * (lo + hi) / 2.0 * elig
        })
        .sum()
}

/// One campaign being sent today.
pub(crate) struct Campaign {
    /// `campaign_id`.
    pub id: String,
    name: String,
    kind: Kind,
    channel: u8,
    template: usize,
    flow: Option<usize>,
    parent: Option<String>,
    attempt: i32,
    created_at: i64,
    scheduled_at: i64,
    started_at: i64,
    audience: u32,
    last_processed: i64,
    failed: Vec<u32>,
    paused_from: u32,
}

/// A retry audience waiting for its day.
pub(crate) struct Retry {
    due_day: u32,
    parent: String,
    name: String,
    kind: Kind,
    channel: u8,
    template: usize,
    flow: Option<usize>,
    contacts: Vec<u32>,
}

/// A tenant's campaign bookkeeping across days.
#[derive(Default)]
pub(crate) struct Book {
    retries: Vec<Retry>,
}

fn pretty(name: &str) -> String {
    let mut s = name.replace('_', " ");
    if let Some(f) = s.get(0..1) {
        let up = f.to_uppercase();
        s.replace_range(0..1, &up);
    }
    s
}

/// Plans today's campaigns and appends one activity per recipient. `exist` = per channel,
/// how many contacts existed before today.
pub(crate) fn plan(
    ctx: &mut Ctx<'_>,
    pop: &Population,
    book: &mut Book,
    exist: &[usize],
    acts: &mut Vec<Act>,
) -> Vec<Campaign> {
    let tenant = ctx.tenant;
    let wd = weekday_index(ctx.local.date);
    let wa_channels: Vec<usize> = tenant
        .channels
        .iter()
        .enumerate()
        .filter(|(_, ch)| ch.ctype == super::world::ChannelType::WhatsApp)
        .map(|(i, _)| i)
        .collect();
    let wa_weights: Vec<f64> = wa_channels
        .iter()
        .map(|&i| tenant.channels[i].weight)
        .collect();
    let mut out: Vec<Campaign> = Vec::new();

    // Retry audiences due today.
    let due: Vec<Retry> = {
        let (due, keep): (Vec<Retry>, Vec<Retry>) = std::mem::take(&mut book.retries)
            .into_iter()
            .partition(|r| r.due_day <= ctx.day);
        book.retries = keep;
        due
    };
    for r in due {
        let members: Vec<u32> = r
            .contacts
            .iter()
            .copied()
            .filter(|&i| {
                pop.contacts
                    .get(i as usize)
                    .is_some_and(|c| c.st.optin != OptIn::Out && c.st.provider != Provider::Blocked)
            })
            .collect();
        let name = format!("{} (retry)", r.name);
        if let Some(camp) = schedule(
            ctx,
            r.kind,
            r.channel,
            r.template,
            r.flow,
            name,
            Some(r.parent),
            2,
            &members,
            acts,
            out.len(),
        ) {
            out.push(camp);
        }
    }

    for kind in KINDS {
        let lambda = kind.rate(tenant.style) * CAMPAIGN_DOW[wd] * ctx.scale.campaigns;
        let n = ctx.rng.poisson(lambda).min(8);
        for _ in 0..n {
            let Some(&channel) = wa_channels.get(ctx.rng.weighted(&wa_weights)) else {
                continue;
            };
            let template = pick_template(ctx, kind);
            let flow = (kind == Kind::FlowBroadcast).then(|| {
                if tenant.flows.len() > 3 {
                    3 + ctx.rng.below(tenant.flows.len() as u64 - 3) as usize
                } else {
                    FLOW_WELCOME
                }
            });
            // Audience: a random share of the eligible contacts of the channel.
            let (lo, hi) = kind.audience_fraction();
            let frac = ctx.rng.uniform(lo, hi);
            let list = &pop.by_channel[channel];
            let n_exist = exist.get(channel).copied().unwrap_or(0).min(list.len());
            let mut members = Vec::new();
            let mut i = ctx.rng.geometric(frac);
            while (i as usize) < n_exist {
                let ci = list[i as usize];
                if pop
                    .contacts
                    .get(ci as usize)
                    .is_some_and(|c| kind.eligible(c))
                {
                    members.push(ci);
                }
                i = i.saturating_add(1).saturating_add(ctx.rng.geometric(frac));
            }
            if members.is_empty() {
                continue;
            }
            let name = match kind {
                Kind::Reminder => format!(
                    "Appointment reminders {}",
                    ctx.local.date.format("%d %b %Y")
                ),
                _ => format!(
                    "{} {}",
                    pretty(TEMPLATES[template].name),
                    ctx.local.date.format("%d %b %Y")
                ),
            };
            if let Some(camp) = schedule(
                ctx,
                kind,
                channel as u8,
                template,
                flow,
                name,
                None,
                1,
                &members,
                acts,
                out.len(),
            ) {
                out.push(camp);
            }
        }
    }
    out
}

fn pick_template(ctx: &mut Ctx<'_>, kind: Kind) -> usize {
    let tenant = ctx.tenant;
    if kind == Kind::Reminder
        && let Some(t) = tenant.template("appointment_reminder")
    {
        return t;
    }
    let p_marketing = match kind {
        Kind::Push => 0.7,
        Kind::Broadcast => 0.6,
        Kind::FlowBroadcast => 0.5,
        Kind::TemplateCampaign => 0.85,
        Kind::Reminder => 0.0,
    };
    let cat = if ctx.rng.chance(p_marketing) {
        Category::Marketing
    } else {
        Category::Utility
    };
    let choices: Vec<usize> = tenant
        .templates_of(cat)
        .filter(|&t| {
            !matches!(
                TEMPLATES[t].name,
                "follow_up" | "otp_login" | "verify_phone"
            )
        })
        .collect();
    ctx.rng.pick_slice(&choices).copied().unwrap_or(0)
}

#[allow(clippy::too_many_arguments)]
fn schedule(
    ctx: &mut Ctx<'_>,
    kind: Kind,
    channel: u8,
    template: usize,
    flow: Option<usize>,
    name: String,
    parent: Option<String>,
    attempt: i32,
    members: &[u32],
    acts: &mut Vec<Act>,
    index: usize,
) -> Option<Campaign> {
    if members.is_empty() {
        return None;
    }
    let hour = 9 + ctx.rng.below(6) as usize;
    let scheduled_at = ctx.local.at(hour, ctx.rng.below(12) as i64 * 5 * MIN);
    let started_at = scheduled_at + ctx.secs(0.0, 60.0);
    let n = members.len() as i64;
    let mut interval = (60.0 / kind.per_minute() * SEC as f64) as i64;
    if interval * n > 6 * HOUR {
        interval = (6 * HOUR / n).max(1);
    }
    let end = started_at + interval * (n + 1) + MIN;
    if scheduled_at < ctx.start_utc || end >= ctx.horizon {
        return None;
    }
    let created_at = (scheduled_at - ctx.secs(600.0, 3.0 * 86400.0))
        .max(ctx.start_utc)
        .min(scheduled_at);
    let key = ctx.next_key();
    let mut id = String::new();
    ids::campaign_id(&mut id, key);
    let paused_from = if TEMPLATES[template].category == Category::Marketing && ctx.rng.chance(0.01)
    {
        ctx.rng.below(members.len() as u64) as u32
    } else {
        u32::MAX
    };
    for (pos, &ci) in members.iter().enumerate() {
        let jitter = ctx.rng.below(interval.max(1) as u64) as i64;
        acts.push(Act {
            contact: ci,
            ts: started_at + interval * pos as i64 + jitter,
            rank: 2,
            kind: ActKind::Send {
                camp: index as u32,
                pos: pos as u32,
            },
        });
    }
    Some(Campaign {
        id,
        name,
        kind,
        channel,
        template,
        flow,
        parent,
        attempt,
        created_at,
        scheduled_at,
        started_at,
        audience: members.len() as u32,
        last_processed: started_at,
        failed: Vec::new(),
        paused_from,
    })
}

/// Sends campaign `camp` to one recipient at `t`.
pub(crate) fn send(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    ci: u32,
    camp: &mut Campaign,
    pos: u32,
    t: i64,
    deadline: i64,
) -> i64 {
    let mut attempt = camp.attempt;
    let mut t = t;
    loop {
        camp.last_processed = camp.last_processed.max(t);
        let reject = if pos >= camp.paused_from {
            Some(132015)
        } else if ctx.rng.chance(0.006) {
            Some(130429)
        } else if ctx.rng.chance(0.004) {
            Some(ctx.rng.pick(&[131008, 131009, 132000]))
        } else {
            None
        };
        if let Some(code) = reject {
            if t < ctx.horizon {
                RecipientRow {
                    tenant_id: &ctx.tenant.id,
                    campaign_id: &camp.id,
                    contact_id: &ctx.b.contact,
                    attempt,
                    message_id: None,
                    queued_at: camp.started_at,
                    processed_at: t,
                    send_result: "rejected",
                    reject_code: Some(code),
                    reject_reason: Some(error_title(code)),
                }
                .append(&mut ctx.out.recipients);
            }
            // Throughput limits are retried by the sender a minute later.
            let retry_at = t + MIN + ctx.secs(0.0, 10.0);
            if code == 130429 && attempt == camp.attempt && retry_at < deadline {
                attempt += 1;
                t = retry_at;
                continue;
            }
            camp.failed.push(ci);
            return t;
        }
        break;
    }

    let marketing = TEMPLATES[camp.template].category == Category::Marketing;
    let attention = if marketing {
        Attention::Marketing
    } else {
        Attention::Notification
    };
    let (sent, end) = match (camp.kind, camp.flow) {
        (Kind::FlowBroadcast, Some(flow)) => flow_from_template(
            ctx,
            c,
            t,
            deadline,
            flow,
            Start {
                trigger: "broadcast",
                campaign: Some(&camp.id),
            },
            camp.template,
            "flow",
            attention,
            0.35,
        ),
        _ => {
            let (author, author_id) = match camp.kind {
                Kind::Reminder => ("reminder", "reminders"),
                _ => ("broadcast", "user-1"),
            };
            let sent = ctx.outbound(
                c,
                &Send {
                    ts: t,
                    msg_type: "template",
                    template: Some(camp.template),
                    author,
                    author_id: Some(author_id),
                    flow: None,
                    campaign: Some(&camp.id),
                    context: None,
                    body: None,
                    attention,
                },
            );
            (sent, t)
        }
    };
    let ctype = ctx.channel(c).ctype;
    let mut mid = String::new();
    ids::message_id(&mut mid, ctype, sent.key);
    RecipientRow {
        tenant_id: &ctx.tenant.id,
        campaign_id: &camp.id,
        contact_id: &ctx.b.contact,
        attempt,
        message_id: Some(&mid),
        queued_at: camp.started_at,
        processed_at: t,
        send_result: "accepted",
        reject_code: None,
        reject_reason: None,
    }
    .append(&mut ctx.out.recipients);
    if sent.failed.is_some() {
        camp.failed.push(ci);
        return end;
    }
    if camp.kind == Kind::FlowBroadcast {
        return end;
    }
    // Stella stored action for a URL button click (no inbound message).
    if let Some(seen) = sent.seen_at
        && marketing
        && ctx.rng.chance(0.06)
    {
        let at = seen + ctx.think(20.0);
        if at < deadline {
            ctx.analytics(c, at, "campaign", "clicked", Some(&camp.id), None);
        }
    }
    let p_click = match (camp.kind, marketing) {
        (Kind::Reminder, _) => 0.35,
        (_, true) => 0.12,
        (_, false) => 0.2,
    };
    let replied = campaign_reply(
        ctx,
        c,
        &sent,
        camp.template,
        deadline,
        p_click,
        Some(&camp.id),
    );
    replied.max(end)
}

/// Writes today's campaign rows and queues retry audiences.
pub(crate) fn finish_day(ctx: &mut Ctx<'_>, camps: Vec<Campaign>, book: &mut Book) {
    let tenant = ctx.tenant;
    for camp in camps {
        let ch = &tenant.channels[camp.channel as usize];
        let tpl = &TEMPLATES[camp.template];
        CampaignRow {
            tenant_id: &tenant.id,
            channel_id: &ch.id,
            campaign_id: &camp.id,
            name: &camp.name,
            kind: camp.kind.as_str(),
            template_name: Some(tpl.name),
            template_category: Some(tpl.category.as_str()),
            flow_id: camp
                .flow
                .and_then(|f| tenant.flows.get(f))
                .map(|f| f.id.as_str()),
            parent_campaign_id: camp.parent.as_deref(),
            created_at: camp.created_at,
            scheduled_at: Some(camp.scheduled_at),
            started_at: Some(camp.started_at),
            finished_at: Some(camp.last_processed.max(camp.started_at) + ctx.secs(0.5, 5.0)),
            audience_size: Some(camp.audience as i64),
        }
        .append(&mut ctx.out.campaigns);
        let retryable = matches!(
            camp.kind,
            Kind::Push | Kind::Broadcast | Kind::TemplateCampaign
        );
        if retryable && camp.attempt == 1 && !camp.failed.is_empty() && ctx.rng.chance(0.45) {
            let mut contacts = camp.failed;
            contacts.sort_unstable();
            contacts.dedup();
            book.retries.push(Retry {
                due_day: ctx.day + 1 + ctx.rng.below(2) as u32,
                parent: camp.id,
                name: camp.name,
                kind: camp.kind,
                channel: camp.channel,
                template: camp.template,
                flow: camp.flow,
                contacts,
            });
        }
    }
}
