//! Conversation scripts: what happens when a contact writes, when a flow runs, when an agent
//! takes over, and when the API sends a notification.
//!
//! Every script receives a start instant and a deadline (the contact's next planned activity,
//! or the horizon) and never writes anything at or after the deadline: it stops, leaving a flow
//! run waiting (it expires after the tenant's flow timeout) or a chat open (closed by
//! automation after 24 h of silence). Replies always come after the contact saw the message.
//!
//! | organic session | share | shape |
//! |---|---|---|
//! | flow | 45 % (75 % of first sessions, via Welcome) | keyword → `started` → per node: `node_entered`, bot message (interactive 60 %), reply (button/list with `interaction_id` and `context_message_id`) 87 % → `completed`; 1.2 %/node `errored`; 3 %/node the contact asks for a person (`killed`, agent hand-over); a menu run starts a sub-flow (`trigger = flow`) half the time |
//! | agent | 20 % | 1-3 questions, `assigned`, agent replies (median 4 min; 7.5 % hours; 1.5 % after 24 h → 131047, then a `follow_up` utility template), 1-4 turns, closed by the agent 75 % |
//! | automation | 13 % | auto-reply (away message outside 09-18 h), a follow-up 35 % |
//! | media | 13 % | image, voice note, video, document, sticker, location, contacts; answered by an agent or automation |
//! | reaction / order / STOP / START / system / unsupported | the rest | as named |

use super::clock::{HOUR, MIN, SEC};
use super::contacts::{Chat, Contact, NONE, OptIn, PendingRun, Provider};
use super::names::{AGENT_LINES, AUTOMATION_LINES, BOT_LINES, FOLLOW_UPS, GREETINGS, QUESTIONS};
use super::sim::{Attention, Ctx, Recv, Send, Sent};
use super::world::{Category, ChannelType, FLOW_AGENT, FLOW_MENU, FLOW_WELCOME, TEMPLATES};

const OPTION_TITLES: [&str; 3] = ["Yes", "No", "Tell me more"];
const CITIES: [&str; 12] = [
    "Mumbai",
    "São Paulo",
    "London",
    "Kathmandu",
    "New York",
    "Adelaide",
    "Lagos",
    "Jakarta",
    "Mexico City",
    "Cairo",
    "Toronto",
    "Istanbul",
];

/// How a flow run is started.
#[derive(Clone, Copy)]
pub(crate) struct Start<'s> {
    /// `trigger` of the `started` event.
    pub trigger: &'static str,
    /// Campaign that started it.
    pub campaign: Option<&'s str>,
}

