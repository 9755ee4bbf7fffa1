//! The reference model of WhatsApp billing conversations (reference sections 5.3, 6 and 11.7):
//! a state machine over one contact's messages in time order.
//!
//! | step | rule |
//! |---|---|
//! | inbound | opens (or re-opens) the customer-service window until `ts + 24 h`; with a click-to-WhatsApp referral, also the free-entry-point offer until `ts + 24 h` |
//! | outbound | only delivered messages count; conversations whose `expires_at <= ts` are closed first |
//! | free entry point | an open `referral_conversion` absorbs every message; else if the offer is live (`ts <= offer`) and nothing is open, the message opens `referral_conversion` for 72 h and uses the offer up |
//! | `cbp_2022` | any open conversation absorbs the message; else it opens `user_initiated` when the window is open (`ts < window`), else `business_initiated` for a template; a free-form message outside the window opens nothing (WhatsApp rejects it) |
//! | `cbp_2023`, `pmp_2025` | a template of category c rides in an open c conversation or opens c for 24 h; a free-form message rides in an open `service` conversation, else in any open one (the one expiring first), else opens `service` when the window is open, else nothing |
//! | windows | fixed from opening (24 h, 72 h for the free entry point), never extended |
//! | ties | events are ordered by `(ts, kind)`: inbound before outbound, so the model does not depend on input order |

use super::ruleset::Rules;

/// Microseconds in one hour.
pub(crate) const HOUR: i64 = 3_600_000_000;

/// What one message is, for the model. The discriminants order ties: inbound first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub(crate) enum Kind {
    /// A message from the user.
    #[default]
    Inbound = 0,
    /// A message from the user who came from a click-to-WhatsApp ad or Page CTA.
    InboundReferral = 1,
    /// A delivered free-form (session) message from the business.
    FreeForm = 2,
    /// A delivered marketing template.
    Marketing = 3,
    /// A delivered utility template.
    Utility = 4,
    /// A delivered authentication template.
    Authentication = 5,
}

impl Kind {
    /// The kind stored as `code` in an aggregate state.
    pub(crate) fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            0 => Self::Inbound,
            1 => Self::InboundReferral,
            2 => Self::FreeForm,
            3 => Self::Marketing,
            4 => Self::Utility,
            5 => Self::Authentication,
            _ => return None,
        })
    }

    fn is_inbound(self) -> bool {
        matches!(self, Self::Inbound | Self::InboundReferral)
    }

    /// The conversation a template of this kind opens under CBP v2.
    fn template_origin(self) -> Option<Origin> {
        match self {
            Self::Marketing => Some(Origin::Marketing),
            Self::Utility => Some(Origin::Utility),
            Self::Authentication => Some(Origin::Authentication),
            _ => None,
        }
    }
}

/// One message: its instant (UTC µs) and kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Event {
    /// UTC microseconds; inbound events use the message time, outbound ones the delivery time the caller passes.
    pub ts: i64,
    /// What the message is.
    pub kind: Kind,
}

/// Conversation origins as the webhooks name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    UserInitiated,
    BusinessInitiated,
    ReferralConversion,
    Marketing,
    Utility,
    Authentication,
    Service,
}

impl Origin {
    /// The webhook name of the origin.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::UserInitiated => "user_initiated",
            Self::BusinessInitiated => "business_initiated",
            Self::ReferralConversion => "referral_conversion",
            Self::Marketing => "marketing",
            Self::Utility => "utility",
            Self::Authentication => "authentication",
            Self::Service => "service",
        }
    }
}

/// One billing conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Conversation {
    /// When it opened (UTC µs).
    pub opened_at: i64,
    /// When it ends (UTC µs), exclusive.
    pub expires_at: i64,
    /// Its origin.
    pub origin: Origin,
}

/// What happened to one outbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Billed {
    /// Index (in the returned list) of the conversation it opened or rode in; `None` when it
    /// could not be sent (free-form outside the window).
    pub conversation: Option<usize>,
    /// Whether the customer-service window was open.
    pub in_window: bool,
    /// The rules in force for it.
    pub rules: Rules,
}

