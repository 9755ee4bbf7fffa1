//! What the platform bills for a delivered WhatsApp message: the conversation it opens or rides
//! in (CBP eras) or its per-message price (PMP), exactly as the status webhooks report them.
//!
//! The rules are those of reference sections 5.3, 6 and 11.7 (the `wa_conversations` model), so
//! conversations derived later from messages agree with the ones reported here:
//!
//! | era | rule |
//! |---|---|
//! | all | an open free-entry-point (`referral_conversion`) conversation absorbs every message; if none is open, nothing else is open and the contact's click-to-WhatsApp referral is less than 24 h old, the message opens one for 72 h (once per referral) |
//! | CBP v1 (< 2023-06-01) | one conversation at a time absorbs everything; otherwise open `user_initiated` if the customer-service window is open, else `business_initiated` |
//! | CBP v2 (< PMP) | a template of category c rides in an open c conversation or opens one; a free-form message rides in any open one (service first), else opens `service` (only possible inside the window) |
//! | PMP (≥ 2025-07-01 local) | conversations as in CBP v2 (Meta still reports them to API versions before v24.0, and always for FEP), priced per message: `pricing_type` = `free_entry_point` inside an FEP window, `free_customer_service` for free-form messages and for utility templates inside the window, `regular` otherwise |
//!
//! Conversations last exactly 24 h from the opening message (72 h for FEP) and are never
//! extended. `billable` is false for FEP, for service conversations from 2024-11-01, and for
//! every non-`regular` PMP message. Authentication templates to a few countries other than the
//! business number's are priced `authentication_international` under PMP.

use super::clock::{DAY, Era, EraCuts};
use super::contacts::{Convs, NONE, OpenConv};
use super::world::Category;

/// Conversation origins, indexed by `OpenConv::origin`.
pub(crate) const ORIGINS: [&str; 7] = [
    "user_initiated",
    "business_initiated",
    "referral_conversion",
    "marketing",
    "utility",
    "authentication",
    "service",
];
const USER: u8 = 0;
const BUSINESS: u8 = 1;
const FEP: u8 = 2;
const SERVICE: u8 = 6;

fn category_origin(c: Category) -> u8 {
    match c {
        Category::Marketing => 3,
        Category::Utility => 4,
        Category::Authentication => 5,
    }
}

/// The billing fields of one delivered message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Billing {
    /// The conversation it belongs to: key, origin, expiry.
    pub conversation: Option<(u64, &'static str, i64)>,
    /// Set when this message opened the conversation: its opening instant.
    pub opened_at: Option<i64>,
    /// `CBP` or `PMP`.
    pub model: &'static str,
    /// `pricing.billable`.
    pub billable: bool,
    /// `pricing.category`.
    pub category: &'static str,
    /// `pricing.type` (PMP only).
    pub ptype: Option<&'static str>,
    /// The message is in a free-entry-point conversation.
    pub free_entry: bool,
}

impl Billing {
    /// The same billing without conversation fields (what webhooks of API v24+ send).
    pub fn without_conversation(self) -> Self {
        Billing {
            conversation: None,
            opened_at: None,
            ..self
        }
    }
}

/// Countries whose authentication messages from abroad are priced as international.
const AUTH_INTL: [&str; 9] = ["IN", "ID", "MY", "NG", "EG", "SA", "AE", "PK", "ZA"];

impl Convs {
    fn expire(&mut self, ts: i64) {
        for slot in self.open.iter_mut() {
            if slot.is_some_and(|c| c.expires_at <= ts) {
                *slot = None;
            }
        }
    }

    fn find(&self, origin: u8) -> Option<OpenConv> {
        self.open
            .iter()
            .flatten()
            .find(|c| c.origin == origin)
            .copied()
    }

    fn any(&self) -> Option<OpenConv> {
        self.open
            .iter()
            .flatten()
            .min_by_key(|c| c.expires_at)
            .copied()
    }

    fn insert(&mut self, c: OpenConv) {
        if let Some(slot) = self.open.iter_mut().find(|s| s.is_none()) {
            *slot = Some(c);
        } else {
            self.open[0] = Some(c);
        }
    }
}

