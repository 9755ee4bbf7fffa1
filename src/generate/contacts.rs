//! Contacts: who they are, when they arrive, how active they are, and the state that must
//! survive from one day to the next (customer-service window, opt-in, chat and flow state,
//! open billing conversations). Memory is O(contacts): about 200 bytes each.
//!
//! | property | model |
//! |---|---|
//! | arrival | an import of 10-30 % of the tenant's contacts on its first day (business hours), the rest over the range with a linearly rising density (growth) and the inbound hourly rhythm |
//! | origin | WhatsApp: organic 68 %, click-to-WhatsApp ad 14 %, API 8 %, web form 10 %; Messenger/Instagram: organic 80 %, ad 20 %; web chat and Telegram: organic |
//! | country | the tenant's mix plus a thin tail over all 33 countries |
//! | `wa_id` | always on WhatsApp; 15 % of Messenger/Instagram users, 30 % of web chat visitors and 40 % of Telegram users shared a phone number; the others are username-only (`wa_id`, `country_code`, `calling_code` NULL) |
//! | activity | sessions/day: dormant 0.004, casual 0.025, regular 0.10, power 0.45 (×log-normal jitter); imported contacts are mostly dormant; web chat visitors rarely return |
//! | flags | read receipts on 80 %; 4 % stopped marketing messages (131050); 6 % of imported and 4 % of API/web-form numbers are not on WhatsApp (131026), a third of them join later |

use super::clock::{DAY, HOUR, INBOUND_HOURS, SEC, cumulative, hour_from, local_to_utc};
use super::ids;
use super::phones::{COUNTRIES, mobile_number, push_digits};
use super::rng::{Rand, mix64, stream};
use super::tables::{ContactRow, LakeRow, Out};
use super::world::{ChannelType, Style, Tenant};

/// "No instant": the value of an unset timestamp in contact state.
pub(crate) const NONE: i64 = i64::MIN;

/// How a contact came to exist (the `method` of its `created` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Wrote to the business first.
    Organic,
    /// Clicked an ad (first message carries a referral).
    Ad,
    /// Imported from a list.
    Import,
    /// Created through the API.
    Api,
    /// Signed up on a web form.
    WebForm,
}

impl Origin {
    /// The `method` of the `created` event.
    pub fn method(self) -> &'static str {
        match self {
            Origin::Organic => "inbound",
            Origin::Ad => "ad",
            Origin::Import => "import",
            Origin::Api => "api",
            Origin::WebForm => "web_form",
        }
    }

    /// Whether the contact's first appearance is an inbound message.
    pub fn writes_first(self) -> bool {
        matches!(self, Origin::Organic | Origin::Ad)
    }
}

/// Opt-in state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptIn {
    /// Never asked.
    None,
    /// Opted in.
    In,
    /// Opted out.
    Out,
}

/// Provider (BSP) validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    /// Valid.
    Valid,
    /// The number is not on WhatsApp.
    Invalid,
    /// Blocked by the business.
    Blocked,
}

/// Inbox chat state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chat {
    /// No chat yet.
    Never,
    /// Open.
    Open,
    /// Closed.
    Closed,
}

/// A flow run waiting for the contact.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingRun {
    /// Run key (formats the `flow_run_id`).
    pub key: u64,
    /// Flow index in the tenant.
    pub flow: u16,
    /// Next node to enter.
    pub next_node: u16,
    /// When the run expires if the contact does not come back.
    pub expire_at: i64,
    /// The last bot message (what a reply would answer).
    pub last_msg: u64,
}

/// One open billing conversation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenConv {
    /// Origin (index into `billing::ORIGINS`).
    pub origin: u8,
    /// Key of the conversation id.
    pub key: u64,
    /// Expiry instant.
    pub expires_at: i64,
}

/// Open conversations of a contact (at most one per origin, so five slots suffice).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Convs {
    /// Slots; `None` = free.
    pub open: [Option<OpenConv>; 5],
}

/// Everything about a contact that changes over time.
#[derive(Debug, Clone)]
pub(crate) struct State {
    /// Latest inbound message instant.
    pub last_inbound: i64,
    /// First inbound message instant.
    pub first_inbound: i64,
    /// End of the latest activity (sessions never overlap).
    pub busy_until: i64,
    /// Key of the latest outbound message (what a reaction reacts to); 0 = none.
    pub last_out: u64,
    /// Opt-in state.
    pub optin: OptIn,
    /// Latest opt-in instant.
    pub optin_at: i64,
    /// Latest opt-out instant.
    pub optout_at: i64,
    /// Provider status.
    pub provider: Provider,
    /// Latest contact event instant.
    pub updated_at: i64,
    /// Language (index into the country's languages).
    pub language: u8,
    /// Chat state.
    pub chat: Chat,
    /// A pending automatic close of the chat; [`NONE`] = none.
    pub chat_close_at: i64,
    /// A flow run waiting for input.
    pub run: Option<PendingRun>,
    /// An agent reply planned beyond the contact's day: (instant, agent index).
    pub agent_reply: Option<(i64, u8)>,
    /// Open billing conversations (webhook channels).
    pub convs: Convs,
    /// A click-to-WhatsApp referral opens a free-entry-point window if answered before this.
    pub ref_until: i64,
    /// Whether the contact was created (its `created` event emitted).
    pub created: bool,
}

