//! Time: microsecond UTC instants, local days of a tenant, daily and weekly rhythms, and the
//! dates at which WhatsApp's pricing rules changed (reference section 5.1).
//!
//! | quantity | value |
//! |---|---|
//! | instants | `i64` microseconds since the Unix epoch, UTC (the lake's `Timestamp(µs, "UTC")`) |
//! | inbound activity by local hour | low at night (03-05 h ≈ 4 % of the evening peak), rising from 07 h, peak 19-21 h |
//! | campaigns | start 09:00-15:00 local |
//! | day of week | Mon-Thu 1.0-1.05, Fri 0.95, Sat 0.7, Sun 0.6 (campaigns: weekend 0.25) |
//! | CBP v1 → v2 | 2023-06-01 00:00 UTC |
//! | free service conversations | 2024-11-01 00:00 UTC |
//! | CBP → PMP | 2025-07-01 00:00 in the channel's (WABA's) own time zone |

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;

/// One second in microseconds.
pub(crate) const SEC: i64 = 1_000_000;
/// One minute in microseconds.
pub(crate) const MIN: i64 = 60 * SEC;
/// One hour in microseconds.
pub(crate) const HOUR: i64 = 60 * MIN;
/// One day in microseconds.
pub(crate) const DAY: i64 = 24 * HOUR;

/// Relative inbound activity by local hour of day (0-23).
pub(crate) const INBOUND_HOURS: [f64; 24] = [
    1.4, 0.8, 0.45, 0.3, 0.3, 0.5, 1.1, 2.2, 3.4, 4.4, 5.0, 5.4, 5.9, 6.2, 6.3, 6.4, 6.6, 7.0, 7.6,
    8.2, 8.4, 7.7, 5.8, 3.2,
];

/// OTP and transactional notifications follow people's activity but less steeply.
pub(crate) const API_HOURS: [f64; 24] = [
    0.8, 0.5, 0.3, 0.2, 0.2, 0.4, 0.9, 1.8, 3.0, 4.0, 4.4, 4.6, 4.6, 4.5, 4.5, 4.4, 4.3, 4.3, 4.4,
    4.4, 4.0, 3.2, 2.2, 1.3,
];

/// Inbound activity by ISO weekday (index 0 = Monday).
pub(crate) const DOW: [f64; 7] = [1.0, 1.05, 1.05, 1.0, 0.95, 0.7, 0.6];

/// Campaign frequency by ISO weekday (index 0 = Monday).
pub(crate) const CAMPAIGN_DOW: [f64; 7] = [1.0, 1.1, 1.1, 1.05, 0.9, 0.25, 0.25];

/// The UTC instant (µs) of 00:00 UTC on `date`.
pub(crate) fn utc_midnight(date: NaiveDate) -> i64 {
    date.and_time(NaiveTime::MIN).and_utc().timestamp_micros()
}

/// The UTC instant (µs) of a local wall-clock time. A time skipped by a DST change moves
/// forward by an hour; an ambiguous time takes the earlier instant.
pub(crate) fn local_to_utc(tz: Tz, date: NaiveDate, seconds_of_day: u32) -> i64 {
    let base = date.and_time(NaiveTime::MIN);
    let ndt: NaiveDateTime = base + chrono::Duration::seconds(seconds_of_day as i64);
    for shift in 0..3 {
        let probe = ndt + chrono::Duration::hours(shift);
        if let Some(dt) = tz.from_local_datetime(&probe).earliest() {
            return dt.timestamp_micros();
        }
    }
    // Unreachable for real zones; fall back to reading the wall clock as UTC.
    ndt.and_utc().timestamp_micros()
}

/// ISO weekday index of a date, 0 = Monday.
pub(crate) fn weekday_index(date: NaiveDate) -> usize {
    date.weekday().num_days_from_monday() as usize
}

/// A tenant's (or channel's) local day, with the UTC offset of every local hour precomputed,
/// so turning a local time of that day into an instant costs one addition.
#[derive(Debug, Clone)]
pub(crate) struct LocalDay {
    /// The local date.
    pub date: NaiveDate,
    /// UTC instant of local midnight, by hour: `start[h] + (seconds into hour h)` is the instant.
    hour_start: [i64; 24],
}

