//! The simulation context of one tenant-day and the primitives every script uses: an inbound
//! message, an outbound message (with its delivery outcome, billing and status callbacks), and
//! the contact, chat, flow and analytics events that go with them.
//!
//! Invariants kept here, so scripts cannot break them:
//! - `in_csw` of an outbound message is true iff the contact's latest inbound is in `(ts-24h, ts]`
//!   (contact state is only ever advanced in time order);
//! - a free-form WhatsApp message outside the window fails with 131047 (470 on On-Premises
//!   `gupshup` numbers before 2024);
//! - nothing at or after the horizon (the end of the last day) is written, and state that an
//!   unwritten event would change is left alone;
//! - an inbound message opens a closed chat (`opened` the first time, then `reopened`).

use super::billing::{Delivered, bill};
use super::clock::{DAY, Era, LocalDay, SEC, utc_midnight};
use super::contacts::{Chat, Contact, NONE, OptIn, PendingRun, Provider};
use super::ids;
use super::phones::{COUNTRIES, push_digits};
use super::rng::Rand;
use super::statuses::{Outcome, StatusInput, ingest_delay, write_statuses};
use super::tables::{
    AnalyticsRow, ChatEventRow, ContactEventRow, ConversationRow, FlowEventRow, LakeRow,
    MessageRow, Out,
};
use super::world::{Category, Channel, ChannelType, TEMPLATES, Tenant};

/// Activity multipliers derived from `messages_target`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    /// Organic sessions and API notifications.
    pub activity: f64,
    /// Campaigns and posts per day.
    pub campaigns: f64,
}

/// How closely the contact is watching when a message arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attention {
    /// In a live exchange: almost always seen within seconds.
    InSession,
    /// A utility notification: usually seen within the hour.
    Notification,
    /// A marketing message: seen by about 60 %, often hours later.
    Marketing,
    /// A one-time password: seen within seconds, rarely answered.
    Passive,
}

/// Scratch buffers for identifiers (ids are formatted, never allocated per row).
#[derive(Default)]
pub(crate) struct Bufs {
    /// Contact id of the focused contact.
    pub contact: String,
    /// `wa_id` of the focused contact (empty when none).
    pub wa: String,
    /// Chat id of the focused contact.
    pub chat: String,
    /// Current message id.
    pub msg: String,
    /// Context (replied-to) message id.
    pub ctx: String,
    /// Conversation id.
    pub conv: String,
    /// Flow run id.
    pub run: String,
}

/// One outbound message to send.
pub(crate) struct Send<'s> {
    /// Instant.
    pub ts: i64,
    /// `msg_type`.
    pub msg_type: &'static str,
    /// Template index into [`TEMPLATES`].
    pub template: Option<usize>,
    /// `author_type`.
    pub author: &'static str,
    /// `author_id`.
    pub author_id: Option<&'s str>,
    /// Flow index in the tenant.
    pub flow: Option<usize>,
    /// `campaign_id`.
    pub campaign: Option<&'s str>,
    /// Key of the message this replies to.
    pub context: Option<u64>,
    /// `body_text`.
    pub body: Option<&'s str>,
    /// How the contact will notice it.
    pub attention: Attention,
}

/// What became of an outbound message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sent {
    /// Its key.
    pub key: u64,
    /// When the contact saw it (whether or not a `read` was reported).
    pub seen_at: Option<i64>,
    /// Failure code, if it failed.
    pub failed: Option<i32>,
}

/// One inbound message.
pub(crate) struct Recv<'s> {
    /// Instant.
    pub ts: i64,
    /// `msg_type`.
    pub msg_type: &'static str,
    /// `body_text`.
    pub body: Option<&'s str>,
    /// `interaction_id` (button payload, list row id).
    pub interaction: Option<&'s str>,
    /// Key of the message replied to.
    pub context: Option<u64>,
    /// Referral: (`ad`|`post`, source id).
    pub referral: Option<(&'static str, &'s str)>,
}

impl<'s> Recv<'s> {
    /// A plain text message.
    pub fn text(ts: i64, body: &'s str) -> Self {
        Recv {
            ts,
            msg_type: "text",
            body: Some(body),
            interaction: None,
            context: None,
            referral: None,
        }
    }
}