/// A contact.
#[derive(Debug, Clone)]
pub(crate) struct Contact {
    /// Key; the contact id is its 16 hex digits, or the number of a WhatsApp contact.
    pub key: u64,
    /// Channel index in the tenant.
    pub channel: u8,
    /// Country of the person (index into [`COUNTRIES`]).
    pub country: u8,
    /// E.164 digits as an integer; 0 = username-only.
    pub wa: u64,
    /// First name index, last name index; `username` is used when `wa == 0` and this is set.
    pub name: (u8, u8),
    /// Username index for username-only users, `u8::MAX` for a real name.
    pub username: u8,
    /// Creation instant.
    pub created_at: i64,
    /// Origin.
    pub origin: Origin,
    /// Expected sessions per day.
    pub lambda: f32,
    /// Read receipts enabled.
    pub read_receipts: bool,
    /// Stopped marketing messages in WhatsApp (131050).
    pub stops_marketing: bool,
    /// The number is not on WhatsApp until this instant ([`NONE`] = always was).
    pub not_on_wa_until: i64,
    /// Time-varying state.
    pub st: State,
}

impl Contact {
    /// ISO country of the number, when there is a number.
    pub fn country_code(&self) -> Option<&'static str> {
        (self.wa != 0).then(|| COUNTRIES[self.country as usize].iso)
    }

    /// Calling code of the number, when there is a number.
    pub fn calling_code(&self) -> Option<i32> {
        (self.wa != 0).then(|| COUNTRIES[self.country as usize].calling_code as i32)
    }

    /// Whether the customer-service window is open at `ts` (an inbound in `(ts-24h, ts]`).
    pub fn csw_open(&self, ts: i64) -> bool {
        self.st.last_inbound != NONE
            && self.st.last_inbound <= ts
            && ts - self.st.last_inbound < DAY
    }

    /// The contact's language code.
    pub fn language(&self) -> &'static str {
        let langs = COUNTRIES[self.country as usize].languages;
        langs
            .get(self.st.language as usize)
            .copied()
            .unwrap_or("en")
    }
}

/// A tenant's contacts, sorted by creation time, with what sampling needs.
pub(crate) struct Population {
    /// Contacts sorted by `created_at`.
    pub contacts: Vec<Contact>,
    /// Prefix sums of `lambda`: `cum[i]` = sum over contacts `0..i`.
    pub cum: Vec<f64>,
    /// Contact indices per channel, in creation order.
    pub by_channel: Vec<Vec<u32>>,
    /// Per channel, how many of `by_channel` exist (have been created).
    pub exist: Vec<usize>,
    /// Contacts `0..next_new` have been created.
    pub next_new: usize,
}

fn tier_lambda(rng: &mut Rand, origin: Origin) -> f64 {
    let w: [f64; 4] = match origin {
        Origin::Import => [0.60, 0.30, 0.09, 0.01],
        Origin::Organic | Origin::Ad => [0.25, 0.45, 0.23, 0.07],
        Origin::Api | Origin::WebForm => [0.40, 0.40, 0.17, 0.03],
    };
    let base = [0.004, 0.025, 0.10, 0.45][rng.weighted(&w)];
    base * rng.lognormal(1.0, 0.4)
}

