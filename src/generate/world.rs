//! The world: tenants, their channels, templates, flows, agents and ads.
//!
//! Tenants come from twelve presets (cycled with a numeric suffix beyond twelve), each with a
//! time zone, a home country, a country mix for its contacts and the product "style" whose
//! features it uses most:
//!
//! | # | tenant | zone | home | style |
//! |---|---|---|---|---|
//! | 1 | Chai Point Retail | Asia/Kolkata | IN | Stella (pushes, comments) |
//! | 2 | Loja Verde | America/Sao_Paulo | BR | Botmaker (template campaigns) |
//! | 3 | Thames Energy | Europe/London | GB | Turn (goals, reminders, agents) |
//! | 4 | Sahayog Health Nepal | Asia/Kathmandu (+05:45) | NP | Glific (broadcasts, flows) |
//! | 5 | Empire Dental Group | America/New_York | US | Turn |
//! | 6 | Outback Outfitters | Australia/Adelaide (+09:30/+10:30) | AU | Stella |
//! | 7-12 | Lagos, Jakarta, Mexico City, Cairo, Toronto, Istanbul | | | mixed |
//!
//! Every tenant has a first WhatsApp channel; a second WhatsApp number (sometimes in another
//! zone, which then overrides the tenant's), Messenger, Instagram, web chat and Telegram are
//! drawn per tenant, and the first tenants are forced to cover every type. Integrations are
//! `meta_cloud`, `360dialog`, `gupshup` and `twilio`; only `meta_cloud` and `360dialog` channels
//! report conversation and pricing fields in their status webhooks (the others need derived
//! conversations), and under PMP `meta_cloud` numbers stop reporting conversations (except free
//! entry point ones) when they move to Graph API v24.0 on 2025-10-08.

use chrono_tz::Tz;

use super::clock::EraCuts;
use super::ids::push_hex;
use super::phones::{COUNTRIES, country_index, mobile_number, push_digits};
use super::rng::{Rand, derive, stream};

/// A channel type (the `channel_type` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelType {
    /// WhatsApp Business.
    WhatsApp,
    /// Facebook Messenger.
    Messenger,
    /// Instagram direct messages.
    Instagram,
    /// A web chat widget.
    WebChat,
    /// A Telegram bot.
    Telegram,
}

impl ChannelType {
    /// The `channel_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelType::WhatsApp => "whatsapp",
            ChannelType::Messenger => "messenger",
            ChannelType::Instagram => "instagram",
            ChannelType::WebChat => "webchat",
            ChannelType::Telegram => "telegram",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            ChannelType::WhatsApp => "wa",
            ChannelType::Messenger => "fb",
            ChannelType::Instagram => "ig",
            ChannelType::WebChat => "web",
            ChannelType::Telegram => "tg",
        }
    }
}

/// Which product's features a tenant leans on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Stella/WOZTELL: pushes, Messenger/Instagram comments, stored actions.
    Stella,
    /// Glific: broadcasts, flow broadcasts, opt-ins, flows.
    Glific,
    /// Turn.io: goals, reminders, agents (coaches).
    Turn,
    /// Botmaker: template campaigns, web chat.
    Botmaker,
}

/// A template category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    /// Marketing.
    Marketing,
    /// Utility.
    Utility,
    /// Authentication.
    Authentication,
}

impl Category {
    /// The `template_category` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Marketing => "marketing",
            Category::Utility => "utility",
            Category::Authentication => "authentication",
        }
    }
}

/// A message template: name, category, quick-reply buttons (title, payload) and body.
#[derive(Debug)]
pub(crate) struct Template {
    /// Template name.
    pub name: &'static str,
    /// Category.
    pub category: Category,
    /// Quick-reply buttons: (title, payload).
    pub buttons: &'static [(&'static str, &'static str)],
    /// Rendered body text.
    pub body: &'static str,
}

