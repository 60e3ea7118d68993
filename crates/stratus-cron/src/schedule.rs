//! A timer trigger's schedule: `schedule_type` plus `schedule`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::every::{parse_descriptor, parse_rate};
use crate::{Cron, ScheduleError};

/// A parsed timer-trigger schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// A standard cron expression.
    Cron(Cron),
    /// `@every <duration>` (schedule type Cron).
    Every(Duration),
    /// A fixed rate (schedule type Rate).
    Rate(Duration),
}

impl Schedule {
    /// schedule_type is the API's `schedule_type`: "Rate" or "Cron" (case-insensitive). For
    /// "Cron", `schedule` may also be an `@every ...` expression (→ Schedule::Every). For
    /// "Rate": "<n>m" 1–60 minutes, "<n>h" 1–24 hours, "<n>d" 1–30 days.
    pub fn parse(schedule_type: &str, schedule: &str) -> Result<Schedule, ScheduleError> {
        let kind = schedule_type.trim();
        if kind.eq_ignore_ascii_case("rate") {
            parse_rate(schedule).map(Schedule::Rate)
        } else if kind.eq_ignore_ascii_case("cron") {
            let schedule = schedule.trim();
            if schedule.starts_with('@') {
                parse_descriptor(schedule).map(Schedule::Every)
            } else {
                Cron::parse(schedule).map(Schedule::Cron)
            }
        } else {
            Err(ScheduleError::new(
                "schedule_type",
                format!("unknown schedule type `{schedule_type}`; use `Rate` or `Cron`"),
            ))
        }
    }

    /// Next fire strictly after `t`. For Every/Rate: fires are at `anchor + k*period` for k ≥ 1
    /// (anchor = when the trigger was created/enabled), so restarts never shift or double them.
    /// For Cron the anchor is ignored.
    pub fn next_after(&self, anchor: DateTime<Utc>, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron(cron) => cron.next_after(t),
            Schedule::Every(period) | Schedule::Rate(period) => periodic_next(anchor, *period, t),
        }
    }
}

const NANOS_PER_SEC: i128 = 1_000_000_000;

fn nanos(t: DateTime<Utc>) -> i128 {
    i128::from(t.timestamp()) * NANOS_PER_SEC + i128::from(t.timestamp_subsec_nanos())
}

/// The first `anchor + k * period` (k >= 1) strictly after `t`.
fn periodic_next(
    anchor: DateTime<Utc>,
    period: Duration,
    t: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let period = i128::try_from(period.as_nanos()).ok()?;
    if period <= 0 {
        return None;
    }
    let (a, now) = (nanos(anchor), nanos(t));
    let k = if now < a { 1 } else { (now - a) / period + 1 };
    let fire = k.checked_mul(period)?.checked_add(a)?;
    let secs = i64::try_from(fire.div_euclid(NANOS_PER_SEC)).ok()?;
    let sub = u32::try_from(fire.rem_euclid(NANOS_PER_SEC)).ok()?;
    DateTime::from_timestamp(secs, sub)
}