/// The context of one tenant-day.
pub(crate) struct Ctx<'a> {
    /// The tenant.
    pub tenant: &'a Tenant,
    /// Table builders.
    pub out: &'a mut Out,
    /// This tenant-day's random stream.
    pub rng: Rand,
    /// Day index in the range.
    pub day: u32,
    /// The tenant's local day.
    pub local: LocalDay,
    /// Start of the next local day.
    pub next_day: i64,
    /// Latest instant any of today's activities may reach (06:00 the next local day).
    pub day_end: i64,
    /// End of the generated range (exclusive).
    pub horizon: i64,
    /// Start of the generated range.
    pub start_utc: i64,
    /// The tenant's payment method fails today (template sends fail with 131042).
    pub payment_incident: bool,
    /// Activity multipliers.
    pub scale: Scale,
    seq: u64,
    /// Scratch buffers.
    pub b: Bufs,
    gupshup_cloud: i64,
}

const SENT_DELAY: (f64, f64) = (0.3, 2.5);

impl<'a> Ctx<'a> {
    /// A context for `tenant` on day `day` (local `local`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tenant: &'a Tenant,
        out: &'a mut Out,
        rng: Rand,
        day: u32,
        local: LocalDay,
        next_day: i64,
        horizon: i64,
        start_utc: i64,
        scale: Scale,
    ) -> Self {
        let gupshup_cloud = utc_midnight(
            chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or(chrono::NaiveDate::MIN),
        );
        let mut ctx = Ctx {
            tenant,
            out,
            rng,
            day,
            local,
            next_day,
            day_end: (next_day + 6 * super::clock::HOUR).min(horizon),
            horizon,
            start_utc,
            payment_incident: false,
            scale,
            seq: 0,
            b: Bufs::default(),
            gupshup_cloud,
        };
        ctx.payment_incident = ctx.rng.chance(0.004);
        ctx
    }

    /// A fresh key, unique across the whole run (tenant, day, sequence).
    pub fn next_key(&mut self) -> u64 {
        self.seq += 1;
        ids::message_key(self.tenant.idx, self.day, self.seq)
    }

    /// The channel of a contact.
    pub fn channel(&self, c: &Contact) -> &'a Channel {
        let t: &'a Tenant = self.tenant;
        &t.channels[(c.channel as usize).min(t.channels.len().saturating_sub(1))]
    }

    /// Formats the focused contact's ids into the scratch buffers.
    pub fn focus(&mut self, c: &Contact) {
        let whatsapp = self.channel(c).ctype == ChannelType::WhatsApp;
        ids::contact_id(&mut self.b.contact, c.key, if whatsapp { c.wa } else { 0 });
        ids::chat_id(&mut self.b.chat, c.key);
        self.b.wa.clear();
        if c.wa != 0 {
            push_digits(&mut self.b.wa, c.wa);
        }
    }

    /// Seconds as microseconds, uniformly in `[lo, hi)` seconds.
    pub fn secs(&mut self, lo: f64, hi: f64) -> i64 {
        (self.rng.uniform(lo, hi) * SEC as f64) as i64
    }

    /// How long a contact takes to answer after seeing a message (median `median_s` seconds).
    pub fn think(&mut self, median_s: f64) -> i64 {
        (self.rng.lognormal(median_s, 0.9).min(3600.0) * SEC as f64) as i64 + SEC
    }

    /// Writes an inbound message and advances the contact's window and chat state.
    pub fn inbound(&mut self, c: &mut Contact, m: &Recv<'_>) -> u64 {
        let key = self.next_key();
        if m.ts >= self.horizon {
            return key;
        }
        let ch = self.channel(c);
        ids::message_id(&mut self.b.msg, ch.ctype, key);
        if let Some(k) = m.context {
            ids::message_id(&mut self.b.ctx, ch.ctype, k);
        }
        let ingested = m.ts + ingest_delay(&mut self.rng);
        MessageRow {
            tenant_id: &self.tenant.id,
            channel_id: &ch.id,
            message_id: &self.b.msg,
            direction: "inbound",
            ts: m.ts,
            contact_id: &self.b.contact,
            wa_id: (c.wa != 0).then_some(self.b.wa.as_str()),
            msg_type: m.msg_type,
            interaction_id: m.interaction,
            is_template: false,
            template_name: None,
            template_category: None,
            author_type: "contact",
            author_id: None,
            flow_id: None,
            campaign_id: None,
            context_message_id: m.context.map(|_| self.b.ctx.as_str()),
            referral_source_type: m.referral.map(|r| r.0),
            referral_source_id: m.referral.map(|r| r.1),
            in_csw: None,
            country_code: c.country_code(),
            calling_code: c.calling_code(),
            body_text: m.body,
            ingested_at: ingested,
        }
        .append(&mut self.out.messages);
        c.st.last_inbound = m.ts;
        if c.st.first_inbound == NONE {
            c.st.first_inbound = m.ts;
        }
        if m.referral.is_some() {
            c.st.ref_until = m.ts + DAY;
        }
        c.st.busy_until = c.st.busy_until.max(m.ts);
        // Turn-style inbox: an inbound message opens a closed chat.
        c.st.chat_close_at = NONE;
        match c.st.chat {
            Chat::Open => {}
            Chat::Never => {
                self.chat_event(c, m.ts, "opened", "system", None);
            }
            Chat::Closed => {
                self.chat_event(c, m.ts, "reopened", "system", None);
            }
        }
        key
    }

    /// Writes an outbound message, decides its fate, and writes its status callbacks.
    pub fn outbound(&mut self, c: &mut Contact, s: &Send<'_>) -> Sent {
        let key = self.next_key();
        let ch = self.channel(c);
        let in_csw = c.csw_open(s.ts);
        c.st.busy_until = c.st.busy_until.max(s.ts);
        if s.ts >= self.horizon {
            return Sent {
                key,
                seen_at: None,
                failed: Some(0),
            };
        }
        let tpl = s.template.and_then(|t| TEMPLATES.get(t));
        let outcome = self.fate(c, ch, s, tpl.map(|t| t.category), in_csw);
        ids::message_id(&mut self.b.msg, ch.ctype, key);
        if let Some(k) = s.context {
            ids::message_id(&mut self.b.ctx, ch.ctype, k);
        }
        let flow = s.flow.and_then(|f| self.tenant.flows.get(f));
        MessageRow {
            tenant_id: &self.tenant.id,
            channel_id: &ch.id,
            message_id: &self.b.msg,
            direction: "outbound",
            ts: s.ts,
            contact_id: &self.b.contact,
            wa_id: (c.wa != 0).then_some(self.b.wa.as_str()),
            msg_type: s.msg_type,
            interaction_id: None,
            is_template: tpl.is_some(),
            template_name: tpl.map(|t| t.name),
            template_category: tpl.map(|t| t.category.as_str()),
            author_type: s.author,
            author_id: s.author_id,
            flow_id: flow.map(|f| f.id.as_str()),
            campaign_id: s.campaign,
            context_message_id: s.context.map(|_| self.b.ctx.as_str()),
            referral_source_type: None,
            referral_source_id: None,
            in_csw: Some(in_csw),
            country_code: c.country_code(),
            calling_code: c.calling_code(),
            body_text: s.body.or(tpl.map(|t| t.body)),
            ingested_at: s.ts + (self.rng.uniform(0.02, 0.4) * SEC as f64) as i64,
        }
        .append(&mut self.out.messages);
        c.st.last_out = key;

        // Billing: webhook channels report conversations (CBP) or prices (PMP) on delivery.
        let delivered = matches!(outcome, Outcome::Delivered { .. });
        let billing = if delivered && ch.webhook_conversations {
            let contact_country = c.country_code();
            let b = bill(
                &mut c.st.convs,
                &mut c.st.ref_until,
                &ch.eras,
                &Delivered {
                    ts: s.ts,
                    in_csw,
                    template: tpl.map(|t| t.category),
                    new_key: key,
                    contact_country,
                    business_country: COUNTRIES[ch.home_country as usize].iso,
                },
            );
            let reported =
                ch.eras.era(s.ts) != Era::Pmp2025 || s.ts < ch.conversations_until || b.free_entry;
            let b = if reported {
                b
            } else {
                b.without_conversation()
            };
            if let (Some(opened), Some((ckey, origin, expires))) = (b.opened_at, b.conversation) {
                ids::conversation_id(&mut self.b.conv, ckey);
                ConversationRow {
                    tenant_id: &self.tenant.id,
                    channel_id: &ch.id,
                    waba_id: ch.waba_id.as_deref(),
                    conversation_id: &self.b.conv,
                    contact_id: &self.b.contact,
                    opened_at: opened,
                    expires_at: expires,
                    origin,
                    pricing_model: b.model,
                    billable: b.billable,
                    country_code: c.country_code(),
                    source: "webhook",
                }
                .append(&mut self.out.conversations);
            }
            Some(b)
        } else {
            None
        };
        let input = StatusInput {
            tenant_id: &self.tenant.id,
            channel_id: &ch.id,
            message_id: &self.b.msg,
            ctype: ch.ctype,
            reports_accepted: matches!(ch.integration, Some("gupshup" | "twilio")),
            ts: s.ts,
            outcome,
            billing,
            read_receipts: c.read_receipts,
            audio: s.msg_type == "audio",
            horizon: self.horizon,
        };
        write_statuses(
            &mut self.rng,
            &input,
            &mut self.b.conv,
            &mut self.out.statuses,
        );

        match outcome {
            Outcome::Failed {
                code,
                at,
                late_delivery,
                ..
            } => {
                if code == 131026 && c.st.provider == Provider::Valid {
                    self.contact_event(
                        c,
                        at,
                        "marked_invalid",
                        Some("provider"),
                        None,
                        None,
                        |st| st.provider = Provider::Invalid,
                    );
                }
                let seen = late_delivery.map(|t| t + self.think(60.0));
                Sent {
                    key,
                    seen_at: seen,
                    failed: if late_delivery.is_some() {
                        None
                    } else {
                        Some(code)
                    },
                }
            }
            Outcome::Delivered {
                delivered_at,
                seen_at,
                ..
            } => {
                if c.st.provider == Provider::Invalid {
                    self.contact_event(
                        c,
                        delivered_at,
                        "marked_valid",
                        Some("provider"),
                        None,
                        None,
                        |st| st.provider = Provider::Valid,
                    );
                }
                Sent {
                    key,
                    seen_at,
                    failed: None,
                }
            }
            Outcome::SentOnly { .. } => Sent {
                key,
                seen_at: None,
                failed: None,
            },
        }
    }

    /// Decides whether a message fails (and why) or when it is delivered and seen.
    fn fate(
        &mut self,
        c: &Contact,
        ch: &Channel,
        s: &Send<'_>,
        cat: Option<Category>,
        in_csw: bool,
    ) -> Outcome {
        let ts = s.ts;
        let sent_at = ts + self.secs(SENT_DELAY.0, SENT_DELAY.1);
        if ch.ctype == ChannelType::WhatsApp {
            let rng = &mut self.rng;
            let era = ch.eras.era(ts);
            let media = matches!(s.msg_type, "image" | "video" | "document" | "audio");
            let code = if c.not_on_wa_until != NONE && ts < c.not_on_wa_until {
                Some(131026)
            } else if cat.is_none() && !in_csw {
                Some(
                    if ch.integration == Some("gupshup") && ts < self.gupshup_cloud {
                        470
                    } else {
                        131047
                    },
                )
            } else if cat == Some(Category::Marketing) && c.stops_marketing {
                Some(131050)
            } else if cat == Some(Category::Marketing)
                && era >= Era::Cbp2023
                && rng.chance(if era >= Era::Pmp2025 { 0.07 } else { 0.035 })
            {
                Some(131049)
            } else if cat == Some(Category::Marketing) && rng.chance(0.004) {
                Some(130472)
            } else if cat.is_some() && self.payment_incident && s.author != "flow" {
                Some(131042)
            } else if media && rng.chance(0.01) {
                Some(131053)
            } else if s.author == "flow" && rng.chance(0.002) {
                Some(131056)
            } else if rng.chance(0.0015) {
                Some(131000)
            } else if rng.chance(0.0005) {
                Some(131026)
            } else {
                None
            };
            if let Some(code) = code {
                let at = ts + self.secs(1.0, 20.0);
                let sent_first = code == 131026 && self.rng.chance(0.25);
                let late =
                    (self.rng.chance(0.002) && code != 131026 && code != 131047 && code != 470)
                        .then(|| at + self.secs(2.0, 600.0));
                return Outcome::Failed {
                    code,
                    sent_first,
                    at,
                    late_delivery: late,
                };
            }
            if self.rng.chance(0.005) {
                return Outcome::SentOnly { sent_at };
            }
        }
        let u = self.rng.f64();
        let delay_s = if u < 0.85 {
            self.rng.lognormal(1.5, 0.7)
        } else if u < 0.97 {
            self.rng.lognormal(20.0 * 60.0, 1.0)
        } else {
            self.rng.lognormal(5.0 * 3600.0, 0.6)
        };
        let delivered_at = sent_at + (delay_s * SEC as f64) as i64;
        let (p_seen, median_s, sigma) = match s.attention {
            Attention::InSession => (0.97, 6.0, 1.0),
            Attention::Notification => (0.8, 30.0 * 60.0, 1.5),
            Attention::Marketing => (0.6, 45.0 * 60.0, 1.6),
            Attention::Passive => (0.92, 15.0, 0.8),
        };
        let seen_at = self.rng.chance(p_seen).then(|| {
            let d = self.rng.lognormal(median_s, sigma).min(3.0 * 86400.0);
            delivered_at + (d * SEC as f64) as i64
        });
        let missing_sent = self.rng.chance(0.01);
        Outcome::Delivered {
            sent_at: (!missing_sent).then_some(sent_at),
            delivered_at,
            seen_at,
        }
    }

    /// Writes a contact event at `ts` and, only if it was written, applies `apply` to the state.
    #[allow(clippy::too_many_arguments)]
    pub fn contact_event(
        &mut self,
        c: &mut Contact,
        ts: i64,
        event_type: &'static str,
        method: Option<&'static str>,
        key: Option<&'static str>,
        value: Option<&str>,
        apply: impl FnOnce(&mut super::contacts::State),
    ) -> bool {
        if ts >= self.horizon {
            return false;
        }
        let ch = self.channel(c);
        ContactEventRow {
            tenant_id: &self.tenant.id,
            channel_id: &ch.id,
            contact_id: &self.b.contact,
            ts,
            event_type,
            method,
            key,
            value,
        }
        .append(&mut self.out.contact_events);
        c.st.updated_at = c.st.updated_at.max(ts);
        apply(&mut c.st);
        true
    }

    /// Opts the contact in (if not already).
    pub fn opt_in(&mut self, c: &mut Contact, ts: i64, method: &'static str) {
        if c.st.optin != OptIn::In {
            self.contact_event(c, ts, "opted_in", Some(method), None, None, |st| {
                st.optin = OptIn::In;
                st.optin_at = ts;
            });
        }
    }

    /// Opts the contact out (if not already).
    pub fn opt_out(&mut self, c: &mut Contact, ts: i64, method: &'static str) {
        if c.st.optin != OptIn::Out {
            self.contact_event(c, ts, "opted_out", Some(method), None, None, |st| {
                st.optin = OptIn::Out;
                st.optout_at = ts;
            });
        }
    }

    /// Writes a chat event and updates the chat state.
    pub fn chat_event(
        &mut self,
        c: &mut Contact,
        ts: i64,
        event: &'static str,
        actor_type: &'static str,
        actor_id: Option<&str>,
    ) {
        if ts >= self.horizon {
            return;
        }
        let ch = self.channel(c);
        ChatEventRow {
            tenant_id: &self.tenant.id,
            channel_id: &ch.id,
            chat_id: &self.b.chat,
            contact_id: &self.b.contact,
            ts,
            event,
            actor_type,
            actor_id,
        }
        .append(&mut self.out.chat_events);
        match event {
            "opened" | "reopened" => c.st.chat = Chat::Open,
            "closed" => {
                c.st.chat = Chat::Closed;
                c.st.chat_close_at = NONE;
            }
            _ => {}
        }
    }

    /// Leaves the chat open with an automatic close after 24 h of silence.
    pub fn schedule_auto_close(&mut self, c: &mut Contact, last: i64) {
        if c.st.chat == Chat::Open {
            c.st.chat_close_at = last + DAY;
        }
    }

    /// Writes a flow event of run `run_key`.
    #[allow(clippy::too_many_arguments)]
    pub fn flow_event(
        &mut self,
        c: &Contact,
        run_key: u64,
        flow: usize,
        ts: i64,
        event_type: &'static str,
        node: Option<usize>,
        trigger: Option<&'static str>,
        campaign: Option<&str>,
    ) {
        if ts >= self.horizon {
            return;
        }
        let Some(f) = self.tenant.flows.get(flow) else {
            return;
        };
        let ch = self.channel(c);
        ids::run_id(&mut self.b.run, run_key);
        FlowEventRow {
            tenant_id: &self.tenant.id,
            channel_id: &ch.id,
            flow_id: &f.id,
            flow_name: f.name,
            flow_run_id: &self.b.run,
            contact_id: &self.b.contact,
            ts,
            event_type,
            node_id: node.and_then(|n| f.nodes.get(n)).map(String::as_str),
            trigger,
            campaign_id: campaign,
        }
        .append(&mut self.out.flow_events);
    }

    /// Writes an analytics event (stored action, goal or behaviour).
    pub fn analytics(
        &mut self,
        c: &Contact,
        ts: i64,
        category: &'static str,
        action: &str,
        label: Option<&str>,
        value: Option<f64>,
    ) {
        if ts >= self.horizon {
            return;
        }
        let ch = self.channel(c);
        AnalyticsRow {
            tenant_id: &self.tenant.id,
            channel_id: &ch.id,
            contact_id: &self.b.contact,
            ts,
            category,
            action,
            label,
            value,
        }
        .append(&mut self.out.analytics);
    }

    /// A Turn behaviour: the name goes in both `action` and `label`.
    pub fn behaviour(&mut self, c: &Contact, ts: i64, name: &'static str) {
        self.analytics(c, ts, "behaviour", name, Some(name), None);
    }

    /// Settles what was pending for a contact up to `now`: an automatic chat close or a
    /// flow run expiry that came due before the contact's next activity.
    pub fn settle(&mut self, c: &mut Contact, now: i64) {
        if c.st.chat_close_at != NONE && c.st.chat_close_at <= now {
            let at = c.st.chat_close_at;
            c.st.chat_close_at = NONE;
            if at < self.horizon && c.st.chat == Chat::Open {
                self.chat_event(c, at, "closed", "automation", Some("auto-close"));
            }
        }
        if let Some(run) = c.st.run
            && run.expire_at <= now
            && run.expire_at < self.horizon
        {
            self.flow_event(
                c,
                run.key,
                run.flow as usize,
                run.expire_at,
                "expired",
                None,
                None,
                None,
            );
            c.st.run = None;
        }
    }

    /// Ends a pending run because a new flow starts at `ts`.
    pub fn kill_pending(&mut self, c: &mut Contact, ts: i64) {
        if let Some(run) = c.st.run.take() {
            self.flow_event(
                c,
                run.key,
                run.flow as usize,
                ts,
                "killed",
                None,
                None,
                None,
            );
        }
    }

    /// Leaves a run waiting for the contact.
    pub fn park_run(&mut self, c: &mut Contact, run: PendingRun) {
        c.st.run = Some(run);
    }

    /// The instant `hour:minute` local today plus jitter (for business schedules).
    pub fn local_at(&mut self, hour: usize, max_jitter: i64) -> i64 {
        let j = self.rng.below(max_jitter.max(1) as u64) as i64;
        self.local.at(hour, j)
    }
}