/// Runs the model over `events`, which must be sorted, calling `on_outbound(i, billed)` for
/// each outbound event `i`. Returns the conversations in opening order.
pub(crate) fn simulate(
    resolve: impl Fn(i64) -> Rules,
    events: &[Event],
    mut on_outbound: impl FnMut(usize, Billed),
) -> Vec<Conversation> {
    let mut conversations: Vec<Conversation> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut window_until: Option<i64> = None;
    let mut offer_until: Option<i64> = None;

    for (i, event) in events.iter().enumerate() {
        let ts = event.ts;
        if event.kind.is_inbound() {
            window_until = Some(ts.saturating_add(24 * HOUR));
            if event.kind == Kind::InboundReferral {
                offer_until = Some(ts.saturating_add(24 * HOUR));
            }
            continue;
        }
        open.retain(|&c| conversations[c].expires_at > ts);
        let rules = resolve(ts);
        let in_window = window_until.is_some_and(|until| ts < until);
        let find = |origin: Origin, open: &[usize], convs: &[Conversation]| {
            open.iter().copied().find(|&c| convs[c].origin == origin)
        };
        let start =
            |origin: Origin, hours: i64, open: &mut Vec<usize>, convs: &mut Vec<Conversation>| {
                convs.push(Conversation {
                    opened_at: ts,
                    expires_at: ts.saturating_add(hours * HOUR),
                    origin,
                });
                open.push(convs.len() - 1);
                convs.len() - 1
            };

        let conversation = if let Some(c) = find(Origin::ReferralConversion, &open, &conversations)
        {
            Some(c)
        } else if offer_until.is_some_and(|until| ts <= until) && open.is_empty() {
            offer_until = None;
            Some(start(
                Origin::ReferralConversion,
                72,
                &mut open,
                &mut conversations,
            ))
        } else {
            match (rules, event.kind.template_origin()) {
                (Rules::Cbp2022, template) => match open.first() {
                    Some(&c) => Some(c),
                    None if in_window => Some(start(
                        Origin::UserInitiated,
                        24,
                        &mut open,
                        &mut conversations,
                    )),
                    None if template.is_some() => Some(start(
                        Origin::BusinessInitiated,
                        24,
                        &mut open,
                        &mut conversations,
                    )),
                    None => None,
                },
                (_, Some(origin)) => match find(origin, &open, &conversations) {
                    Some(c) => Some(c),
                    None => Some(start(origin, 24, &mut open, &mut conversations)),
                },
                (_, None) => {
                    let riding = find(Origin::Service, &open, &conversations).or_else(|| {
                        open.iter()
                            .copied()
                            .min_by_key(|&c| (conversations[c].expires_at, c))
                    });
                    match riding {
                        Some(c) => Some(c),
                        None if in_window => {
                            Some(start(Origin::Service, 24, &mut open, &mut conversations))
                        }
                        None => None,
                    }
                }
            }
        };
        on_outbound(
            i,
            Billed {
                conversation,
                in_window,
                rules,
            },
        );
    }
    conversations
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: i64, kind: Kind) -> Event {
        Event {
            ts: hour * HOUR,
            kind,
        }
    }

    fn run(rules: Rules, mut events: Vec<Event>) -> Vec<(&'static str, i64, i64)> {
        events.sort();
        simulate(|_| rules, &events, |_, _| {})
            .into_iter()
            .map(|c| (c.origin.as_str(), c.opened_at / HOUR, c.expires_at / HOUR))
            .collect()
    }

    /// Reference section 6, worked example: IN@0; OUT free-form @1 and @10; OUT marketing
    /// template @12; IN@20; OUT free-form @26 and @40.
    fn worked_example() -> Vec<Event> {
        vec![
            at(0, Kind::Inbound),
            at(1, Kind::FreeForm),
            at(10, Kind::FreeForm),
            at(12, Kind::Marketing),
            at(20, Kind::Inbound),
            at(26, Kind::FreeForm),
            at(40, Kind::FreeForm),
        ]
    }

    #[test]
    fn worked_example_cbp_v2_has_three_conversations() {
        assert_eq!(
            run(Rules::Cbp2023, worked_example()),
            vec![
                ("service", 1, 25),
                ("marketing", 12, 36),
                ("service", 40, 64)
            ]
        );
    }

    #[test]
    fn worked_example_cbp_v1_has_two_conversations() {
        assert_eq!(
            run(Rules::Cbp2022, worked_example()),
            vec![("user_initiated", 1, 25), ("user_initiated", 26, 50)]
        );
    }

    #[test]
    fn free_entry_point_absorbs_then_utility_opens() {
        let events = vec![
            at(0, Kind::InboundReferral),
            at(2, Kind::FreeForm),
            at(30, Kind::Utility),
            at(80, Kind::Utility),
        ];
        assert_eq!(
            run(Rules::Cbp2023, events),
            vec![("referral_conversion", 2, 74), ("utility", 80, 104)]
        );
    }
}