/// Every template a tenant may have approved.
pub(crate) static TEMPLATES: &[Template] = &[
    Template {
        name: "weekend_sale",
        category: Category::Marketing,
        buttons: &[
            ("Shop now", "SHOP_NOW"),
            ("Stop promotions", "STOP_PROMOTIONS"),
        ],
        body: "This weekend only: 20% off everything. Tap below to shop.",
    },
    Template {
        name: "new_arrivals",
        category: Category::Marketing,
        buttons: &[
            ("View collection", "VIEW_COLLECTION"),
            ("Stop promotions", "STOP_PROMOTIONS"),
        ],
        body: "New arrivals are in! Be the first to see them.",
    },
    Template {
        name: "festive_offer",
        category: Category::Marketing,
        buttons: &[
            ("Claim offer", "CLAIM_OFFER"),
            ("Stop promotions", "STOP_PROMOTIONS"),
        ],
        body: "Celebrate with us: a festive gift is waiting for you.",
    },
    Template {
        name: "cart_reminder",
        category: Category::Marketing,
        buttons: &[("Complete order", "CHECKOUT")],
        body: "You left something in your cart. Complete your order today.",
    },
    Template {
        name: "loyalty_bonus",
        category: Category::Marketing,
        buttons: &[("See my points", "POINTS")],
        body: "You earned bonus loyalty points this month!",
    },
    Template {
        name: "we_miss_you",
        category: Category::Marketing,
        buttons: &[("Yes, show me", "INTERESTED"), ("Not now", "NOT_NOW")],
        body: "It has been a while! Here is something new for you.",
    },
    Template {
        name: "order_confirmation",
        category: Category::Utility,
        buttons: &[],
        body: "Your order has been confirmed and will ship soon.",
    },
    Template {
        name: "shipping_update",
        category: Category::Utility,
        buttons: &[("Track", "TRACK")],
        body: "Your order is on its way.",
    },
    Template {
        name: "appointment_reminder",
        category: Category::Utility,
        buttons: &[("Confirm", "CONFIRM"), ("Reschedule", "RESCHEDULE")],
        body: "Reminder: you have an appointment tomorrow.",
    },
    Template {
        name: "payment_receipt",
        category: Category::Utility,
        buttons: &[],
        body: "We received your payment. Thank you!",
    },
    Template {
        name: "account_alert",
        category: Category::Utility,
        buttons: &[("It was me", "IT_WAS_ME"), ("Not me", "NOT_ME")],
        body: "A new sign-in to your account was detected.",
    },
    Template {
        name: "delivery_feedback",
        category: Category::Utility,
        buttons: &[("Good", "GOOD"), ("Bad", "BAD")],
        body: "How was your delivery?",
    },
    Template {
        name: "follow_up",
        category: Category::Utility,
        buttons: &[("Continue chat", "CONTINUE")],
        body: "We tried to reach you about your request. Reply to continue.",
    },
    Template {
        name: "otp_login",
        category: Category::Authentication,
        buttons: &[],
        body: "Your login code is 482913. Do not share it.",
    },
    Template {
        name: "verify_phone",
        category: Category::Authentication,
        buttons: &[],
        body: "Use 730155 to verify your phone number.",
    },
];

/// A bot flow definition.
#[derive(Debug)]
pub(crate) struct Flow {
    /// `flow_id`.
    pub id: String,
    /// `flow_name`.
    pub name: &'static str,
    /// Keyword that starts it.
    pub keyword: &'static str,
    /// Node ids, in path order.
    pub nodes: Vec<String>,
    /// Reply option ids: three per node (`options[3 * node + k]`), the `interaction_id` of a
    /// button or list reply.
    pub options: Vec<String>,
    /// Turn goal tracked by the flow, if any.
    pub goal: Option<&'static str>,
    /// Contact field the flow saves, if any.
    pub result_key: Option<&'static str>,
}

struct FlowDef {
    name: &'static str,
    keyword: &'static str,
    nodes: u8,
    goal: Option<&'static str>,
    result_key: Option<&'static str>,
}

