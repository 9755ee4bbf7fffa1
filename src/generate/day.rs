//! One tenant-day: plan every activity (new contacts, organic sessions, API notifications,
//! campaign sends, comments), then play each contact's activities in time order.
//!
//! Playing contact by contact, in time order, is what keeps per-contact state exact
//! (`in_csw`, opt-in, chat and flow state, open conversations). An activity may not run past
//! the next one planned for the same contact (its deadline), and the last one of the day not
//! past 06:00 the next local day, so a later activity never finds the contact busy, except an
//! organic one, which then starts when the contact is free or is dropped.
//!
//! | activity | volume |
//! |---|---|
//! | organic sessions | Poisson(Σ activity rate of existing contacts × weekday factor × ±8 % season × scale), contact drawn by rate, local hour by the inbound rhythm |
//! | API notifications | Poisson(existing contacts × 0.1-0.4 % by style × weekday × scale) |

use chrono::Datelike;

use super::campaigns::{self, Book};
use super::clock::{
    API_HOURS, DOW, HOUR, INBOUND_HOURS, SEC, cumulative, hour_from, weekday_index,
};
use super::comments::{self, Posts};
use super::contacts::{Contact, Origin, Population};
use super::sessions::{api_notify, organic};
use super::sim::Ctx;
use super::world::Style;

/// What a contact does.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ActKind {
    /// The contact comes into existence (and writes first, if organic).
    Create,
    /// The contact writes.
    Session,
    /// The business's systems send a notification.
    Api,
    /// A campaign reaches the contact.
    Send {
        /// Index in today's campaigns.
        camp: u32,
        /// Position in the campaign's audience.
        pos: u32,
    },
    /// The contact comments on a post.
    Comment {
        /// Index in the live posts.
        post: u32,
    },
}

/// A planned activity.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Act {
    /// Contact index in the population.
    pub contact: u32,
    /// Planned instant.
    pub ts: i64,
    /// Tie-break among activities at the same instant.
    pub rank: u8,
    /// What.
    pub kind: ActKind,
}

/// API notifications per existing contact per day, by style.
pub(crate) fn api_rate(style: Style) -> f64 {
    match style {
        Style::Stella => 0.004,
        Style::Glific => 0.001,
        Style::Turn => 0.002,
        Style::Botmaker => 0.003,
    }
}

/// Seasonal factor of a date (±8 % over the year).
pub(crate) fn season(date: chrono::NaiveDate) -> f64 {
    1.0 + 0.08 * (std::f64::consts::TAU * date.ordinal() as f64 / 365.25).sin()
}