/// Inputs describing one delivered message.
pub(crate) struct Delivered {
    /// Message instant.
    pub ts: i64,
    /// Whether the customer-service window was open.
    pub in_csw: bool,
    /// Template category, `None` for free-form.
    pub template: Option<Category>,
    /// Key to use if a conversation opens now.
    pub new_key: u64,
    /// Contact country differs from the business number's and is in the international list.
    pub contact_country: Option<&'static str>,
    /// ISO code of the business number's country.
    pub business_country: &'static str,
}

/// Classifies a delivered message and updates the contact's open conversations.
pub(crate) fn bill(
    convs: &mut Convs,
    ref_until: &mut i64,
    eras: &EraCuts,
    m: &Delivered,
) -> Billing {
    convs.expire(m.ts);
    let era = eras.era(m.ts);
    let open = |convs: &mut Convs, origin: u8, len: i64| -> (OpenConv, Option<i64>) {
        let c = OpenConv {
            origin,
            key: m.new_key,
            expires_at: m.ts + len,
        };
        convs.insert(c);
        (c, Some(m.ts))
    };

    // Free entry point: rides in an open one, or opens one when answering a fresh referral.
    let fep = match convs.find(FEP) {
        Some(c) => Some((c, None)),
        None if *ref_until != NONE && m.ts <= *ref_until && convs.any().is_none() => {
            *ref_until = NONE;
            Some(open(convs, FEP, 3 * DAY))
        }
        None => None,
    };

    let (conv, opened_at) = match fep {
        Some(x) => x,
        None => match (era, m.template) {
            (Era::Cbp2022, _) => match convs.any() {
                Some(c) => (c, None),
                None => open(convs, if m.in_csw { USER } else { BUSINESS }, DAY),
            },
            (_, Some(cat)) => match convs.find(category_origin(cat)) {
                Some(c) => (c, None),
                None => open(convs, category_origin(cat), DAY),
            },
            (_, None) => match convs.find(SERVICE).or_else(|| convs.any()) {
                Some(c) => (c, None),
                // Free-form outside the window fails before delivery; this keeps the model total.
                None => open(convs, if m.in_csw { SERVICE } else { BUSINESS }, DAY),
            },
        },
    };
    let origin = ORIGINS[conv.origin as usize];
    let conversation = Some((conv.key, origin, conv.expires_at));
    let free_entry = conv.origin == FEP;
    if era == Era::Pmp2025 {
        let (category, ptype) = if free_entry {
            ("referral_conversion", "free_entry_point")
        } else {
            match m.template {
                None => ("service", "free_customer_service"),
                Some(Category::Utility) if m.in_csw => ("utility", "free_customer_service"),
                Some(Category::Authentication)
                    if m.contact_country
                        .is_some_and(|c| c != m.business_country && AUTH_INTL.contains(&c)) =>
                {
                    ("authentication_international", "regular")
                }
                Some(c) => (c.as_str(), "regular"),
            }
        };
        return Billing {
            conversation,
            opened_at,
            model: "PMP",
            billable: ptype == "regular",
            category,
            ptype: Some(ptype),
            free_entry,
        };
    }
    let free_service = conv.origin == SERVICE && era >= Era::Cbp2024FreeService;
    Billing {
        conversation,
        opened_at,
        model: "CBP",
        billable: !free_entry && !free_service,
        category: origin,
        ptype: None,
        free_entry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::clock::{HOUR, utc_midnight};

    fn at(y: i32, m: u32, d: u32) -> i64 {
        utc_midnight(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or(chrono::NaiveDate::MIN))
    }

    /// One business's billing state in UTC, fed message by message (contact and business in GB).
    struct Biller {
        eras: EraCuts,
        convs: Convs,
        /// The end of the free entry point window (as `bill` keeps it).
        referral: i64,
    }

    impl Biller {
        fn new(referral: i64) -> Self {
            Biller {
                eras: EraCuts::for_zone(chrono_tz::UTC),
                convs: Convs::default(),
                referral,
            }
        }

        /// Bills a message delivered at `ts` (`key`: the conversation key it would open).
        fn send(&mut self, ts: i64, in_csw: bool, template: Option<Category>, key: u64) -> Billing {
            let m = Delivered {
                ts,
                in_csw,
                template,
                new_key: key,
                contact_country: Some("GB"),
                business_country: "GB",
            };
            bill(&mut self.convs, &mut self.referral, &self.eras, &m)
        }
    }

    /// The outgoing messages of reference section 6's worked example from `t0` (free-form @1,
    /// @10; marketing template @12; free-form @26, @40; `csw(hour)`: inside the window): each
    /// hour with its billing, and the conversations opened as (origin, start, expiry) in hours.
    #[allow(clippy::type_complexity)]
    fn worked_example(
        t0: i64,
        csw: impl Fn(i64) -> bool,
    ) -> (Vec<(i64, Billing)>, Vec<(&'static str, i64, i64)>) {
        let mut biller = Biller::new(NONE);
        let mut billed = Vec::new();
        let mut opened = Vec::new();
        for (k, (t, tpl)) in [
            (1, None),
            (10, None),
            (12, Some(Category::Marketing)),
            (26, None),
            (40, None),
        ]
        .into_iter()
        .enumerate()
        {
            let b = biller.send(t0 + t * HOUR, csw(t), tpl, k as u64 + 1);
            if let Some(o) = b.opened_at {
                let (_, origin, exp) = b.conversation.unwrap_or((0, "", 0));
                opened.push((origin, (o - t0) / HOUR, (exp - t0) / HOUR));
            }
            billed.push((t, b));
        }
        (billed, opened)
    }

    /// The worked example of reference section 6, CBP v2: IN@0; OUT free-form @1, @10;
    /// marketing template @12; IN@20; OUT free-form @26, @40. Expected (by hand in the
    /// reference): service[1,25), marketing[12,36), service[40,64); @26 rides in marketing.
    #[test]
    fn reference_worked_example_cbp_2023() {
        let (billed, opened) = worked_example(at(2024, 3, 4), |t| {
            (0..24).contains(&t) || (20..44).contains(&t)
        });
        let at_26 = billed.iter().find(|(t, _)| *t == 26);
        assert_eq!(
            at_26.map(|(_, b)| b.conversation.map(|c| c.1)),
            Some(Some("marketing"))
        );
        assert_eq!(
            opened,
            vec![
                ("service", 1, 25),
                ("marketing", 12, 36),
                ("service", 40, 64)
            ]
        );
    }

    /// Same example under CBP v1: user_initiated[1,25) and user_initiated[26,50).
    #[test]
    fn reference_worked_example_cbp_2022() {
        let (_, opened) = worked_example(at(2023, 1, 9), |t| (0..44).contains(&t));
        assert_eq!(
            opened,
            vec![("user_initiated", 1, 25), ("user_initiated", 26, 50)]
        );
    }

    /// FEP case of reference 6: IN@0 with a referral, OUT@2, template @30, template @80:
    /// referral_conversion[2,74) absorbs @30, utility[80,104) opens after.
    #[test]
    fn reference_free_entry_point() {
        let t0 = at(2024, 5, 6);
        let h = |x: i64| t0 + x * HOUR;
        let mut biller = Biller::new(h(24));
        let b = biller.send(h(2), true, None, 1);
        assert_eq!(
            b.conversation.map(|c| (c.1, (c.2 - t0) / HOUR)),
            Some(("referral_conversion", 74))
        );
        assert!(!b.billable);
        let b = biller.send(h(30), false, Some(Category::Utility), 2);
        assert_eq!(b.conversation.map(|c| c.1), Some("referral_conversion"));
        assert!(b.opened_at.is_none());
        let b = biller.send(h(80), false, Some(Category::Utility), 3);
        assert_eq!(
            b.conversation.map(|c| (c.1, (c.2 - t0) / HOUR)),
            Some(("utility", 104))
        );
    }

    #[test]
    fn pmp_prices_per_message() {
        let t = at(2025, 9, 1);
        let mut biller = Biller::new(NONE);
        let b = biller.send(t, true, Some(Category::Utility), 1);
        assert_eq!(
            (b.model, b.category, b.ptype, b.billable),
            ("PMP", "utility", Some("free_customer_service"), false)
        );
        let b = biller.send(t, false, Some(Category::Utility), 2);
        assert_eq!(
            (b.category, b.ptype, b.billable),
            ("utility", Some("regular"), true)
        );
        let b = biller.send(t, true, None, 3);
        assert_eq!(
            (b.category, b.ptype),
            ("service", Some("free_customer_service"))
        );
        // Conversations keep their CBP v2 shape: the free-form message rides in the utility one.
        assert_eq!(b.conversation.map(|c| c.1), Some("utility"));
    }
}