const FLOWS: [FlowDef; 9] = [
    FlowDef {
        name: "Welcome",
        keyword: "hi",
        nodes: 4,
        goal: Some("onboarding"),
        result_key: Some("interest"),
    },
    FlowDef {
        name: "Main menu",
        keyword: "menu",
        nodes: 3,
        goal: None,
        result_key: None,
    },
    FlowDef {
        name: "Talk to an agent",
        keyword: "agent",
        nodes: 2,
        goal: None,
        result_key: None,
    },
    FlowDef {
        name: "Order status",
        keyword: "order",
        nodes: 4,
        goal: Some("order_tracked"),
        result_key: None,
    },
    FlowDef {
        name: "Book appointment",
        keyword: "book",
        nodes: 6,
        goal: Some("appointment_booked"),
        result_key: Some("appointment_date"),
    },
    FlowDef {
        name: "Feedback survey",
        keyword: "survey",
        nodes: 5,
        goal: Some("survey_completed"),
        result_key: Some("rating"),
    },
    FlowDef {
        name: "Opt-in",
        keyword: "join",
        nodes: 2,
        goal: Some("opted_in"),
        result_key: None,
    },
    FlowDef {
        name: "Quiz",
        keyword: "quiz",
        nodes: 8,
        goal: Some("quiz_completed"),
        result_key: Some("quiz_score"),
    },
    FlowDef {
        name: "Registration",
        keyword: "register",
        nodes: 6,
        goal: Some("registration"),
        result_key: Some("city"),
    },
];

/// Index of the "Welcome" flow in every tenant's flow list.
pub(crate) const FLOW_WELCOME: usize = 0;
/// Index of the "Talk to an agent" flow in every tenant's flow list.
pub(crate) const FLOW_AGENT: usize = 2;
/// Index of the "Main menu" flow in every tenant's flow list.
pub(crate) const FLOW_MENU: usize = 1;

/// A channel of a tenant.
#[derive(Debug)]
pub(crate) struct Channel {
    /// `channel_id`.
    pub id: String,
    /// Type.
    pub ctype: ChannelType,
    /// `integration` (WhatsApp only).
    pub integration: Option<&'static str>,
    /// `waba_id` (WhatsApp only).
    pub waba_id: Option<String>,
    /// `phone_number_id` (WhatsApp only).
    pub phone_number_id: Option<String>,
    /// `display_phone` (WhatsApp only, E.164).
    pub display_phone: Option<String>,
    /// `page_id` (Messenger, Instagram).
    pub page_id: Option<String>,
    /// The `tz` column: set only when it differs from the tenant's zone.
    pub tz_override: Option<&'static str>,
    /// Whether its status webhooks carry conversation and pricing fields.
    pub webhook_conversations: bool,
    /// Under PMP, conversation objects stop (except free entry point) at this instant: the
    /// number's move to Graph API v24.0 (`meta_cloud`, 2025-10-08); never for numbers pinned to
    /// an older version (`360dialog`).
    pub conversations_until: i64,
    /// When the pricing rules change for this WABA.
    pub eras: EraCuts,
    /// Share of the tenant's contacts on this channel (relative).
    pub weight: f64,
    /// Index of the business number's country in [`COUNTRIES`].
    pub home_country: u8,
}

/// A tenant and everything it owns.
#[derive(Debug)]
pub(crate) struct Tenant {
    /// Position in the world (0-based).
    pub idx: usize,
    /// `tenant_id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// IANA zone name.
    pub tz_name: &'static str,
    /// Zone.
    pub tz: Tz,
    /// Product style.
    pub style: Style,
    /// Contact country mix: (country index, weight).
    pub mix: Vec<(u8, f64)>,
    /// Channels, the first is always WhatsApp.
    pub channels: Vec<Channel>,
    /// Approved templates (indices into [`TEMPLATES`]).
    pub templates: Vec<usize>,
    /// Flows; indices [`FLOW_MENU`] and [`FLOW_AGENT`] are always present.
    pub flows: Vec<Flow>,
    /// Agent ids.
    pub agents: Vec<String>,
    /// Ad ids (click-to-WhatsApp / click-to-Messenger ads).
    pub ads: Vec<String>,
    /// First active day (index into the generated range).
    pub start_day: u32,
    /// Relative size (share of contacts).
    pub size: f64,
    /// Flow inactivity timeout, µs.
    pub flow_timeout: i64,
    /// Home country index.
    pub home_country: u8,
}

