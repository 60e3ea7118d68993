//! Schedules of FunctionGraph timer triggers: parsing and fire-time computation.
//!
//! Pure code: no I/O, no clock, no async. Callers pass the instants in; all times are UTC
//! (the guide labels timer cron expressions "UTC").
//!
//! A timer trigger has a `schedule_type` and a `schedule` (user guide §7.2 and §7.8):
//!
//! * **Rate** — `<n>m` (1–60 minutes), `<n>h` (1–24 hours) or `<n>d` (1–30 days); `n` is a
//!   whole number and the unit letter is lowercase.
//! * **Cron** — either an `@every <duration>` interval or a standard expression.
//!   * `@every` takes a duration made of one or more `<number><unit>` parts, units `ns`, `us`
//!     (also `µs`/`μs`), `ms`, `s`, `m`, `h`; numbers may have a fraction: `@every 30m`,
//!     `@every 1.5h`, `@every 2h30m`. The total must be positive (and at most ~292 years).
//!   * The standard form is `seconds minutes hours day-of-month month [day-of-week]`, fields
//!     separated by whitespace. Ranges: seconds and minutes 0–59, hours 0–23, day-of-month
//!     1–31, month 1–12 or `Jan`–`Dec`, day-of-week 0–6 or `Sun`–`Sat` with 0 = Sunday. Names
//!     are the three-letter abbreviations, in any case. There is no year field.
//!   * Special characters: `*` (every value), `,` (list), `-` (range, low–high, no wrap-around),
//!     `/` (step: `a/n` starts at `a` and runs to the end of the field, `a-b/n` within the
//!     range, `*/n` from the field's minimum), `?` (no specific value; day-of-month and
//!     day-of-week only, standing alone). `L`, `W` and `#` are not part of the guide's syntax
//!     and are refused.
//!   * Days: a day field counts as unrestricted when it is exactly `*` or `?` (an omitted
//!     day-of-week counts as `*`). The guide's `?` rule ("something in one of the two fields
//!     ..., but not the other") is enforced: the two day fields may not both be restricted and
//!     may not both be `?`. A fire day is therefore decided by whichever field restricts, or
//!     every day when neither does.
//!   * Expressions that can never fire (say day 30 in February only) are refused at parse time.
//!
//! Fire times:
//!
//! * [`Cron::next_after`] gives the first whole second strictly after the given instant that
//!   matches every field, searching about five years ahead.
//! * `@every` and Rate schedules fire at `anchor + k * period` for `k >= 1`, where `anchor` is
//!   the instant the trigger was created or enabled; they are not aligned to the clock, and a
//!   restart that recomputes from the same anchor neither shifts nor repeats a fire.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use stratus_cron::Schedule;
//!
//! let s = Schedule::parse("Cron", "0 30 8 ? * Mon-Fri").expect("valid");
//! let friday_noon = Utc.with_ymd_and_hms(2024, 1, 5, 12, 0, 0).unwrap();
//! let next = s.next_after(friday_noon, friday_noon).expect("fires");
//! assert_eq!(next, Utc.with_ymd_and_hms(2024, 1, 8, 8, 30, 0).unwrap()); // Monday
//!
//! let r = Schedule::parse("Rate", "5m").expect("valid");
//! let created = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
//! let later = Utc.with_ymd_and_hms(2024, 1, 1, 0, 7, 0).unwrap();
//! assert_eq!(r.next_after(created, later), Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 10, 0).unwrap()));
//! ```

mod cron;
mod error;
mod every;
mod schedule;

pub use cron::Cron;
pub use error::ScheduleError;
pub use schedule::Schedule;

#[cfg(test)]
mod tests;