/// Builds the `n` contacts of `tenant` arriving within `[start_utc, horizon)`.
pub(crate) fn build_population(
    seed: u64,
    tenant: &Tenant,
    n: usize,
    start_date: chrono::NaiveDate,
    days: u32,
    start_utc: i64,
    horizon: i64,
) -> Population {
    let mut rng = Rand::derive(seed, &[stream::CONTACTS, tenant.idx as u64]);
    let import_frac = match tenant.style {
        Style::Glific => 0.30,
        Style::Botmaker => 0.25,
        Style::Turn => 0.15,
        Style::Stella => 0.10,
    };
    let n_import = ((n as f64) * import_frac).round() as usize;
    let hours = cumulative(&INBOUND_HOURS);
    let span = days.saturating_sub(tenant.start_day).max(1) as f64;
    let growth = rng.uniform(0.5, 2.5);
    let first_day = start_date + chrono::Duration::days(tenant.start_day as i64);
    let import_at = local_to_utc(tenant.tz, first_day, 10 * 3600 + rng.below(3600) as u32);

    // Arrival instants first, then attributes in arrival order.
    let mut arrivals: Vec<(i64, bool)> = Vec::with_capacity(n);
    for i in 0..n {
        if i < n_import {
            let t = import_at + rng.below(20 * 60) as i64 * SEC;
            arrivals.push((t.clamp(start_utc, horizon - 1), true));
            continue;
        }
        // Linearly rising density on [0, 1): inverse CDF of (1 + g x) / (1 + g / 2).
        let u = rng.f64();
        let x = ((1.0 + 2.0 * growth * u * (1.0 + growth / 2.0)).sqrt() - 1.0) / growth;
        let day = tenant.start_day as i64 + ((x * span).floor() as i64).min(span as i64 - 1);
        let date = start_date + chrono::Duration::days(day);
        let hour = hour_from(&hours, rng.f64());
        let secs = hour as u32 * 3600 + rng.below(3600) as u32;
        let t = local_to_utc(tenant.tz, date, secs) + rng.below(1_000_000) as i64;
        arrivals.push((t.clamp(start_utc, horizon - 1), false));
    }
    arrivals.sort_by_key(|a| a.0);
    let mut numbers: std::collections::HashSet<u64> = std::collections::HashSet::with_capacity(n);

    let wa_channels: Vec<usize> = tenant
        .channels
        .iter()
        .enumerate()
        .filter(|(_, c)| c.ctype == ChannelType::WhatsApp)
        .map(|(i, _)| i)
        .collect();
    let wa_weights: Vec<f64> = wa_channels
        .iter()
        .map(|&i| tenant.channels[i].weight)
        .collect();
    let all_weights: Vec<f64> = tenant.channels.iter().map(|c| c.weight).collect();
    let mix_weights: Vec<f64> = tenant.mix.iter().map(|m| m.1).collect();
    let salt = mix64(seed ^ 0xC0A7_AC75);

    let mut contacts = Vec::with_capacity(n);
    let mut by_channel = vec![Vec::new(); tenant.channels.len()];
    let mut cum = Vec::with_capacity(n + 1);
    cum.push(0.0);
    for (i, (created_at, imported)) in arrivals.into_iter().enumerate() {
        let channel = if imported {
            wa_channels
                .get(rng.weighted(&wa_weights))
                .copied()
                .unwrap_or(0)
        } else {
            rng.weighted(&all_weights)
        };
        let ct = tenant.channels[channel].ctype;
        let origin = if imported {
            Origin::Import
        } else {
            match ct {
                ChannelType::WhatsApp => {
                    [Origin::Organic, Origin::Ad, Origin::Api, Origin::WebForm]
                        [rng.weighted(&[0.68, 0.14, 0.08, 0.10])]
                }
                ChannelType::Messenger | ChannelType::Instagram => {
                    if rng.chance(0.2) {
                        Origin::Ad
                    } else {
                        Origin::Organic
                    }
                }
                ChannelType::WebChat | ChannelType::Telegram => Origin::Organic,
            }
        };
        let country = tenant
            .mix
            .get(rng.weighted(&mix_weights))
            .map(|m| m.0)
            .unwrap_or(tenant.home_country);
        let has_phone = match ct {
            ChannelType::WhatsApp => true,
            ChannelType::Messenger | ChannelType::Instagram => rng.chance(0.15),
            ChannelType::WebChat => rng.chance(0.30),
            ChannelType::Telegram => rng.chance(0.40),
        };
        // A number is the contact id of a WhatsApp contact: unique within the tenant.
        let wa = if has_phone {
            loop {
                let wa = mobile_number(&mut rng, &COUNTRIES[country as usize]);
                if numbers.insert(wa) {
                    break wa;
                }
            }
        } else {
            0
        };
        let username = if has_phone {
            u8::MAX
        } else {
            rng.below(super::names::USERNAMES.len() as u64) as u8
        };
        let mut lambda = tier_lambda(&mut rng, origin);
        if ct == ChannelType::WebChat {
            lambda *= 0.35;
        }
        let not_on_wa = match origin {
            Origin::Import => rng.chance(0.06),
            Origin::Api | Origin::WebForm => rng.chance(0.04),
            _ => false,
        } && ct == ChannelType::WhatsApp;
        let not_on_wa_until = if !not_on_wa {
            NONE
        } else if rng.chance(0.33) {
            created_at + (rng.exp(60.0) * DAY as f64) as i64 + HOUR
        } else {
            i64::MAX
        };
        let langs = COUNTRIES[country as usize].languages.len() as u64;
        let language = if rng.chance(0.75) {
            0
        } else {
            rng.below(langs) as u8
        };
        let contact = Contact {
            key: mix64((((tenant.idx as u64) << 40) | i as u64) ^ salt),
            channel: channel as u8,
            country,
            wa,
            name: (rng.below(8) as u8, rng.below(8) as u8),
            username,
            created_at,
            origin,
            lambda: lambda as f32,
            read_receipts: rng.chance(0.8),
            stops_marketing: wa != 0 && rng.chance(0.04),
            not_on_wa_until,
            st: State {
                last_inbound: NONE,
                first_inbound: NONE,
                busy_until: NONE,
                last_out: 0,
                optin: OptIn::None,
                optin_at: NONE,
                optout_at: NONE,
                provider: Provider::Valid,
                updated_at: created_at,
                language,
                chat: Chat::Never,
                chat_close_at: NONE,
                run: None,
                agent_reply: None,
                convs: Convs::default(),
                ref_until: NONE,
                created: false,
            },
        };
        let last = cum.last().copied().unwrap_or(0.0);
        cum.push(last + contact.lambda as f64);
        by_channel[channel].push(i as u32);
        contacts.push(contact);
    }
    Population {
        contacts,
        cum,
        exist: vec![0; by_channel.len()],
        by_channel,
        next_new: 0,
    }
}