impl Tenant {
    /// Index of the flow started by `keyword`, if the tenant has it.
    pub fn flow_by_keyword(&self, keyword: &str) -> Option<usize> {
        self.flows.iter().position(|f| f.keyword == keyword)
    }

    /// Whether the tenant approved the template of that name; its index if so.
    pub fn template(&self, name: &str) -> Option<usize> {
        self.templates
            .iter()
            .copied()
            .find(|&t| TEMPLATES[t].name == name)
    }

    /// Template indices of one category.
    pub fn templates_of(&self, cat: Category) -> impl Iterator<Item = usize> + '_ {
        self.templates
            .iter()
            .copied()
            .filter(move |&t| TEMPLATES[t].category == cat)
    }
}

struct Preset {
    slug: &'static str,
    name: &'static str,
    tz: &'static str,
    home: &'static str,
    style: Style,
    size: f64,
    integration: &'static str,
    second: Option<(&'static str, &'static str, &'static str)>,
    force: &'static [ChannelType],
    mix: &'static [(&'static str, f64)],
}

use ChannelType::*;

const PRESETS: [Preset; 12] = [
    Preset {
        slug: "chai-point",
        name: "Chai Point Retail",
        tz: "Asia/Kolkata",
        home: "IN",
        style: Style::Stella,
        size: 1.5,
        integration: "360dialog",
        second: Some(("Asia/Dubai", "AE", "meta_cloud")),
        force: &[Messenger, Instagram],
        mix: &[
            ("IN", 82.0),
            ("AE", 4.0),
            ("NP", 2.0),
            ("GB", 2.0),
            ("US", 2.0),
            ("SA", 2.0),
            ("BD", 2.0),
            ("QA", 1.0),
            ("SG", 1.0),
            ("MY", 1.0),
        ],
    },
    Preset {
        slug: "loja-verde",
        name: "Loja Verde",
        tz: "America/Sao_Paulo",
        home: "BR",
        style: Style::Botmaker,
        size: 1.2,
        integration: "twilio",
        second: None,
        force: &[WebChat, Instagram],
        mix: &[
            ("BR", 86.0),
            ("PT", 5.0),
            ("AR", 3.0),
            ("CO", 2.0),
            ("US", 2.0),
            ("ES", 1.0),
            ("MX", 1.0),
        ],
    },
    Preset {
        slug: "thames-energy",
        name: "Thames Energy",
        tz: "Europe/London",
        home: "GB",
        style: Style::Turn,
        size: 1.0,
        integration: "meta_cloud",
        second: Some(("Europe/Dublin", "IE", "meta_cloud")),
        force: &[WebChat, Messenger],
        mix: &[
            ("GB", 66.0),
            ("IE", 8.0),
            ("IN", 5.0),
            ("NG", 5.0),
            ("PK", 3.0),
            ("FR", 3.0),
            ("DE", 3.0),
            ("ES", 2.0),
            ("ZA", 2.0),
            ("US", 2.0),
            ("AU", 1.0),
        ],
    },
    Preset {
        slug: "sahayog-health",
        name: "Sahayog Health Nepal",
        tz: "Asia/Kathmandu",
        home: "NP",
        style: Style::Glific,
        size: 0.8,
        integration: "gupshup",
        second: None,
        force: &[Telegram],
        mix: &[
            ("NP", 80.0),
            ("IN", 10.0),
            ("QA", 3.0),
            ("AE", 3.0),
            ("MY", 2.0),
            ("SA", 2.0),
        ],
    },
    Preset {
        slug: "empire-dental",
        name: "Empire Dental Group",
        tz: "America/New_York",
        home: "US",
        style: Style::Turn,
        size: 1.0,
        integration: "meta_cloud",
        second: Some(("America/Puerto_Rico", "PR", "twilio")),
        force: &[WebChat],
        mix: &[
            ("US", 70.0),
            ("CA", 8.0),
            ("PR", 6.0),
            ("JM", 4.0),
            ("MX", 4.0),
            ("KY", 2.0),
            ("TT", 2.0),
            ("CO", 2.0),
            ("GB", 1.0),
            ("BR", 1.0),
        ],
    },
    Preset {
        slug: "outback-outfitters",
        name: "Outback Outfitters",
        tz: "Australia/Adelaide",
        home: "AU",
        style: Style::Stella,
        size: 0.7,
        integration: "360dialog",
        second: None,
        force: &[Messenger, Instagram],
        mix: &[
            ("AU", 84.0),
            ("NZ", 8.0),
            ("GB", 3.0),
            ("IN", 2.0),
            ("PH", 2.0),
            ("SG", 1.0),
        ],
    },
    Preset {
        slug: "lagos-logistics",
        name: "Lagos Logistics",
        tz: "Africa/Lagos",
        home: "NG",
        style: Style::Botmaker,
        size: 0.9,
        integration: "gupshup",
        second: None,
        force: &[],
        mix: &[
            ("NG", 80.0),
            ("GB", 5.0),
            ("ZA", 4.0),
            ("KE", 4.0),
            ("US", 3.0),
            ("EG", 2.0),
            ("AE", 2.0),
        ],
    },
    Preset {
        slug: "jaya-fintech",
        name: "Jaya Fintech",
        tz: "Asia/Jakarta",
        home: "ID",
        style: Style::Stella,
        size: 1.1,
        integration: "meta_cloud",
        second: Some(("Asia/Kuala_Lumpur", "MY", "360dialog")),
        force: &[],
        mix: &[
            ("ID", 84.0),
            ("MY", 6.0),
            ("SG", 4.0),
            ("PH", 3.0),
            ("AU", 1.0),
            ("IN", 2.0),
        ],
    },
    Preset {
        slug: "mercado-azul",
        name: "Mercado Azul",
        tz: "America/Mexico_City",
        home: "MX",
        style: Style::Botmaker,
        size: 1.0,
        integration: "twilio",
        second: None,
        force: &[],
        mix: &[
            ("MX", 80.0),
            ("US", 10.0),
            ("CO", 4.0),
            ("AR", 3.0),
            ("ES", 2.0),
            ("PR", 1.0),
        ],
    },
    Preset {
        slug: "nile-learning",
        name: "Nile Learning",
        tz: "Africa/Cairo",
        home: "EG",
        style: Style::Glific,
        size: 0.8,
        integration: "gupshup",
        second: None,
        force: &[],
        mix: &[
            ("EG", 80.0),
            ("SA", 6.0),
            ("AE", 5.0),
            ("TR", 4.0),
            ("QA", 2.0),
            ("KE", 1.0),
            ("DE", 1.0),
        ],
    },
    Preset {
        slug: "maple-tutors",
        name: "Maple Tutors",
        tz: "America/Toronto",
        home: "CA",
        style: Style::Turn,
        size: 0.7,
        integration: "meta_cloud",
        second: None,
        force: &[],
        mix: &[
            ("CA", 74.0),
            ("US", 12.0),
            ("IN", 5.0),
            ("PH", 3.0),
            ("JM", 2.0),
            ("GB", 2.0),
            ("FR", 1.0),
            ("KY", 1.0),
        ],
    },
    Preset {
        slug: "bosphorus-bazaar",
        name: "Bosphorus Bazaar",
        tz: "Europe/Istanbul",
        home: "TR",
        style: Style::Stella,
        size: 0.9,
        integration: "360dialog",
        second: None,
        force: &[],
        mix: &[
            ("TR", 84.0),
            ("DE", 6.0),
            ("AE", 3.0),
            ("SA", 2.0),
            ("FR", 2.0),
            ("GB", 2.0),
            ("EG", 1.0),
        ],
    },
];