/// An organic session: the contact writes at `t0`. Returns the instant of its last event.
pub(crate) fn organic(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    t0: i64,
    deadline: i64,
    first: bool,
) -> i64 {
    let tenant = ctx.tenant;
    let ctype = ctx.channel(c).ctype;
    if c.st.provider == Provider::Blocked {
        // Blocked contacts do not reach the business, unless an agent unblocks them.
        let unblocked = ctx.rng.chance(0.3)
            && ctx.contact_event(c, t0, "unblocked", Some("agent"), None, None, |st| {
                st.provider = Provider::Valid
            });
        if !unblocked {
            return t0;
        }
    }
    let social = matches!(
        ctype,
        ChannelType::WhatsApp | ChannelType::Messenger | ChannelType::Instagram
    );
    let referral =
        if (first && c.origin == super::contacts::Origin::Ad) || (social && ctx.rng.chance(0.01)) {
            let kind = if ctype != ChannelType::WhatsApp && ctx.rng.chance(0.4) {
                "post"
            } else {
                "ad"
            };
            ctx.rng.pick_slice(&tenant.ads).map(|a| (kind, a.as_str()))
        } else {
            None
        };

    // A contact coming back to a flow that is waiting for them carries on where they left.
    if let Some(run) = c.st.run
        && !first
        && referral.is_none()
        && ctx.rng.chance(0.6)
    {
        let f = &tenant.flows[(run.flow as usize).min(tenant.flows.len() - 1)];
        let k = ctx.rng.below(3) as usize;
        let node = run.next_node.saturating_sub(1) as usize;
        let opt = f.options.get(3 * node + k).map(String::as_str);
        ctx.inbound(
            c,
            &Recv {
                ts: t0,
                msg_type: "interactive",
                body: Some(OPTION_TITLES[k]),
                interaction: opt,
                context: (run.last_msg != 0).then_some(run.last_msg),
                referral: None,
            },
        );
        c.st.run = None;
        let end = run_flow(
            ctx,
            c,
            t0,
            deadline,
            run.flow as usize,
            Start {
                trigger: "keyword",
                campaign: None,
            },
            Some(run),
        );
        return finish(ctx, c, end);
    }

    let end = if first {
        let u = ctx.rng.f64();
        if u < 0.75 {
            flow_session(ctx, c, t0, deadline, FLOW_WELCOME, referral)
        } else if u < 0.87 {
            agent_session(ctx, c, t0, deadline, referral)
        } else {
            automation_session(ctx, c, t0, deadline, referral)
        }
    } else {
        let wa = ctype == ChannelType::WhatsApp;
        let weights = [
            0.45,                                               // flow
            0.20,                                               // agent
            0.13,                                               // automation
            0.13,                                               // media
            if c.st.last_out != 0 { 0.03 } else { 0.0 },        // reaction
            if wa { 0.03 } else { 0.0 },                        // order
            if c.st.optin != OptIn::Out { 0.004 } else { 0.0 }, // STOP
            if c.st.optin == OptIn::Out { 0.05 } else { 0.0 },  // START
            if wa { 0.002 } else { 0.0 },                       // system
            0.003,                                              // unsupported
        ];
        match ctx.rng.weighted(&weights) {
            0 => {
                let flow = pick_flow(ctx);
                flow_session(ctx, c, t0, deadline, flow, referral)
            }
            1 => agent_session(ctx, c, t0, deadline, referral),
            2 => automation_session(ctx, c, t0, deadline, referral),
            3 => media_session(ctx, c, t0, deadline, referral),
            4 => {
                let ctxk = c.st.last_out;
                ctx.inbound(
                    c,
                    &Recv {
                        ts: t0,
                        msg_type: "reaction",
                        body: Some("👍"),
                        interaction: None,
                        context: Some(ctxk),
                        referral: None,
                    },
                );
                t0
            }
            5 => order_session(ctx, c, t0, deadline),
            6 => {
                ctx.inbound(c, &Recv::text(t0, "STOP"));
                let t = t0 + ctx.secs(0.3, 1.0);
                ctx.opt_out(c, t, "keyword");
                system_line(
                    ctx,
                    c,
                    t + SEC,
                    deadline,
                    "You have been unsubscribed. Reply START to join again.",
                )
            }
            7 => {
                ctx.inbound(c, &Recv::text(t0, "START"));
                let t = t0 + ctx.secs(0.3, 1.0);
                ctx.opt_in(c, t, "keyword");
                system_line(
                    ctx,
                    c,
                    t + SEC,
                    deadline,
                    "Welcome back! You will receive our updates again.",
                )
            }
            8 => {
                ctx.inbound(
                    c,
                    &Recv {
                        ts: t0,
                        msg_type: "system",
                        body: Some("User changed number"),
                        interaction: None,
                        context: None,
                        referral: None,
                    },
                );
                t0
            }
            _ => {
                ctx.inbound(
                    c,
                    &Recv {
                        ts: t0,
                        msg_type: "unsupported",
                        body: None,
                        interaction: None,
                        context: None,
                        referral: None,
                    },
                );
                let t = t0 + ctx.secs(1.0, 3.0);
                if t < deadline {
                    ctx.outbound(
                        c,
                        &Send {
                            ts: t,
                            msg_type: "text",
                            template: None,
                            author: "automation",
                            author_id: Some("auto-reply"),
                            flow: None,
                            campaign: None,
                            context: None,
                            body: Some("Sorry, we could not read that message."),
                            attention: Attention::InSession,
                        },
                    );
                }
                t
            }
        }
    };
    if first && ctype == ChannelType::WhatsApp && c.st.optin == OptIn::None && ctx.rng.chance(0.5) {
        let method = if c.origin == super::contacts::Origin::Ad {
            "ad"
        } else {
            "whatsapp"
        };
        let t = t0 + ctx.secs(0.5, 2.0);
        ctx.opt_in(c, t, method);
    }
    finish(ctx, c, end)
}

/// End-of-session bookkeeping: rare blocks and language changes; the chat stays open for the
/// automatic close unless someone closed it.
fn finish(ctx: &mut Ctx<'_>, c: &mut Contact, end: i64) -> i64 {
    if ctx.rng.chance(0.0005) {
        let t = end + ctx.secs(30.0, 600.0);
        ctx.contact_event(c, t, "blocked", Some("agent"), None, None, |st| {
            st.provider = Provider::Blocked
        });
    }
    if ctx.rng.chance(0.01) && end + MIN < ctx.horizon {
        let langs = super::phones::COUNTRIES[c.country as usize].languages;
        let k = ctx.rng.below(langs.len() as u64) as u8;
        let t = end + ctx.secs(1.0, 30.0);
        ctx.contact_event(
            c,
            t,
            "field_updated",
            Some("flow"),
            Some("language"),
            langs.get(k as usize).copied(),
            |st| st.language = k,
        );
    }
    ctx.schedule_auto_close(c, end);
    c.st.busy_until = c.st.busy_until.max(end);
    end
}

fn pick_flow(ctx: &mut Ctx<'_>) -> usize {
    let n = ctx.tenant.flows.len();
    // Menu and the optional flows are the usual entry points; Welcome is for newcomers.
    let mut weights = vec![1.0; n];
    weights[FLOW_WELCOME] = 0.3;
    weights[FLOW_MENU] = 2.5;
    weights[FLOW_AGENT] = 0.6;
    ctx.rng.weighted(&weights)
}