impl Population {
    /// Draws an existing contact (index below `n_exist`) with probability proportional to its
    /// activity rate.
    pub fn sample_active(&self, rng: &mut Rand, n_exist: usize) -> Option<usize> {
        let total = *self.cum.get(n_exist)?;
        if n_exist == 0 || total <= 0.0 {
            return None;
        }
        let x = rng.f64() * total;
        // First i with cum[i + 1] > x.
        let idx = self.cum[1..=n_exist].partition_point(|&c| c <= x);
        Some(idx.min(n_exist - 1))
    }

    /// Marks every contact created before `until` as existing; returns the range of newcomers.
    pub fn admit_until(&mut self, until: i64) -> std::ops::Range<usize> {
        let from = self.next_new;
        let mut to = from;
        while to < self.contacts.len() && self.contacts[to].created_at < until {
            let ch = self.contacts[to].channel as usize;
            if let Some(e) = self.exist.get_mut(ch) {
                *e += 1;
            }
            to += 1;
        }
        self.next_new = to;
        from..to
    }
}

/// Appends the snapshot row of every created contact of a tenant.
pub(crate) fn write_snapshot(out: &mut Out, tenant: &Tenant, pop: &Population) {
    let mut id = String::new();
    let mut wa = String::new();
    let mut name = String::new();
    for c in pop.contacts.iter().filter(|c| c.st.created) {
        let whatsapp = tenant.channels[c.channel as usize].ctype == ChannelType::WhatsApp;
        ids::contact_id(&mut id, c.key, if whatsapp { c.wa } else { 0 });
        wa.clear();
        if c.wa != 0 {
            push_digits(&mut wa, c.wa);
        }
        name.clear();
        if c.wa == 0 && c.username != u8::MAX {
            name.push_str(
                super::names::USERNAMES[c.username as usize % super::names::USERNAMES.len()],
            );
        } else {
            let (first, last) = COUNTRIES[c.country as usize].names.lists();
            name.push_str(first[c.name.0 as usize % 8]);
            name.push(' ');
            name.push_str(last[c.name.1 as usize % 8]);
        }
        ContactRow {
            tenant_id: &tenant.id,
            channel_id: &tenant.channels[c.channel as usize].id,
            contact_id: &id,
            wa_id: (c.wa != 0).then_some(wa.as_str()),
            name: Some(name.as_str()),
            language: Some(c.language()),
            country_code: c.country_code(),
            calling_code: c.calling_code(),
            created_at: c.created_at,
            provider_status: Some(match c.st.provider {
                Provider::Valid => "valid",
                Provider::Invalid => "invalid",
                Provider::Blocked => "blocked",
            }),
            optin_status: Some(match c.st.optin {
                OptIn::None => "none",
                OptIn::In => "opted_in",
                OptIn::Out => "opted_out",
            }),
            optin_at: (c.st.optin_at != NONE).then_some(c.st.optin_at),
            optout_at: (c.st.optout_at != NONE).then_some(c.st.optout_at),
            updated_at: c.st.updated_at.max(c.created_at),
        }
        .append(&mut out.contacts);
    }
}