/// Everyone: the tenants of one generation run.
#[derive(Debug)]
pub(crate) struct World {
    /// Tenants, in id order.
    pub tenants: Vec<Tenant>,
}

fn digits(rng: &mut Rand, first: u8, n: usize) -> String {
    let mut s = String::with_capacity(n);
    s.push((b'0' + first) as char);
    for _ in 1..n {
        s.push((b'0' + rng.below(10) as u8) as char);
    }
    s
}

fn parse_tz(name: &str) -> Tz {
    name.parse::<Tz>().unwrap_or(Tz::UTC)
}

impl World {
    /// Builds `tenants` tenants for a range of `days` days.
    pub fn build(seed: u64, tenants: usize, days: u32) -> World {
        let mut out = Vec::with_capacity(tenants);
        for idx in 0..tenants {
            out.push(build_tenant(seed, idx, days));
        }
        World { tenants: out }
    }
}

fn build_tenant(seed: u64, idx: usize, days: u32) -> Tenant {
    let p = &PRESETS[idx % PRESETS.len()];
    let round = idx / PRESETS.len();
    let mut rng = Rand::derive(seed, &[stream::WORLD, idx as u64]);
    let (id, name) = if round == 0 {
        (p.slug.to_string(), p.name.to_string())
    } else {
        (
            format!("{}-{}", p.slug, round + 1),
            format!("{} {}", p.name, round + 1),
        )
    };
    let tz = parse_tz(p.tz);
    let home = country_index(p.home).unwrap_or(0);

    // Country mix: the preset plus a thin global tail, so every country shows up somewhere.
    let mut mix: Vec<(u8, f64)> = (0..COUNTRIES.len()).map(|c| (c as u8, 0.08)).collect();
    for (iso, w) in p.mix {
        if let Some(c) = country_index(iso) {
            mix[c as usize].1 += w;
        }
    }

    // Channels.
    let v24 = super::clock::utc_midnight(
        chrono::NaiveDate::from_ymd_opt(2025, 10, 8).unwrap_or(chrono::NaiveDate::MIN),
    );
    let mut channels = Vec::new();
    let mut add = |rng: &mut Rand,
                   ct: ChannelType,
                   n: usize,
                   integration: Option<&'static str>,
                   zone: Option<(&'static str, &'static str)>| {
        let ctz = zone.map(|z| parse_tz(z.0)).unwrap_or(tz);
        let ch_home = zone.and_then(|z| country_index(z.1)).unwrap_or(home);
        let is_wa = ct == WhatsApp;
        let display = is_wa.then(|| {
            let mut s = String::from("+");
            push_digits(&mut s, mobile_number(rng, &COUNTRIES[ch_home as usize]));
            s
        });
        let page_id = match ct {
            Messenger => Some(digits(rng, 1, 15)),
            Instagram => Some(format!("17841{}", digits(rng, 4, 12))),
            _ => None,
        };
        let weight = match ct {
            WhatsApp if n == 1 => 1.0,
            WhatsApp => 0.45,
            Messenger => 0.2,
            Instagram => 0.18,
            WebChat => 0.1,
            Telegram => 0.08,
        };
        channels.push(Channel {
            id: format!("{}-{}-{}", id, ct.slug(), n),
            ctype: ct,
            integration: if is_wa { integration } else { None },
            waba_id: is_wa.then(|| digits(rng, 1, 15)),
            phone_number_id: is_wa.then(|| digits(rng, 1, 15)),
            display_phone: display,
            page_id,
            tz_override: zone.map(|z| z.0).filter(|z| *z != p.tz),
            webhook_conversations: matches!(integration, Some("meta_cloud" | "360dialog")) && is_wa,
            conversations_until: if integration == Some("meta_cloud") {
                v24
            } else {
                i64::MAX
            },
            eras: EraCuts::for_zone(ctz),
            weight,
            home_country: ch_home,
        });
    };
    add(&mut rng, WhatsApp, 1, Some(p.integration), None);
    if let Some((zone, iso, integ)) = p.second {
        if round == 0 || rng.chance(0.5) {
            add(&mut rng, WhatsApp, 2, Some(integ), Some((zone, iso)));
        }
    } else if rng.chance(0.2) {
        let integ = rng.pick(&["meta_cloud", "360dialog", "gupshup", "twilio"]);
        add(&mut rng, WhatsApp, 2, Some(integ), None);
    }
    let probs: [(ChannelType, f64); 4] = match p.style {
        Style::Stella => [
            (Messenger, 0.9),
            (Instagram, 0.8),
            (WebChat, 0.2),
            (Telegram, 0.1),
        ],
        Style::Glific => [
            (Messenger, 0.3),
            (Instagram, 0.2),
            (WebChat, 0.3),
            (Telegram, 0.3),
        ],
        Style::Turn => [
            (Messenger, 0.4),
            (Instagram, 0.3),
            (WebChat, 0.5),
            (Telegram, 0.1),
        ],
        Style::Botmaker => [
            (Messenger, 0.4),
            (Instagram, 0.5),
            (WebChat, 0.8),
            (Telegram, 0.1),
        ],
    };
    for (ct, prob) in probs {
        let forced = round == 0 && p.force.contains(&ct);
        if forced || rng.chance(prob) {
            add(&mut rng, ct, 1, None, None);
        }
    }

    // Templates: all utility and authentication ones, four or more marketing ones.
    let mut templates = Vec::new();
    for (i, t) in TEMPLATES.iter().enumerate() {
        if t.category != Category::Marketing || rng.chance(0.7) || i == 0 {
            templates.push(i);
        }
    }

    // Flows: welcome, menu and agent hand-over always, then three or four others.
    let mut flows = Vec::new();
    for (i, def) in FLOWS.iter().enumerate() {
        if i < 3 || rng.chance(0.55) {
            let fid = {
                let mut s = String::from("flw_");
                push_hex(
                    &mut s,
                    derive(seed, &[stream::WORLD, idx as u64, 0xF10, i as u64]),
                    12,
                    false,
                );
                s
            };
            let nodes: Vec<String> = (1..=def.nodes)
                .map(|k| format!("{}-n{:02}", def.keyword, k))
                .collect();
            let options = nodes
                .iter()
                .flat_map(|n| (1..=3).map(move |k| format!("{n}-opt{k}")))
                .collect();
            flows.push(Flow {
                id: fid,
                name: def.name,
                keyword: def.keyword,
                nodes,
                options,
                goal: def.goal,
                result_key: def.result_key,
            });
        }
    }

    let n_agents = 3 + rng.below(8) as usize;
    let agents = (1..=n_agents).map(|k| format!("agent-{k:02}")).collect();
    let ads = (0..6)
        .map(|_| format!("120{}", digits(&mut rng, 2, 15)))
        .collect();
    let start_day = if idx == 0 {
        0
    } else {
        rng.below((days as u64 * 3 / 10).max(1)) as u32
    };
    let size = p.size * rng.uniform(0.8, 1.25);
    let flow_timeout = rng.pick(&[1, 2, 4, 6]) * super::clock::HOUR;

    Tenant {
        idx,
        id,
        name,
        tz_name: p.tz,
        tz,
        style: p.style,
        mix,
        channels,
        templates,
        flows,
        agents,
        ads,
        start_day,
        size,
        flow_timeout,
        home_country: home,
    }
}