fn system_line(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    t: i64,
    deadline: i64,
    body: &'static str,
) -> i64 {
    if t < deadline {
        ctx.outbound(
            c,
            &Send {
                ts: t,
                msg_type: "text",
                template: None,
                author: "system",
                author_id: None,
                flow: None,
                campaign: None,
                context: None,
                body: Some(body),
                attention: Attention::InSession,
            },
        );
    }
    t
}

/// The contact writes the flow's keyword and the flow runs.
fn flow_session(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    t0: i64,
    deadline: i64,
    flow: usize,
    referral: Option<(&'static str, &str)>,
) -> i64 {
    let f = &ctx.tenant.flows[flow];
    let body = if flow == FLOW_WELCOME {
        ctx.rng.pick(&GREETINGS)
    } else {
        f.keyword
    };
    ctx.inbound(
        c,
        &Recv {
            ts: t0,
            msg_type: "text",
            body: Some(body),
            interaction: None,
            context: None,
            referral,
        },
    );
    if flow == FLOW_AGENT {
        ctx.behaviour(c, t0, "asked_for_human");
    }
    let end = run_flow(
        ctx,
        c,
        t0,
        deadline,
        flow,
        Start {
            trigger: "keyword",
            campaign: None,
        },
        None,
    );
    if flow == FLOW_AGENT && end < deadline {
        // The hand-over flow ends with an agent picking the chat up.
        return agent_chat(ctx, c, end, deadline, true);
    }
    end
}

/// Runs (or resumes) a flow from instant `t`; returns the instant of the last event.
pub(crate) fn run_flow(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    mut t: i64,
    deadline: i64,
    flow: usize,
    start: Start<'_>,
    resume: Option<PendingRun>,
) -> i64 {
    let tenant = ctx.tenant;
    let Some(f) = tenant.flows.get(flow) else {
        return t;
    };
    let (run_key, first_node) = match resume {
        Some(r) => (r.key, r.next_node as usize),
        None => {
            ctx.kill_pending(c, t);
            let key = ctx.next_key();
            t += ctx.secs(0.1, 0.5);
            ctx.flow_event(
                c,
                key,
                flow,
                t,
                "started",
                None,
                Some(start.trigger),
                start.campaign,
            );
            if let Some(goal) = f.goal {
                ctx.analytics(c, t, "goal", "started", Some(goal), None);
            }
            if flow == FLOW_MENU {
                ctx.behaviour(c, t, "used_menu");
            }
            (key, 0)
        }
    };
    let n = f.nodes.len();
    let timeout = tenant.flow_timeout;
    let pend = |next: usize, at: i64, last_msg: u64| PendingRun {
        key: run_key,
        flow: flow as u16,
        next_node: next as u16,
        expire_at: at + timeout,
        last_msg,
    };
    for node in first_node..n {
        t += ctx.secs(0.2, 1.0);
        if t >= deadline {
            ctx.park_run(c, pend(node, t, 0));
            return t;
        }
        ctx.flow_event(c, run_key, flow, t, "node_entered", Some(node), None, None);
        if ctx.rng.chance(0.012) {
            let te = t + ctx.secs(0.2, 2.0);
            ctx.flow_event(c, run_key, flow, te, "errored", Some(node), None, None);
            if ctx.rng.chance(0.5) {
                system_line(
                    ctx,
                    c,
                    te + SEC,
                    deadline,
                    "Sorry, something went wrong. Please try again later.",
                );
            }
            return te;
        }
        let last = node + 1 == n;
        t += ctx.secs(0.3, 1.5);
        if t >= deadline {
            ctx.park_run(c, pend(node, t, 0));
            return t;
        }
        let msg_type = if last {
            "text"
        } else {
            ["interactive", "text", "image", "document"][ctx.rng.weighted(&[0.6, 0.25, 0.1, 0.05])]
        };
        let body = ctx.rng.pick(&BOT_LINES);
        let sent = ctx.outbound(
            c,
            &Send {
                ts: t,
                msg_type,
                template: None,
                author: "flow",
                author_id: Some(&f.id),
                flow: Some(flow),
                campaign: None,
                context: None,
                body: Some(body),
                attention: Attention::InSession,
            },
        );
        if sent.failed.is_some() {
            let te = t + ctx.secs(1.0, 5.0);
            ctx.flow_event(c, run_key, flow, te, "errored", Some(node), None, None);
            return te;
        }
        if last {
            let tc = t + ctx.secs(0.1, 0.5);
            ctx.flow_event(c, run_key, flow, tc, "completed", Some(node), None, None);
            if let Some(goal) = f.goal {
                ctx.analytics(c, tc, "goal", "completed", Some(goal), None);
            }
            if let Some(key) = f.result_key {
                save_result(ctx, c, tc, key);
            }
            if flow == FLOW_MENU && ctx.rng.chance(0.5) && tenant.flows.len() > 3 {
                let sub = 3 + ctx.rng.below(tenant.flows.len() as u64 - 3) as usize;
                return run_flow(
                    ctx,
                    c,
                    tc + SEC,
                    deadline,
                    sub,
                    Start {
                        trigger: "flow",
                        campaign: None,
                    },
                    None,
                );
            }
            return tc;
        }
        let Some(seen) = sent.seen_at else {
            ctx.park_run(c, pend(node + 1, t, sent.key));
            return t;
        };
        if !ctx.rng.chance(0.87) {
            ctx.park_run(c, pend(node + 1, t, sent.key));
            return t;
        }
        let r = seen + ctx.think(10.0);
        if r >= deadline {
            ctx.park_run(c, pend(node + 1, t, sent.key));
            return t;
        }
        if ctx.rng.chance(0.03) {
            ctx.inbound(c, &Recv::text(r, "I want to talk to a person"));
            let tk = r + ctx.secs(0.2, 1.0);
            ctx.flow_event(c, run_key, flow, tk, "killed", Some(node), None, None);
            ctx.behaviour(c, tk, "asked_for_human");
            return agent_chat(ctx, c, tk, deadline, true);
        }
        if msg_type == "interactive" {
            let k = ctx.rng.below(3) as usize;
            let opt = f.options.get(3 * node + k).map(String::as_str);
            ctx.inbound(
                c,
                &Recv {
                    ts: r,
                    msg_type: "interactive",
                    body: Some(OPTION_TITLES[k]),
                    interaction: opt,
                    context: Some(sent.key),
                    referral: None,
                },
            );
            if ctx.rng.chance(0.35) {
                ctx.analytics(c, r, "menu", "select", opt, None);
            }
        } else {
            let body = if node == 0 && f.result_key == Some("city") {
                CITIES[(tenant.idx + ctx.rng.below(2) as usize * ctx.rng.below(12) as usize)
                    % CITIES.len()]
            } else {
                ctx.rng.pick(&FOLLOW_UPS)
            };
            let context = ctx.rng.chance(0.15).then_some(sent.key);
            ctx.inbound(
                c,
                &Recv {
                    ts: r,
                    msg_type: "text",
                    body: Some(body),
                    interaction: None,
                    context,
                    referral: None,
                },
            );
        }
        t = r;
    }
    t
}

fn save_result(ctx: &mut Ctx<'_>, c: &mut Contact, t: i64, key: &'static str) {
    let value: String = match key {
        "interest" => ctx
            .rng
            .pick(&["offers", "new products", "delivery", "support"])
            .to_string(),
        "rating" => (1 + ctx.rng.below(5)).to_string(),
        "quiz_score" => ctx.rng.below(11).to_string(),
        "city" => CITIES[(ctx.tenant.idx
            + if ctx.rng.chance(0.2) {
                ctx.rng.below(12) as usize
            } else {
                0
            })
            % CITIES.len()]
        .to_string(),
        "appointment_date" => {
            (ctx.local.date + chrono::Duration::days(1 + ctx.rng.below(14) as i64)).to_string()
        }
        _ => "yes".to_string(),
    };
    ctx.contact_event(
        c,
        t,
        "field_updated",
        Some("flow"),
        Some(key),
        Some(&value),
        |_| {},
    );
    if ctx.rng.chance(0.5) {
        ctx.analytics(c, t, "profile", "saved", Some(key), None);
    }
}

/// Catches a contact up to `now` before its next activity: an agent reply that was planned
/// after the contact's last session (it may come more than 24 h after the contact's message,
/// and then fails with 131047 and is followed by a `follow_up` template), automatic chat closes
/// and flow expiries that came due.
pub(crate) fn catch_up(ctx: &mut Ctx<'_>, c: &mut Contact, now: i64) {
    if let Some((at, agent)) = c.st.agent_reply.take()
        && at <= now
        && at < ctx.horizon
        && at > c.st.busy_until
    {
        ctx.settle(c, at);
        late_agent_reply(ctx, c, at, agent as usize, now);
    }
    ctx.settle(c, now);
}

fn late_agent_reply(ctx: &mut Ctx<'_>, c: &mut Contact, at: i64, agent: usize, now: i64) {
    let tenant = ctx.tenant;
    let agent = tenant.agents.get(agent).map(String::as_str);
    let body = "Sorry for the late reply! Are you still there?";
    let sent = ctx.outbound(
        c,
        &Send {
            ts: at,
            msg_type: "text",
            template: None,
            author: "agent",
            author_id: agent,
            flow: None,
            campaign: None,
            context: None,
            body: Some(body),
            attention: Attention::Notification,
        },
    );
    let mut end = at;
    if matches!(sent.failed, Some(131047 | 470)) {
        // The window had closed: reach out with a template instead.
        let tf = at + ctx.secs(30.0, 600.0);
        if let (Some(tpl), true) = (tenant.template("follow_up"), tf < now.min(ctx.horizon)) {
            let s2 = ctx.outbound(
                c,
                &Send {
                    ts: tf,
                    msg_type: "template",
                    template: Some(tpl),
                    author: "agent",
                    author_id: agent,
                    flow: None,
                    campaign: None,
                    context: None,
                    body: None,
                    attention: Attention::Notification,
                },
            );
            end = tf;
            if let Some(seen) = s2.seen_at {
                let r = seen + ctx.think(40.0);
                if ctx.rng.chance(0.5) && r < now.min(ctx.horizon) {
                    ctx.inbound(
                        c,
                        &Recv {
                            ts: r,
                            msg_type: "button",
                            body: Some("Continue chat"),
                            interaction: Some("CONTINUE"),
                            context: Some(s2.key),
                            referral: None,
                        },
                    );
                    end = r;
                }
            }
        }
    }
    c.st.busy_until = c.st.busy_until.max(end);
    ctx.schedule_auto_close(c, end);
}

/// The contact asks for help and an agent answers.
fn agent_session(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    t0: i64,
    deadline: i64,
    referral: Option<(&'static str, &str)>,
) -> i64 {
    let q = ctx.rng.pick(&QUESTIONS);
    ctx.inbound(
        c,
        &Recv {
            ts: t0,
            msg_type: "text",
            body: Some(q),
            interaction: None,
            context: None,
            referral,
        },
    );
    let mut t = t0;
    for _ in 0..ctx.rng.below(3) {
        let tn = t + ctx.secs(4.0, 60.0);
        if tn >= deadline {
            break;
        }
        let body = ctx.rng.pick(&FOLLOW_UPS);
        ctx.inbound(c, &Recv::text(tn, body));
        t = tn;
    }
    agent_chat(ctx, c, t, deadline, false)
}

/// An agent handles the chat from `t` (the contact has just written).
pub(crate) fn agent_chat(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    mut t: i64,
    deadline: i64,
    handover: bool,
) -> i64 {
    let tenant = ctx.tenant;
    let agent_idx = ctx.rng.below(tenant.agents.len() as u64) as usize;
    let agent = tenant.agents.get(agent_idx).map(String::as_str);
    let ta = t + ctx.secs(5.0, 180.0);
    // Agents pick up open chats only (a killed flow may already have handed this one over).
    if ta >= deadline || c.st.chat != Chat::Open {
        return t;
    }
    if handover || ctx.rng.chance(0.6) {
        ctx.chat_event(c, ta, "assigned", "automation", agent);
    } else {
        ctx.chat_event(c, ta, "assigned", "agent", agent);
    }
    let turns = 1 + ctx.rng.below(4);
    for k in 0..turns {
        let u = ctx.rng.f64();
        let delay = if u < 0.015 {
            24 * HOUR + ctx.secs(1800.0, 6.0 * 3600.0)
        } else if u < 0.09 {
            ctx.secs(3600.0, 8.0 * 3600.0)
        } else {
            (ctx.rng.lognormal(240.0, 1.2).min(3.0 * 3600.0) * SEC as f64) as i64
        };
        let ts = ta.max(t) + delay;
        if ts >= deadline {
            // Nothing else planned for the contact today: the agent answers later anyway.
            if deadline >= ctx.day_end && ts < ctx.horizon {
                c.st.agent_reply = Some((ts, agent_idx as u8));
            }
            return t;
        }
        let msg_type =
            ["text", "image", "document", "audio"][ctx.rng.weighted(&[0.82, 0.07, 0.06, 0.05])];
        let body = ctx.rng.pick(&AGENT_LINES);
        let attention = if delay < HOUR {
            Attention::InSession
        } else {
            Attention::Notification
        };
        let sent = ctx.outbound(
            c,
            &Send {
                ts,
                msg_type,
                template: None,
                author: "agent",
                author_id: agent,
                flow: None,
                campaign: None,
                context: None,
                body: Some(body),
                attention,
            },
        );
        t = ts;
        if k + 1 == turns {
            break;
        }
        let Some(seen) = sent.seen_at else { break };
        if !ctx.rng.chance(0.75) {
            break;
        }
        let r = seen + ctx.think(25.0);
        if r >= deadline {
            break;
        }
        let body = if ctx.rng.chance(0.5) {
            ctx.rng.pick(&FOLLOW_UPS)
        } else {
            ctx.rng.pick(&QUESTIONS)
        };
        ctx.inbound(c, &Recv::text(r, body));
        t = r;
    }
    if ctx.rng.chance(0.75) {
        let tc = t + ctx.secs(60.0, 1200.0);
        if tc < deadline {
            ctx.chat_event(c, tc, "closed", "agent", agent);
            return tc;
        }
    }
    t
}

/// The contact writes and an auto-responder answers.
fn automation_session(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    t0: i64,
    deadline: i64,
    referral: Option<(&'static str, &str)>,
) -> i64 {
    let body = ctx.rng.pick(&GREETINGS);
    ctx.inbound(
        c,
        &Recv {
            ts: t0,
            msg_type: "text",
            body: Some(body),
            interaction: None,
            context: None,
            referral,
        },
    );
    let end = auto_reply(ctx, c, t0, deadline);
    end.unwrap_or(t0)
}

fn auto_reply(ctx: &mut Ctx<'_>, c: &mut Contact, t0: i64, deadline: i64) -> Option<i64> {
    let t = t0 + ctx.secs(1.0, 3.0);
    if t >= deadline {
        return None;
    }
    let hour = ((t - ctx.local.start()).rem_euclid(24 * HOUR) / HOUR) as usize;
    let (author_id, body) = if (9..18).contains(&hour) {
        ("auto-reply", AUTOMATION_LINES[0])
    } else {
        ("away-message", AUTOMATION_LINES[1])
    };
    let sent = ctx.outbound(
        c,
        &Send {
            ts: t,
            msg_type: "text",
            template: None,
            author: "automation",
            author_id: Some(author_id),
            flow: None,
            campaign: None,
            context: None,
            body: Some(body),
            attention: Attention::InSession,
        },
    );
    let mut end = t;
    if let Some(seen) = sent.seen_at
        && ctx.rng.chance(0.35)
    {
        let r = seen + ctx.think(20.0);
        if r < deadline {
            ctx.inbound(c, &Recv::text(r, "menu"));
            end = run_flow(
                ctx,
                c,
                r,
                deadline,
                FLOW_MENU,
                Start {
                    trigger: "keyword",
                    campaign: None,
                },
                None,
            );
            return Some(end);
        }
    }
    if ctx.rng.chance(0.8) {
        let tc = end + ctx.secs(60.0, 600.0);
        if tc < deadline {
            ctx.chat_event(c, tc, "closed", "automation", Some(author_id));
            end = tc;
        }
    }
    Some(end)
}

/// The contact sends media.
fn media_session(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    t0: i64,
    deadline: i64,
    referral: Option<(&'static str, &str)>,
) -> i64 {
    const TYPES: [&str; 7] = [
        "image", "audio", "video", "document", "sticker", "location", "contacts",
    ];
    let k = ctx.rng.weighted(&[0.3, 0.2, 0.08, 0.12, 0.12, 0.08, 0.05]);
    let msg_type = TYPES[k];
    let body = (msg_type == "image" && ctx.rng.chance(0.3)).then_some("see photo");
    ctx.inbound(
        c,
        &Recv {
            ts: t0,
            msg_type,
            body,
            interaction: None,
            context: None,
            referral,
        },
    );
    match msg_type {
        "audio" => ctx.behaviour(c, t0, "sent_voice_note"),
        "location" => ctx.behaviour(c, t0, "shared_location"),
        "image" | "video" | "document" => ctx.behaviour(c, t0, "sent_media"),
        _ => {}
    }
    if msg_type == "sticker" && ctx.rng.chance(0.7) {
        return t0;
    }
    if ctx.rng.chance(0.4) {
        agent_chat(ctx, c, t0, deadline, false)
    } else {
        auto_reply(ctx, c, t0, deadline).unwrap_or(t0)
    }
}

/// The contact orders from the catalogue; the API confirms.
fn order_session(ctx: &mut Ctx<'_>, c: &mut Contact, t0: i64, deadline: i64) -> i64 {
    ctx.inbound(
        c,
        &Recv {
            ts: t0,
            msg_type: "order",
            body: Some("1 item from the catalogue"),
            interaction: None,
            context: None,
            referral: None,
        },
    );
    let amount = (ctx.rng.lognormal(30.0, 0.8) * 100.0).round() / 100.0;
    ctx.analytics(c, t0, "order", "placed", Some("catalogue"), Some(amount));
    let t = t0 + ctx.secs(2.0, 5.0);
    if t >= deadline {
        return t0;
    }
    ctx.outbound(
        c,
        &Send {
            ts: t,
            msg_type: "text",
            template: None,
            author: "api",
            author_id: Some("orders-api"),
            flow: None,
            campaign: None,
            context: None,
            body: Some("Thanks, we received your order."),
            attention: Attention::InSession,
        },
    );
    let mut end = t;
    if ctx.rng.chance(0.6) {
        let tt = t + ctx.secs(60.0, 900.0);
        let name = if ctx.rng.chance(0.5) {
            "payment_receipt"
        } else {
            "order_confirmation"
        };
        if let (Some(tpl), true) = (ctx.tenant.template(name), tt < deadline) {
            ctx.outbound(
                c,
                &Send {
                    ts: tt,
                    msg_type: "template",
                    template: Some(tpl),
                    author: "api",
                    author_id: Some("orders-api"),
                    flow: None,
                    campaign: None,
                    context: None,
                    body: None,
                    attention: Attention::Notification,
                },
            );
            end = tt;
        }
    }
    end
}

/// A flow that starts by sending a template (flow broadcasts, reminders, API triggers).
/// Returns what became of the template and the instant of the last event.
#[allow(clippy::too_many_arguments)]
pub(crate) fn flow_from_template(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    t: i64,
    deadline: i64,
    flow: usize,
    start: Start<'_>,
    template: usize,
    author: &'static str,
    attention: Attention,
    p_reply: f64,
) -> (Sent, i64) {
    let tenant = ctx.tenant;
    ctx.kill_pending(c, t);
    let run_key = ctx.next_key();
    let Some(f) = tenant.flows.get(flow) else {
        let s = ctx.outbound(
            c,
            &Send {
                ts: t,
                msg_type: "template",
                template: Some(template),
                author,
                author_id: None,
                flow: None,
                campaign: start.campaign,
                context: None,
                body: None,
                attention,
            },
        );
        return (s, t);
    };
    ctx.flow_event(
        c,
        run_key,
        flow,
        t,
        "started",
        None,
        Some(start.trigger),
        start.campaign,
    );
    if let Some(goal) = f.goal {
        ctx.analytics(c, t, "goal", "started", Some(goal), None);
    }
    let tn = t + ctx.secs(0.05, 0.3);
    ctx.flow_event(c, run_key, flow, tn, "node_entered", Some(0), None, None);
    let ts = tn + ctx.secs(0.2, 0.8);
    let author_id = if author == "flow" {
        Some(f.id.as_str())
    } else {
        None
    };
    let sent = ctx.outbound(
        c,
        &Send {
            ts,
            msg_type: "template",
            template: Some(template),
            author,
            author_id,
            flow: Some(flow),
            campaign: start.campaign,
            context: None,
            body: None,
            attention,
        },
    );
    if sent.failed.is_some() {
        let te = ts + ctx.secs(1.0, 20.0);
        ctx.flow_event(c, run_key, flow, te, "errored", Some(0), None, None);
        return (sent, te);
    }
    let parked = PendingRun {
        key: run_key,
        flow: flow as u16,
        next_node: 1,
        expire_at: ts + tenant.flow_timeout,
        last_msg: sent.key,
    };
    let reply = sent
        .seen_at
        .filter(|_| ctx.rng.chance(p_reply))
        .map(|seen| seen + ctx.think(30.0))
        .filter(|r| *r < deadline);
    let Some(r) = reply else {
        ctx.park_run(c, parked);
        return (sent, ts);
    };
    let tpl = &TEMPLATES[template];
    match tpl.buttons.first() {
        Some(&(title, payload)) => {
            let k = ctx.rng.below(tpl.buttons.len() as u64) as usize;
            let (title, payload) = tpl.buttons.get(k).copied().unwrap_or((title, payload));
            ctx.inbound(
                c,
                &Recv {
                    ts: r,
                    msg_type: "button",
                    body: Some(title),
                    interaction: Some(payload),
                    context: Some(sent.key),
                    referral: None,
                },
            );
            if payload == "STOP_PROMOTIONS" {
                let to = r + ctx.secs(0.3, 1.0);
                ctx.opt_out(c, to, "button");
                ctx.flow_event(c, run_key, flow, to, "completed", Some(0), None, None);
                return (
                    sent,
                    system_line(
                        ctx,
                        c,
                        to + SEC,
                        deadline,
                        "You will not receive promotions any more.",
                    ),
                );
            }
        }
        None => {
            let body = ctx.rng.pick(&FOLLOW_UPS);
            ctx.inbound(c, &Recv::text(r, body));
        }
    }
    let end = run_flow(
        ctx,
        c,
        r,
        deadline,
        flow,
        start,
        Some(PendingRun {
            expire_at: NONE,
            ..parked
        }),
    );
    (sent, end)
}

/// A notification from the business's systems through the API (OTPs, order and account
/// updates), or an API-triggered flow.
pub(crate) fn api_notify(ctx: &mut Ctx<'_>, c: &mut Contact, t: i64, deadline: i64) -> i64 {
    let tenant = ctx.tenant;
    let ch = ctx.channel(c);
    if ch.ctype != ChannelType::WhatsApp {
        if c.csw_open(t) {
            ctx.outbound(
                c,
                &Send {
                    ts: t,
                    msg_type: "text",
                    template: None,
                    author: "api",
                    author_id: Some("api-key-1"),
                    flow: None,
                    campaign: None,
                    context: None,
                    body: Some("Your request has been updated."),
                    attention: Attention::Notification,
                },
            );
        }
        return t;
    }
    if c.st.provider == Provider::Blocked {
        return t;
    }
    let u = ctx.rng.f64();
    if u < 0.45 {
        let auth: Vec<usize> = tenant.templates_of(Category::Authentication).collect();
        let Some(&tpl) = ctx.rng.pick_slice(&auth) else {
            return t;
        };
        ctx.outbound(
            c,
            &Send {
                ts: t,
                msg_type: "template",
                template: Some(tpl),
                author: "api",
                author_id: Some("api-key-1"),
                flow: None,
                campaign: None,
                context: None,
                body: None,
                attention: Attention::Passive,
            },
        );
        return t;
    }
    // A free-form update: normally only inside the window, but 1 % come from an integration
    // that ignores it (and fail with 131047 outside).
    if (u < 0.55 && c.csw_open(t)) || (0.55..0.56).contains(&u) {
        ctx.outbound(
            c,
            &Send {
                ts: t,
                msg_type: "text",
                template: None,
                author: "api",
                author_id: Some("api-key-2"),
                flow: None,
                campaign: None,
                context: None,
                body: Some("Your request has been updated."),
                attention: Attention::Notification,
            },
        );
        return t;
    }
    if u < 0.59
        && let (Some(flow), Some(tpl)) = (
            tenant.flow_by_keyword("survey"),
            tenant.template("delivery_feedback"),
        )
    {
        return flow_from_template(
            ctx,
            c,
            t,
            deadline,
            flow,
            Start {
                trigger: "api",
                campaign: None,
            },
            tpl,
            "flow",
            Attention::Notification,
            0.4,
        )
        .1;
    }
    let names = [
        "order_confirmation",
        "shipping_update",
        "payment_receipt",
        "account_alert",
        "delivery_feedback",
    ];
    let Some(tpl) = tenant.template(ctx.rng.pick(&names)) else {
        return t;
    };
    let sent = ctx.outbound(
        c,
        &Send {
            ts: t,
            msg_type: "template",
            template: Some(tpl),
            author: "api",
            author_id: Some("api-key-2"),
            flow: None,
            campaign: None,
            context: None,
            body: None,
            attention: Attention::Notification,
        },
    );
    let template = &TEMPLATES[tpl];
    let Some(seen) = sent.seen_at else { return t };
    if template.buttons.is_empty() || !ctx.rng.chance(0.25) {
        return t;
    }
    let r = seen + ctx.think(30.0);
    if r >= deadline {
        return t;
    }
    let k = ctx.rng.below(template.buttons.len() as u64) as usize;
    let (title, payload) = template.buttons[k];
    ctx.inbound(
        c,
        &Recv {
            ts: r,
            msg_type: "button",
            body: Some(title),
            interaction: Some(payload),
            context: Some(sent.key),
            referral: None,
        },
    );
    let end = match payload {
        "NOT_ME" => agent_chat(ctx, c, r, deadline, true),
        _ => auto_reply(ctx, c, r, deadline).unwrap_or(r),
    };
    ctx.schedule_auto_close(c, end);
    end
}

/// A contact replies to a campaign template (a button or a text), as campaigns need it.
pub(crate) fn campaign_reply(
    ctx: &mut Ctx<'_>,
    c: &mut Contact,
    sent: &Sent,
    template: usize,
    deadline: i64,
    p_click: f64,
    campaign: Option<&str>,
) -> i64 {
    let Some(seen) = sent.seen_at else {
        return NONE;
    };
    let tpl = &TEMPLATES[template];
    let click = !tpl.buttons.is_empty() && ctx.rng.chance(p_click);
    let text = !click && ctx.rng.chance(0.05);
    if !click && !text {
        return NONE;
    }
    let r = seen + ctx.think(45.0);
    if r >= deadline {
        return NONE;
    }
    if text {
        let body = ctx.rng.pick(&QUESTIONS);
        let context = ctx.rng.chance(0.5).then_some(sent.key);
        ctx.inbound(
            c,
            &Recv {
                ts: r,
                msg_type: "text",
                body: Some(body),
                interaction: None,
                context,
                referral: None,
            },
        );
        let end = if ctx.rng.chance(0.5) {
            agent_chat(ctx, c, r, deadline, false)
        } else {
            auto_reply(ctx, c, r, deadline).unwrap_or(r)
        };
        ctx.schedule_auto_close(c, end);
        return end;
    }
    let k = ctx.rng.below(tpl.buttons.len() as u64) as usize;
    let (title, payload) = tpl.buttons[k];
    ctx.inbound(
        c,
        &Recv {
            ts: r,
            msg_type: "button",
            body: Some(title),
            interaction: Some(payload),
            context: Some(sent.key),
            referral: None,
        },
    );
    let end = match payload {
        "STOP_PROMOTIONS" => {
            let to = r + ctx.secs(0.3, 1.0);
            ctx.opt_out(c, to, "button");
            system_line(
                ctx,
                c,
                to + SEC,
                deadline,
                "You will not receive promotions any more.",
            )
        }
        "NOT_NOW" => r,
        "RESCHEDULE" | "CONFIRM" => match ctx.tenant.flow_by_keyword("book") {
            Some(flow) if payload == "RESCHEDULE" => run_flow(
                ctx,
                c,
                r,
                deadline,
                flow,
                Start {
                    trigger: "reminder",
                    campaign,
                },
                None,
            ),
            _ => auto_reply(ctx, c, r, deadline).unwrap_or(r),
        },
        _ => {
            ctx.behaviour(c, r, "clicked_promo");
            if ctx.rng.chance(0.5) {
                run_flow(
                    ctx,
                    c,
                    r,
                    deadline,
                    FLOW_MENU,
                    Start {
                        trigger: "keyword",
                        campaign: None,
                    },
                    None,
                )
            } else {
                auto_reply(ctx, c, r, deadline).unwrap_or(r)
            }
        }
    };
    ctx.schedule_auto_close(c, end);
    end
}