/// Simulates one tenant-day. `last` = this is the last day of the range.
pub(crate) fn run_day(
    ctx: &mut Ctx<'_>,
    pop: &mut Population,
    book: &mut Book,
    posts: &mut Posts,
    last: bool,
) {
    let style = ctx.tenant.style;
    let n_before = pop.next_new;
    let exist_before = pop.exist.clone();
    let admit_until = if last {
        ctx.next_day.max(ctx.horizon)
    } else {
        ctx.next_day
    };
    let newcomers = pop.admit_until(admit_until);
    let mut acts: Vec<Act> = Vec::with_capacity(newcomers.len() + 64);
    for i in newcomers {
        acts.push(Act {
            contact: i as u32,
            ts: pop.contacts[i].created_at,
            rank: 0,
            kind: ActKind::Create,
        });
    }

    let wd = weekday_index(ctx.local.date);
    let factor = DOW[wd] * season(ctx.local.date) * ctx.scale.activity;
    let hours = cumulative(&INBOUND_HOURS);
    let lambda = pop.cum.get(n_before).copied().unwrap_or(0.0) * factor;
    let n = ctx.rng.poisson(lambda);
    for _ in 0..n {
        let Some(ci) = pop.sample_active(&mut ctx.rng, n_before) else {
            break;
        };
        let ts = ctx.local.at(
            hour_from(&hours, ctx.rng.f64()),
            ctx.rng.below(HOUR as u64) as i64,
        );
        if ts >= ctx.start_utc && ts < ctx.horizon {
            acts.push(Act {
                contact: ci as u32,
                ts,
                rank: 1,
                kind: ActKind::Session,
            });
        }
    }
    let api_hours = cumulative(&API_HOURS);
    let n_api = ctx.rng.poisson(n_before as f64 * api_rate(style) * factor);
    for _ in 0..n_api {
        let ci = ctx.rng.below(n_before as u64) as u32;
        let ts = ctx.local.at(
            hour_from(&api_hours, ctx.rng.f64()),
            ctx.rng.below(HOUR as u64) as i64,
        );
        if ts >= ctx.start_utc && ts < ctx.horizon {
            acts.push(Act {
                contact: ci,
                ts,
                rank: 1,
                kind: ActKind::Api,
            });
        }
    }
    let mut camps = campaigns::plan(ctx, pop, book, &exist_before, &mut acts);
    comments::plan(ctx, pop, posts, &exist_before, &mut acts);

    acts.sort_by_key(|a| (a.contact, a.ts, a.rank));
    let day_end = ctx.day_end;
    let mut i = 0;
    while i < acts.len() {
        let ci = acts[i].contact as usize;
        let mut j = i + 1;
        while j < acts.len() && acts[j].contact as usize == ci {
            j += 1;
        }
        let Some(c) = pop.contacts.get_mut(ci) else {
            i = j;
            continue;
        };
        ctx.focus(c);
        for k in i..j {
            let a = acts[k];
            let deadline = if k + 1 < j { acts[k + 1].ts } else { day_end }.min(ctx.horizon);
            play(ctx, c, ci as u32, &a, deadline, &mut camps, posts);
        }
        i = j;
    }
    campaigns::finish_day(ctx, camps, book);
}

fn play(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    ci: u32,
    a: &Act,
    deadline: i64,
    camps: &mut [campaigns::Campaign],
    posts: &Posts,
) {
    super::sessions::catch_up(ctx, c, a.ts);
    // Organic activities wait until the contact is free; fixed-time ones never need to.
    let free_at = |c: &Contact| a.ts.max(c.st.busy_until.saturating_add(SEC));
    match a.kind {
        ActKind::Create => create(ctx, c, deadline),
        ActKind::Session => {
            let start = free_at(c);
            if start < deadline && c.st.created {
                organic(ctx, c, start, deadline, false);
            }
        }
        ActKind::Api => {
            let start = free_at(c);
            if start < deadline && c.st.created {
                api_notify(ctx, c, start, deadline);
            }
        }
        ActKind::Send { camp, pos } => {
            if let Some(camp) = camps.get_mut(camp as usize) {
                campaigns::send(ctx, c, ci, camp, pos, a.ts, deadline);
            }
        }
        ActKind::Comment { post } => {
            let start = free_at(c);
            if let (Some(p), true) = (posts.active.get(post as usize), start < deadline) {
                comments::comment(ctx, c, p, start, deadline);
            }
        }
    }
}

/// A contact comes into existence: `created`, opt-in for lists and forms, the first session
/// for contacts who write first.
fn create(ctx: &mut Ctx<'_>, c: &mut Contact, deadline: i64) {
    let t = c.created_at;
    let method = c.origin.method();
    if !ctx.contact_event(c, t, "created", Some(method), None, None, |st| {
        st.created = true
    }) {
        return;
    }
    match c.origin {
        Origin::Import => {
            if ctx.rng.chance(0.85) {
                ctx.opt_in(c, t + SEC, "import");
            }
            if ctx.rng.chance(0.5) {
                ctx.contact_event(
                    c,
                    t + SEC,
                    "field_updated",
                    Some("import"),
                    Some("source"),
                    Some("crm_import"),
                    |_| {},
                );
            }
        }
        Origin::WebForm => {
            if ctx.rng.chance(0.95) {
                ctx.opt_in(c, t + 2 * SEC, "web_form");
            }
        }
        Origin::Api => {
            if ctx.rng.chance(0.6) {
                ctx.opt_in(c, t + SEC, "api");
            }
        }
        Origin::Organic | Origin::Ad => {}
    }
    if c.origin.writes_first() && t < deadline {
        organic(ctx, c, t, deadline, true);
    }
}