impl LocalDay {
    /// The local day `date` in zone `tz`.
    pub fn new(tz: Tz, date: NaiveDate) -> Self {
        let mut hour_start = [0i64; 24];
        for (h, slot) in hour_start.iter_mut().enumerate() {
            *slot = local_to_utc(tz, date, h as u32 * 3600);
        }
        LocalDay { date, hour_start }
    }

    /// The UTC instant of local `hour` plus `micros_into_hour`.
    pub fn at(&self, hour: usize, micros_into_hour: i64) -> i64 {
        self.hour_start[hour.min(23)] + micros_into_hour
    }

    /// The UTC instant of local midnight.
    pub fn start(&self) -> i64 {
        self.hour_start[0]
    }
}

/// The offset of `tz` from UTC at `ts`, in seconds (for documentation and tests).
#[allow(dead_code)]
pub(crate) fn offset_seconds(tz: Tz, ts: i64) -> i32 {
    match chrono::DateTime::from_timestamp(ts.div_euclid(SEC), 0) {
        Some(dt) => dt.with_timezone(&tz).offset().fix().local_minus_utc(),
        None => 0,
    }
}

/// The pricing era a WhatsApp message falls in (reference 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Era {
    /// Conversation-based pricing v1 (Feb 2022 - May 2023): user/business-initiated.
    Cbp2022,
    /// CBP v2 (Jun 2023 - Oct 2024): marketing/utility/authentication/service.
    Cbp2023,
    /// CBP v2 with free service conversations (Nov 2024 - Jun 2025).
    Cbp2024FreeService,
    /// Per-message pricing (from Jul 2025).
    Pmp2025,
}

/// The instants at which the rules change; PMP starts at local midnight of the WABA.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EraCuts {
    /// 2023-06-01 00:00 UTC.
    pub cbp2023: i64,
    /// 2024-11-01 00:00 UTC.
    pub free_service: i64,
    /// 2025-07-01 00:00 local time of the channel.
    pub pmp: i64,
}

impl EraCuts {
    /// The cut-over instants for a channel whose WABA is in `tz`.
    pub fn for_zone(tz: Tz) -> Self {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN);
        EraCuts {
            cbp2023: utc_midnight(d(2023, 6, 1)),
            free_service: utc_midnight(d(2024, 11, 1)),
            pmp: local_to_utc(tz, d(2025, 7, 1), 0),
        }
    }

    /// The era of an instant.
    pub fn era(&self, ts: i64) -> Era {
        if ts >= self.pmp {
            Era::Pmp2025
        } else if ts >= self.free_service {
            Era::Cbp2024FreeService
        } else if ts >= self.cbp2023 {
            Era::Cbp2023
        } else {
            Era::Cbp2022
        }
    }
}

/// Cumulative table for drawing an hour from a weight row.
pub(crate) fn cumulative(weights: &[f64; 24]) -> [f64; 24] {
    let mut out = [0.0; 24];
    let mut acc = 0.0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        out[i] = acc;
    }
    out
}

/// Draws an hour from a cumulative table given a uniform `u` in `[0, 1)`.
pub(crate) fn hour_from(cum: &[f64; 24], u: f64) -> usize {
    let x = u * cum[23];
    cum.iter().position(|c| x < *c).unwrap_or(23)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kathmandu_and_adelaide_offsets_are_not_whole_hours() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap_or(NaiveDate::MIN);
        // 09:00 in Kathmandu (+05:45) is 03:15 UTC.
        let kt = local_to_utc(chrono_tz::Asia::Kathmandu, d, 9 * 3600);
        assert_eq!(kt - utc_midnight(d), (3 * 60 + 15) * MIN);
        // 09:00 in Adelaide in January (+10:30, daylight time) is 22:30 UTC the day before.
        let ad = local_to_utc(chrono_tz::Australia::Adelaide, d, 9 * 3600);
        assert_eq!(utc_midnight(d) - ad, 90 * MIN);
    }

    #[test]
    fn pmp_starts_at_local_midnight() {
        let cuts = EraCuts::for_zone(chrono_tz::Asia::Kolkata);
        let d = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap_or(NaiveDate::MIN);
        // Midnight in India (+05:30) is 18:30 UTC on 30 June.
        assert_eq!(utc_midnight(d) - cuts.pmp, 5 * HOUR + 30 * MIN);
        assert_eq!(cuts.era(cuts.pmp - 1), Era::Cbp2024FreeService);
        assert_eq!(cuts.era(cuts.pmp), Era::Pmp2025);
    }
}
