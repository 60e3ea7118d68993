//! Crate-level tests: every example of the user guide §7.2 and §7.8 (tables 7-6 .. 7-11),
//! edge cases of the calendar and of validation, and a property check against independent
//! predicates.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Timelike, Utc, Weekday};

use super::*;

/// `"2024-01-01 02:15:00"` as UTC.
fn t(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("bad test time {s}: {e}"))
        .and_utc()
}

fn cron(expr: &str) -> Cron {
    Cron::parse(expr).unwrap_or_else(|e| panic!("`{expr}` should parse: {e}"))
}

/// The next `expected.len()` fires of `expr` after `start` are `expected`.
fn assert_fires(expr: &str, start: &str, expected: &[&str]) {
    let c = cron(expr);
    let mut at = t(start);
    for (i, want) in expected.iter().enumerate() {
        let got = c
            .next_after(at)
            .unwrap_or_else(|| panic!("`{expr}`: no fire #{i} after {at}"));
        assert_eq!(got, t(want), "`{expr}`: fire #{i} after {at}");
        at = got;
    }
}

fn assert_cron_err(expr: &str, field: &str, needle: &str) {
    match Cron::parse(expr) {
        Ok(c) => panic!("`{expr}` should be refused, parsed as {c:?}"),
        Err(e) => {
            assert_eq!(e.field, field, "`{expr}`: {e}");
            assert!(
                e.message.contains(needle),
                "`{expr}`: message `{}` should mention `{needle}`",
                e.message
            );
            assert_eq!(e.to_string(), format!("{}: {}", e.field, e.message));
        }
    }
}

fn assert_schedule_err(kind: &str, schedule: &str, field: &str, needle: &str) {
    match Schedule::parse(kind, schedule) {
        Ok(s) => panic!("{kind} `{schedule}` should be refused, parsed as {s:?}"),
        Err(e) => {
            assert_eq!(e.field, field, "{kind} `{schedule}`: {e}");
            assert!(
                e.message.contains(needle),
                "{kind} `{schedule}`: message `{}` should mention `{needle}`",
                e.message
            );
        }
    }
}

fn every(expr: &str) -> Duration {
    match Schedule::parse("Cron", expr) {
        Ok(Schedule::Every(d)) => d,
        other => panic!("`{expr}` should be an @every schedule, got {other:?}"),
    }
}

fn rate(expr: &str) -> Duration {
    match Schedule::parse("Rate", expr) {
        Ok(Schedule::Rate(d)) => d,
        other => panic!("`{expr}` should be a Rate schedule, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Table 7-11 (and the §7.2 example "08:30:00 from Monday to Friday"). 2024-01-01 is a Monday.

#[test]
fn table_7_11_daily_at_02_15() {
    // "Executes a function at 02:15:00 every day."
    assert_fires(
        "0 15 2 * * ?",
        "2024-01-01 00:00:00",
        &[
            "2024-01-01 02:15:00",
            "2024-01-02 02:15:00",
            "2024-01-03 02:15:00",
        ],
    );
    assert_fires(
        "0 15 2 * * ?",
        "2024-01-01 02:15:00",
        &["2024-01-02 02:15:00", "2024-01-03 02:15:00"],
    );
}

#[test]
fn table_7_11_weekdays_at_08_30() {
    // "Executes a function at 08:30:00 every Monday through Friday." (also the §7.2 example)
    assert_fires(
        "0 30 8 ? * Mon-Fri",
        "2024-01-04 09:00:00", // Thursday, after the fire
        &[
            "2024-01-05 08:30:00", // Fri
            "2024-01-08 08:30:00", // Mon
            "2024-01-09 08:30:00",
            "2024-01-10 08:30:00",
            "2024-01-11 08:30:00",
            "2024-01-12 08:30:00",
            "2024-01-15 08:30:00",
        ],
    );
}

#[test]
fn table_7_11_first_three_days_at_07_45() {
    // "Executes a function at 07:45:00 on the first three days of every month."
    assert_fires(
        "0 45 7 1-3 * ?",
        "2024-01-02 08:00:00",
        &[
            "2024-01-03 07:45:00",
            "2024-02-01 07:45:00",
            "2024-02-02 07:45:00",
            "2024-02-03 07:45:00",
            "2024-03-01 07:45:00",
        ],
    );
}

#[test]
fn table_7_11_every_3_minutes_mon_wed_fri_sun() {
    // "Executes a function every 3 minutes on every Monday, Wednesday, Friday, and Sunday."
    assert_fires(
        "0 0/3 * ? * Mon,Wed,Fri,Sun",
        "2024-01-01 23:54:00", // Monday
        &[
            "2024-01-01 23:57:00",
            "2024-01-03 00:00:00", // Tuesday skipped
            "2024-01-03 00:03:00",
        ],
    );
    assert_fires(
        "0 0/3 * ? * Mon,Wed,Fri,Sun",
        "2024-01-05 23:57:00",                           // Friday's last fire
        &["2024-01-07 00:00:00", "2024-01-07 00:03:00"], // Saturday skipped, Sunday
    );
}

#[test]
fn table_7_11_every_3_minutes_office_hours() {
    // "Executes a function every 3 minutes during 09:00–18:00 every Monday through Friday."
    // The hours field 9-18 includes hour 18, so the last fire of a day is 18:57.
    assert_fires(
        "0 0/3 9-18 ? * Mon-Fri",
        "2024-01-05 08:59:59", // Friday
        &[
            "2024-01-05 09:00:00",
            "2024-01-05 09:03:00",
            "2024-01-05 09:06:00",
        ],
    );
    assert_fires(
        "0 0/3 9-18 ? * Mon-Fri",
        "2024-01-05 18:54:00",
        &[
            "2024-01-05 18:57:00",
            "2024-01-08 09:00:00",
            "2024-01-08 09:03:00",
        ],
    );
}

#[test]
fn table_7_11_every_30_minutes() {
    // "Executes a function every 30 minutes."
    assert_fires(
        "0 0/30 * * * ?",
        "2024-01-01 00:00:00",
        &[
            "2024-01-01 00:30:00",
            "2024-01-01 01:00:00",
            "2024-01-01 01:30:00",
            "2024-01-01 02:00:00",
        ],
    );
    assert_fires(
        "0 0/30 * * * ?",
        "2024-01-31 23:45:10",
        &["2024-02-01 00:00:00", "2024-02-01 00:30:00"],
    );
}

// ---------------------------------------------------------------------------------------------
// Table 7-6: @every.

#[test]
fn table_7_6_every_30m() {
    let d = every("@every 30m");
    assert_eq!(d, Duration::from_secs(30 * 60));
    let s = Schedule::Every(d);
    let anchor = t("2024-01-01 10:07:13");
    assert_eq!(s.next_after(anchor, anchor), Some(t("2024-01-01 10:37:13")));
    assert_eq!(
        s.next_after(anchor, t("2024-01-01 10:37:12")),
        Some(t("2024-01-01 10:37:13"))
    );
    assert_eq!(
        s.next_after(anchor, t("2024-01-01 10:37:13")),
        Some(t("2024-01-01 11:07:13"))
    );
    assert_eq!(
        s.next_after(anchor, t("2024-01-02 00:00:00")),
        Some(t("2024-01-02 00:07:13"))
    );
}

#[test]
fn table_7_6_every_1_5h() {
    let d = every("@every 1.5h");
    assert_eq!(d, Duration::from_secs(90 * 60));
    let s = Schedule::Every(d);
    let anchor = t("2024-01-01 00:00:00");
    let mut at = anchor;
    let mut got = Vec::new();
    for _ in 0..3 {
        at = s.next_after(anchor, at).unwrap();
        got.push(at);
    }
    assert_eq!(
        got,
        [
            t("2024-01-01 01:30:00"),
            t("2024-01-01 03:00:00"),
            t("2024-01-01 04:30:00")
        ]
    );
}

#[test]
fn table_7_6_every_2h30m() {
    // "Triggers a function every 2.5 hours."
    let d = every("@every 2h30m");
    assert_eq!(d, Duration::from_secs(150 * 60));
    assert_eq!(d, every("@every 2.5h"));
    let s = Schedule::Every(d);
    let anchor = t("2024-01-01 00:00:00");
    assert_eq!(
        s.next_after(anchor, t("2024-01-01 04:59:59")),
        Some(t("2024-01-01 05:00:00"))
    );
    assert_eq!(
        s.next_after(anchor, t("2024-01-01 05:00:00")),
        Some(t("2024-01-01 07:30:00"))
    );
}

#[test]
fn every_units_and_forms() {
    assert_eq!(every("@every 100ns"), Duration::from_nanos(100));
    assert_eq!(every("@every 10us"), Duration::from_micros(10));
    assert_eq!(every("@every 10\u{b5}s"), Duration::from_micros(10)); // micro sign
    assert_eq!(every("@every 10\u{3bc}s"), Duration::from_micros(10)); // Greek mu, as in the guide
    assert_eq!(every("@every 250ms"), Duration::from_millis(250));
    assert_eq!(every("@every 45s"), Duration::from_secs(45));
    assert_eq!(every("@every 1h15m30s"), Duration::from_secs(4530));
    assert_eq!(every("@every 0.5s"), Duration::from_millis(500));
    assert_eq!(every("@every 1.25m"), Duration::from_secs(75));
    assert_eq!(every("@every 0h1m"), Duration::from_secs(60));
    assert_eq!(every("@every 48h"), Duration::from_secs(48 * 3600));
    assert_eq!(every("  @every   30m  "), Duration::from_secs(1800));
    // The schedule type is case-insensitive.
    assert_eq!(
        Schedule::parse("CRON", "@every 5m"),
        Ok(Schedule::Every(Duration::from_secs(300)))
    );
    assert_eq!(
        Schedule::parse("cron", "@every 5m"),
        Ok(Schedule::Every(Duration::from_secs(300)))
    );
}

#[test]
fn every_errors() {
    assert_schedule_err("Cron", "@every", "@every", "missing duration");
    assert_schedule_err("Cron", "@every   ", "@every", "missing duration");
    assert_schedule_err("Cron", "@every 0s", "@every", "greater than zero");
    assert_schedule_err("Cron", "@every 0h0m", "@every", "greater than zero");
    assert_schedule_err("Cron", "@every 0.1ns", "@every", "greater than zero");
    assert_schedule_err("Cron", "@every -5m", "@every", "negative");
    assert_schedule_err("Cron", "@every 5", "@every", "missing unit");
    assert_schedule_err("Cron", "@every 2h30", "@every", "missing unit");
    assert_schedule_err("Cron", "@every m", "@every", "expected a number");
    assert_schedule_err("Cron", "@every abc", "@every", "expected a number");
    assert_schedule_err("Cron", "@every +5m", "@every", "expected a number");
    assert_schedule_err("Cron", "@every 5d", "@every", "unknown unit `d`");
    assert_schedule_err("Cron", "@every 5 m", "@every", "remove the spaces");
    assert_schedule_err("Cron", "@every 2h 30m", "@every", "remove the spaces");
    assert_schedule_err(
        "Cron",
        "@every 1.5.5h",
        "@every",
        "missing unit after `1.5`",
    );
    assert_schedule_err("Cron", "@every 30m,1h", "@every", "unknown unit");
    assert_schedule_err("Cron", "@every 3000000h", "@every", "too long");
    assert_schedule_err(
        "Cron",
        "@every 99999999999999999999999999999999999999999h",
        "@every",
        "too long",
    );
    assert_schedule_err("Cron", "@every30m", "@every", "put a space");
    assert_schedule_err("Cron", "@daily", "cron", "unknown form `@daily`");
    assert_schedule_err("Cron", "@EVERY 5m", "cron", "unknown form");
    // @every is a Cron-type schedule, not a Rate and not a field expression.
    assert_schedule_err("Rate", "@every 5m", "rate", "");
    assert_cron_err("@every 5m", "cron", "Schedule::parse");
}

// ---------------------------------------------------------------------------------------------
// Rate (§7.2: 1-60 minutes, 1-24 hours, 1-30 days).

#[test]
fn rate_ranges() {
    assert_eq!(rate("1m"), Duration::from_secs(60));
    assert_eq!(rate("60m"), Duration::from_secs(3600));
    assert_eq!(rate("1h"), Duration::from_secs(3600));
    assert_eq!(rate("24h"), Duration::from_secs(86_400));
    assert_eq!(rate("1d"), Duration::from_secs(86_400));
    assert_eq!(rate("30d"), Duration::from_secs(30 * 86_400));
    assert_eq!(rate(" 5m "), Duration::from_secs(300));
    assert_eq!(
        Schedule::parse("rate", "2h"),
        Ok(Schedule::Rate(Duration::from_secs(7200)))
    );
    assert_eq!(
        Schedule::parse("RATE", "2h"),
        Ok(Schedule::Rate(Duration::from_secs(7200)))
    );
}

#[test]
fn rate_errors() {
    assert_schedule_err("Rate", "0m", "rate", "minutes must be from 1 to 60");
    assert_schedule_err("Rate", "61m", "rate", "minutes must be from 1 to 60");
    assert_schedule_err("Rate", "0h", "rate", "hours must be from 1 to 24");
    assert_schedule_err("Rate", "25h", "rate", "hours must be from 1 to 24");
    assert_schedule_err("Rate", "0d", "rate", "days must be from 1 to 30");
    assert_schedule_err("Rate", "31d", "rate", "days must be from 1 to 30");
    assert_schedule_err("Rate", "99999999999999999999999m", "rate", "out of range");
    assert_schedule_err("Rate", "", "rate", "empty");
    assert_schedule_err("Rate", "   ", "rate", "empty");
    assert_schedule_err("Rate", "5", "rate", "missing unit");
    assert_schedule_err("Rate", "m", "rate", "missing number");
    assert_schedule_err("Rate", "5s", "rate", "unknown unit");
    assert_schedule_err("Rate", "5w", "rate", "unknown unit");
    assert_schedule_err("Rate", "5M", "rate", "lowercase: `5m`");
    assert_schedule_err("Rate", "-5m", "rate", "not a whole number");
    assert_schedule_err("Rate", "1.5h", "rate", "not a whole number");
    assert_schedule_err("Rate", "5 m", "rate", "not a whole number");
    assert_schedule_err("Rate", "1h30m", "rate", "not a whole number");
}

#[test]
fn rate_fires_from_anchor() {
    let s = Schedule::parse("Rate", "5m").unwrap();
    let anchor = t("2024-03-10 12:01:30");
    assert_eq!(s.next_after(anchor, anchor), Some(t("2024-03-10 12:06:30")));
    // Before the anchor: the first fire is one period after it.
    assert_eq!(
        s.next_after(anchor, t("2020-01-01 00:00:00")),
        Some(t("2024-03-10 12:06:30"))
    );
    // A restart at any instant lands on the same grid and never repeats the last fire.
    let mut fires = Vec::new();
    let mut at = anchor;
    for _ in 0..4 {
        at = s.next_after(anchor, at).unwrap();
        fires.push(at);
    }
    assert_eq!(
        fires,
        [
            t("2024-03-10 12:06:30"),
            t("2024-03-10 12:11:30"),
            t("2024-03-10 12:16:30"),
            t("2024-03-10 12:21:30")
        ]
    );
    let restart = t("2024-03-10 12:11:30") + chrono::TimeDelta::milliseconds(1);
    assert_eq!(
        s.next_after(anchor, restart),
        Some(t("2024-03-10 12:16:30"))
    );
    // Sub-second anchors are kept exactly.
    let anchor = Utc.timestamp_opt(1_700_000_000, 250_000_000).unwrap();
    let next = s.next_after(anchor, anchor).unwrap();
    assert_eq!(next.timestamp(), 1_700_000_300);
    assert_eq!(next.timestamp_subsec_nanos(), 250_000_000);
    // Days: 30d from the anchor.
    let s = Schedule::parse("Rate", "30d").unwrap();
    let anchor = t("2024-01-31 00:00:00");
    assert_eq!(
        s.next_after(anchor, t("2024-03-15 00:00:00")),
        Some(t("2024-03-31 00:00:00"))
    );
}

#[test]
fn schedule_type_errors_and_dispatch() {
    assert_schedule_err("Timer", "5m", "schedule_type", "use `Rate` or `Cron`");
    assert_schedule_err("", "5m", "schedule_type", "use `Rate` or `Cron`");
    assert_schedule_err("Cron", "5m", "cron", "found 1");
    assert_schedule_err("Cron", "", "cron", "empty");
    assert_schedule_err("Rate", "0 15 2 * * ?", "rate", "");
    let s = Schedule::parse("Cron", "0 15 2 * * ?").unwrap();
    assert_eq!(s, Schedule::Cron(cron("0 15 2 * * ?")));
    // The anchor plays no part for cron schedules.
    assert_eq!(
        s.next_after(t("1999-01-01 00:00:00"), t("2024-01-01 03:00:00")),
        Some(t("2024-01-02 02:15:00"))
    );
}

// ---------------------------------------------------------------------------------------------
// Calendar edge cases.

#[test]
fn day_31_skips_short_months() {
    assert_fires(
        "0 0 0 31 * ?",
        "2024-01-01 00:00:00",
        &[
            "2024-01-31 00:00:00",
            "2024-03-31 00:00:00",
            "2024-05-31 00:00:00",
            "2024-07-31 00:00:00",
            "2024-08-31 00:00:00",
            "2024-10-31 00:00:00",
            "2024-12-31 00:00:00",
            "2025-01-31 00:00:00",
        ],
    );
    assert_fires(
        "0 0 0 30 * ?",
        "2023-01-30 00:00:00",
        &["2023-03-30 00:00:00", "2023-04-30 00:00:00"],
    );
    // 31 in a list: months that lack it still fire on the other days.
    assert_fires(
        "0 0 0 30,31 Apr-May ?",
        "2024-01-01 00:00:00",
        &[
            "2024-04-30 00:00:00",
            "2024-05-30 00:00:00",
            "2024-05-31 00:00:00",
            "2025-04-30 00:00:00",
        ],
    );
}

#[test]
fn feb_29_only_in_leap_years() {
    assert_fires(
        "0 0 12 29 Feb ?",
        "2023-01-01 00:00:00",
        &[
            "2024-02-29 12:00:00",
            "2028-02-29 12:00:00",
            "2032-02-29 12:00:00",
        ],
    );
    // 2100 is not a leap year: from 2096 the next 29 February (2104) is beyond the ~5-year
    // horizon.
    assert_eq!(
        cron("0 0 0 29 2 ?").next_after(t("2096-03-01 00:00:00")),
        None
    );
    assert_fires(
        "0 0 0 29 2 ?",
        "2399-01-01 00:00:00",
        &["2400-02-29 00:00:00"], // 2400 is.
    );
    // Every day of February: 28 or 29 days.
    assert_fires(
        "0 0 0 28-31 2 ?",
        "2023-02-27 00:00:00",
        &[
            "2023-02-28 00:00:00",
            "2024-02-28 00:00:00",
            "2024-02-29 00:00:00",
            "2025-02-28 00:00:00",
        ],
    );
}

#[test]
fn impossible_dates_are_refused() {
    assert_cron_err("0 0 0 30 Feb ?", "day-of-month", "Feb (at most 29 days)");
    assert_cron_err("0 0 0 30,31 2 ?", "day-of-month", "never fire");
    assert_cron_err(
        "0 0 0 31 Apr,Jun,Sep,Nov ?",
        "day-of-month",
        "Apr, Jun, Sep, Nov",
    );
    assert_cron_err(
        "0 0 0 31 4-6/2 ?",
        "day-of-month",
        "Apr, Jun (at most 30 days)",
    );
    // One selected month that has the day is enough (2/2 includes Aug, Oct, Dec).
    assert_fires(
        "0 0 0 31 2/2 ?",
        "2024-01-01 00:00:00",
        &[
            "2024-08-31 00:00:00",
            "2024-10-31 00:00:00",
            "2024-12-31 00:00:00",
        ],
    );
}

#[test]
fn year_rollover() {
    assert_fires(
        "0 0 0 1 Jan ?",
        "2024-06-01 00:00:00",
        &["2025-01-01 00:00:00", "2026-01-01 00:00:00"],
    );
    assert_fires(
        "59 59 23 31 Dec ?",
        "2024-12-31 23:59:59",
        &["2025-12-31 23:59:59"],
    );
    assert_fires(
        "* * * * * ?",
        "2024-12-31 23:59:58",
        &[
            "2024-12-31 23:59:59",
            "2025-01-01 00:00:00",
            "2025-01-01 00:00:01",
        ],
    );
    assert_fires(
        "0 0 0 ? * Mon",
        "2024-12-31 00:00:00", // Tuesday
        &["2025-01-06 00:00:00", "2025-01-13 00:00:00"],
    );
}

#[test]
fn strictly_after_with_sub_second_input() {
    let c = cron("* * * * * ?");
    let at = t("2024-01-01 00:00:00") + chrono::TimeDelta::milliseconds(500);
    assert_eq!(c.next_after(at), Some(t("2024-01-01 00:00:01")));
    assert_eq!(
        c.next_after(t("2024-01-01 00:00:00")),
        Some(t("2024-01-01 00:00:01"))
    );
    let c = cron("30 * * * * ?");
    let at = t("2024-01-01 00:00:30") + chrono::TimeDelta::nanoseconds(1);
    assert_eq!(c.next_after(at), Some(t("2024-01-01 00:01:30")));
    // Results are whole seconds.
    assert_eq!(c.next_after(at).unwrap().timestamp_subsec_nanos(), 0);
}

#[test]
fn before_the_epoch() {
    assert_fires(
        "0 0 0 1 1 ?",
        "1969-06-15 12:00:00",
        &["1970-01-01 00:00:00", "1971-01-01 00:00:00"],
    );
}

// ---------------------------------------------------------------------------------------------
// Names, lists, ranges, steps.

#[test]
fn names_in_any_case() {
    assert_eq!(cron("0 0 0 1 JAN,jul ?"), cron("0 0 0 1 1,7 ?"));
    assert_eq!(cron("0 0 0 1 jan-MAR ?"), cron("0 0 0 1 1-3 ?"));
    assert_eq!(
        cron("0 0 0 1 Jan,Apr,Jul,Oct ?"),
        cron("0 0 0 1 1,4,7,10 ?")
    ); // table 7-10
    assert_eq!(cron("0 0 9 ? * mon"), cron("0 0 9 ? * 1"));
    assert_eq!(cron("0 0 9 ? * Fri"), cron("0 0 9 ? * FRI"));
    assert_eq!(cron("0 0 9 ? * fRi"), cron("0 0 9 ? * 5"));
    assert_eq!(cron("0 0 9 ? * Sat,Sun"), cron("0 0 9 ? * 6,0")); // table 7-10
    assert_eq!(cron("0 0 9 ? * MON-fri"), cron("0 0 9 ? * 1-5"));
    assert_eq!(cron("0 0 9 ? * sun"), cron("0 0 9 ? * 0"));
    assert_eq!(cron("0 0 9 ? * Mon-Fri/2"), cron("0 0 9 ? * 1,3,5"));
    assert_eq!(cron("0 0 0 1 Feb/3 ?"), cron("0 0 0 1 2,5,8,11 ?"));
    let names = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    for (i, n) in names.iter().enumerate() {
        assert_eq!(
            cron(&format!("0 0 0 1 {} ?", n.to_uppercase())),
            cron(&format!("0 0 0 1 {} ?", i + 1))
        );
    }
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    for (i, n) in days.iter().enumerate() {
        assert_eq!(
            cron(&format!("0 0 0 ? * {}", n.to_lowercase())),
            cron(&format!("0 0 0 ? * {i}"))
        );
    }
    assert_fires(
        "0 0 9 ? * sun",
        "2024-01-01 00:00:00",
        &["2024-01-07 09:00:00", "2024-01-14 09:00:00"],
    );
}

#[test]
fn unknown_names_are_refused() {
    assert_cron_err("0 0 0 1 January ?", "month", "unknown month name `January`");
    assert_cron_err("0 0 0 1 Foo ?", "month", "Jan-Dec");
    assert_cron_err(
        "0 0 0 ? * Monday",
        "day-of-week",
        "unknown weekday name `Monday`",
    );
    assert_cron_err("0 0 0 ? * Jan", "day-of-week", "Sun-Sat");
    assert_cron_err("0 0 0 ? Mon *", "month", "unknown month name `Mon`");
    assert_cron_err("0 0 0 Mon * ?", "day-of-month", "`Mon` is not a number");
    assert_cron_err("0 0 abc * * ?", "hours", "`abc` is not a number");
    assert_cron_err("0 0 0 1 1a ?", "month", "invalid value `1a`");
}

#[test]
fn steps() {
    // 0/15: from 0 to the end of the field.
    assert_fires(
        "0/15 * * * * ?",
        "2024-01-01 00:00:00",
        &[
            "2024-01-01 00:00:15",
            "2024-01-01 00:00:30",
            "2024-01-01 00:00:45",
            "2024-01-01 00:01:00",
        ],
    );
    // 5-20/5: within the range.
    assert_fires(
        "5-20/5 * * * * ?",
        "2024-01-01 00:00:00",
        &[
            "2024-01-01 00:00:05",
            "2024-01-01 00:00:10",
            "2024-01-01 00:00:15",
            "2024-01-01 00:00:20",
            "2024-01-01 00:01:05",
        ],
    );
    // Table 7-10: "1/3" in the minutes field starts at minute 1.
    assert_fires(
        "0 1/3 * * * ?",
        "2024-01-01 00:00:00",
        &[
            "2024-01-01 00:01:00",
            "2024-01-01 00:04:00",
            "2024-01-01 00:07:00",
        ],
    );
    assert_fires(
        "0 1/3 * * * ?",
        "2024-01-01 00:57:00",
        &["2024-01-01 00:58:00", "2024-01-01 01:01:00"],
    );
    assert_eq!(cron("*/20 * * * * ?"), cron("0,20,40 * * * * ?"));
    assert_eq!(cron("0 */20 * * * ?"), cron("0 0/20 * * * ?"));
    assert_eq!(cron("0 0 */6 * * ?"), cron("0 0 0,6,12,18 * * ?"));
    assert_eq!(cron("0 0 0 */10 * ?"), cron("0 0 0 1,11,21,31 * ?"));
    assert_eq!(cron("0 0 0 1 */4 ?"), cron("0 0 0 1 1,5,9 ?"));
    assert_eq!(cron("0 0 0 ? * */2"), cron("0 0 0 ? * 0,2,4,6"));
    assert_eq!(cron("0 0 0 ? * 1/2"), cron("0 0 0 ? * 1,3,5"));
    assert_eq!(cron("0 0 7-22/5 * * ?"), cron("0 0 7,12,17,22 * * ?"));
    assert_eq!(cron("0/60 * * * * ?"), cron("0 * * * * ?")); // the largest step
    assert_eq!(cron("0 0 0 1 1/12 ?"), cron("0 0 0 1 1 ?"));
}

#[test]
fn step_errors() {
    assert_cron_err("0/0 * * * * ?", "seconds", "step 0");
    assert_cron_err("0 5-20/0 * * * ?", "minutes", "step 0");
    assert_cron_err("0 0 */0 * * ?", "hours", "step 0");
    assert_cron_err("0/61 * * * * ?", "seconds", "from 1 to 60");
    assert_cron_err("0 0 0/25 * * ?", "hours", "from 1 to 24");
    assert_cron_err("0 0 0 ? * 0/8", "day-of-week", "from 1 to 7");
    assert_cron_err("0 0 0 1 1/13 ?", "month", "from 1 to 12");
    assert_cron_err("0/99999999999 * * * * ?", "seconds", "too large");
    assert_cron_err("0/ * * * * ?", "seconds", "missing step");
    assert_cron_err("/5 * * * * ?", "seconds", "missing start");
    assert_cron_err("0/a * * * * ?", "seconds", "whole number");
    assert_cron_err("0/5/2 * * * * ?", "seconds", "whole number");
    assert_cron_err("0//2 * * * * ?", "seconds", "whole number");
}

#[test]
fn lists_and_ranges() {
    assert_fires(
        "0 0 8,12,18 * * ?",
        "2024-01-01 00:00:00",
        &[
            "2024-01-01 08:00:00",
            "2024-01-01 12:00:00",
            "2024-01-01 18:00:00",
            "2024-01-02 08:00:00",
        ],
    );
    assert_fires(
        "0 0,30 9-10,14 ? * Sat,Sun",
        "2024-01-05 00:00:00", // Friday
        &[
            "2024-01-06 09:00:00",
            "2024-01-06 09:30:00",
            "2024-01-06 10:00:00",
            "2024-01-06 10:30:00",
            "2024-01-06 14:00:00",
            "2024-01-06 14:30:00",
            "2024-01-07 09:00:00",
        ],
    );
    // Table 7-10: "0-3" in the minutes field.
    assert_fires(
        "0 0-3 0 * * ?",
        "2024-01-01 00:00:00",
        &[
            "2024-01-01 00:01:00",
            "2024-01-01 00:02:00",
            "2024-01-01 00:03:00",
            "2024-01-02 00:00:00",
        ],
    );
    assert_eq!(cron("1,1,1 * * * * ?"), cron("1 * * * * ?"));
    assert_eq!(cron("5-5 * * * * ?"), cron("5 * * * * ?"));
    assert_eq!(cron("00 05 08 * * ?"), cron("0 5 8 * * ?"));
    assert_eq!(cron("0 0 0 1,15 * ?"), cron("0 0 0 1,15 * *"));
    assert_eq!(cron("0-59 * * * * ?"), cron("* * * * * ?"));
}

#[test]
fn list_and_range_errors() {
    assert_cron_err("1,,2 * * * * ?", "seconds", "empty list item");
    assert_cron_err(",1 * * * * ?", "seconds", "empty list item");
    assert_cron_err("1, * * * * ?", "seconds", "empty list item");
    assert_cron_err("20-5 * * * * ?", "seconds", "runs backwards");
    assert_cron_err("0 0 0 ? * Fri-Mon", "day-of-week", "do not wrap around");
    assert_cron_err("5- * * * * ?", "seconds", "missing range end");
    assert_cron_err("-5 * * * * ?", "seconds", "missing range start");
    assert_cron_err("1-2-3 * * * * ?", "seconds", "exactly one `-`");
    assert_cron_err("*,5 * * * * ?", "seconds", "`*` alone");
    assert_cron_err("5* * * * * ?", "seconds", "cannot be combined");
    assert_cron_err("*-5 * * * * ?", "seconds", "cannot be combined");
    assert_cron_err("1.5 * * * * ?", "seconds", "unexpected character `.`");
    assert_cron_err("0 0 0 1 1 ?x", "day-of-week", "stand alone");
}

#[test]
fn out_of_range_values() {
    assert_cron_err("60 * * * * ?", "seconds", "60 is out of range");
    assert_cron_err("0 60 * * * ?", "minutes", "minutes takes 0-59");
    assert_cron_err("0 0 24 * * ?", "hours", "hours takes 0-23");
    assert_cron_err("0 0 0 0 * ?", "day-of-month", "day-of-month takes 1-31");
    assert_cron_err("0 0 0 32 * ?", "day-of-month", "32 is out of range");
    assert_cron_err("0 0 0 1 0 ?", "month", "1-12 or Jan-Dec");
    assert_cron_err("0 0 0 1 13 ?", "month", "13 is out of range");
    assert_cron_err("0 0 0 ? * 7", "day-of-week", "0-6 or Sun-Sat (0 = Sunday)");
    assert_cron_err("0 50-61 * * * ?", "minutes", "61 is out of range");
    assert_cron_err("99999999999 * * * * ?", "seconds", "out of range");
}

// ---------------------------------------------------------------------------------------------
// `?`, the day fields, special characters and the shape of the expression.

#[test]
fn question_mark_rules() {
    // Only in day-of-month and day-of-week.
    assert_cron_err(
        "? * * * * *",
        "seconds",
        "only allowed in day-of-month and day-of-week",
    );
    assert_cron_err("0 ? * * * *", "minutes", "use `*` here");
    assert_cron_err("0 0 ? * * *", "hours", "use `*` here");
    assert_cron_err("0 0 0 * ? *", "month", "use `*` here");
    // Standing alone.
    assert_cron_err("0 0 0 ?/2 * *", "day-of-month", "stand alone");
    assert_cron_err("0 0 0 1,? * *", "day-of-month", "stand alone");
    assert_cron_err("0 0 0 * * ?,1", "day-of-week", "stand alone");
    // Not in both.
    assert_cron_err(
        "0 0 0 ? * ?",
        "day-of-week",
        "only one of day-of-month and day-of-week",
    );
    // `?` in one, `*` or a value in the other.
    assert_eq!(cron("0 0 0 ? * *"), cron("0 0 0 * * ?"));
    assert_eq!(cron("0 0 0 ? * *"), cron("0 0 0 * * *"));
    assert_eq!(cron("0 0 0 ? *"), cron("0 0 0 * *"));
    assert_fires(
        "0 0 0 ? * *",
        "2024-02-28 00:00:00",
        &["2024-02-29 00:00:00", "2024-03-01 00:00:00"],
    );
}

#[test]
fn both_day_fields_restricted_is_refused() {
    assert_cron_err("0 0 8 10 * Mon", "day-of-week", "cannot both be restricted");
    assert_cron_err(
        "0 0 8 10 * Mon",
        "day-of-week",
        "`0 0 8 10 * ?` or `0 0 8 ? * Mon`",
    );
    assert_cron_err("0 0 8 1-7 * 1-5", "day-of-week", "put `?` in one");
    assert_cron_err(
        "0 0 8 */2 * */2",
        "day-of-week",
        "cannot both be restricted",
    );
}

#[test]
fn one_day_field_restricts() {
    // Day-of-month restricts, day-of-week `*`, `?` or omitted.
    for expr in ["0 0 12 10 * *", "0 0 12 10 * ?", "0 0 12 10 *"] {
        assert_fires(
            expr,
            "2024-01-01 00:00:00",
            &[
                "2024-01-10 12:00:00",
                "2024-02-10 12:00:00",
                "2024-03-10 12:00:00",
            ],
        );
    }
    // Day-of-week restricts, day-of-month `*` or `?`.
    for expr in ["0 0 12 * * Wed", "0 0 12 ? * Wed"] {
        assert_fires(
            expr,
            "2024-01-01 00:00:00",
            &[
                "2024-01-03 12:00:00",
                "2024-01-10 12:00:00",
                "2024-01-17 12:00:00",
            ],
        );
    }
    // Day-of-week with months.
    assert_fires(
        "0 0 0 ? Feb Thu",
        "2024-01-01 00:00:00",
        &[
            "2024-02-01 00:00:00",
            "2024-02-08 00:00:00",
            "2024-02-15 00:00:00",
            "2024-02-22 00:00:00",
            "2024-02-29 00:00:00",
            "2025-02-06 00:00:00",
        ],
    );
}

#[test]
fn quartz_extensions_are_refused() {
    assert_cron_err("0 0 0 L * ?", "day-of-month", "`L` and `W`");
    assert_cron_err("0 0 0 LW * ?", "day-of-month", "not supported");
    assert_cron_err("0 0 0 15W * ?", "day-of-month", "not supported");
    assert_cron_err("0 0 0 ? * 5L", "day-of-week", "not supported");
    assert_cron_err("0 0 0 ? * L", "day-of-week", ", - * ? /");
    assert_cron_err("0 0 0 ? * 1#2", "day-of-week", "`#`");
    assert_cron_err("0 0 0 ? * Mon#2", "day-of-week", "not supported");
    assert_cron_err("0 0 L * * ?", "hours", ", - * /");
}

#[test]
fn expression_shape() {
    assert_cron_err("", "cron", "empty");
    assert_cron_err("   ", "cron", "empty");
    assert_cron_err("0 0 0 *", "cron", "expected 5 or 6");
    assert_cron_err("*", "cron", "found 1");
    assert_cron_err("0 0 0 * * ? 2024", "cron", "no year field");
    assert_cron_err("0 0 0 * * ? 2024 x", "cron", "found 8");
    assert_cron_err("@hourly", "cron", "no other `@` forms");
    // Any run of whitespace separates fields; surrounding whitespace is ignored.
    assert_eq!(cron("  0  15\t2 * *   ? "), cron("0 15 2 * * ?"));
    // Five fields: day-of-week is omitted (there is no five-field minute-first form).
    assert_fires(
        "*/5 * * * *",
        "2024-01-01 00:00:00",
        &["2024-01-01 00:00:05", "2024-01-01 00:00:10"],
    );
    assert_cron_err("0 0 0 * * Mon,", "day-of-week", "empty list item");
    assert_cron_err("0 0 0 * * M%n", "day-of-week", "unexpected character `%`");
}

#[test]
fn error_display() {
    let e = Cron::parse("0 60 * * * ?").unwrap_err();
    assert_eq!(
        e.to_string(),
        "minutes: 60 is out of range in `60`; minutes takes 0-59"
    );
    let e = Schedule::parse("Rate", "61m").unwrap_err();
    assert_eq!(
        e.to_string(),
        "rate: `61m` is out of range; minutes must be from 1 to 60 (use `h` for longer periods, e.g. `2h`)"
    );
}

#[test]
fn horizon_near_the_end_of_time() {
    // No panic and no bogus result when the search runs off chrono's range.
    let end = DateTime::<Utc>::MAX_UTC;
    assert_eq!(cron("* * * * * ?").next_after(end), None);
    let s = Schedule::parse("Rate", "1d").unwrap();
    assert_eq!(s.next_after(end, end), None);
}

// ---------------------------------------------------------------------------------------------
// Property-style checks: results strictly increase and match the expression field by field,
// judged by predicates written independently of the parser; for dense expressions, a
// second-by-second scan finds no fire that `next_after` skipped.

type Pred = fn(&DateTime<Utc>) -> bool;

fn wd(dt: &DateTime<Utc>) -> Weekday {
    dt.weekday()
}

fn samples() -> Vec<(&'static str, Pred, bool)> {
    // (expression, predicate, dense enough for a brute-force scan over a few days)
    vec![
        (
            "0 15 2 * * ?",
            |d| d.second() == 0 && d.minute() == 15 && d.hour() == 2,
            true,
        ),
        (
            "0 30 8 ? * Mon-Fri",
            |d| {
                d.second() == 0
                    && d.minute() == 30
                    && d.hour() == 8
                    && !matches!(wd(d), Weekday::Sat | Weekday::Sun)
            },
            true,
        ),
        (
            "0 45 7 1-3 * ?",
            |d| d.second() == 0 && d.minute() == 45 && d.hour() == 7 && d.day() <= 3,
            false,
        ),
        (
            "0 0/3 * ? * Mon,Wed,Fri,Sun",
            |d| {
                d.second() == 0
                    && d.minute() % 3 == 0
                    && matches!(
                        wd(d),
                        Weekday::Mon | Weekday::Wed | Weekday::Fri | Weekday::Sun
                    )
            },
            true,
        ),
        (
            "0 0/3 9-18 ? * Mon-Fri",
            |d| {
                d.second() == 0
                    && d.minute() % 3 == 0
                    && (9..=18).contains(&d.hour())
                    && !matches!(wd(d), Weekday::Sat | Weekday::Sun)
            },
            true,
        ),
        (
            "0 0/30 * * * ?",
            |d| d.second() == 0 && d.minute() % 30 == 0,
            true,
        ),
        (
            "5-20/5 * * * * ?",
            |d| [5, 10, 15, 20].contains(&d.second()),
            true,
        ),
        (
            "*/7 1/13 */5 * * *",
            |d| d.second() % 7 == 0 && d.minute() % 13 == 1 && d.hour() % 5 == 0,
            true,
        ),
        (
            "0 0 0 31 * ?",
            |d| d.num_seconds_from_midnight() == 0 && d.day() == 31,
            false,
        ),
        (
            "0 0 12 29 Feb ?",
            |d| d.num_seconds_from_midnight() == 43_200 && d.month() == 2 && d.day() == 29,
            false,
        ),
        (
            "30 59 23 ? Jan,Dec Sat,Sun",
            |d| {
                d.second() == 30
                    && d.minute() == 59
                    && d.hour() == 23
                    && matches!(d.month(), 1 | 12)
                    && matches!(wd(d), Weekday::Sat | Weekday::Sun)
            },
            false,
        ),
        (
            "0 0 6 1,15,28-31 */2 ?",
            |d| {
                d.num_seconds_from_midnight() == 6 * 3600
                    && d.month() % 2 == 1
                    && matches!(d.day(), 1 | 15 | 28..=31)
            },
            false,
        ),
    ]
}

/// A small deterministic generator of start instants between 1990 and 2090.
fn starts() -> Vec<DateTime<Utc>> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let lo = t("1990-01-01 00:00:00").timestamp();
    let span = t("2090-01-01 00:00:00").timestamp() - lo;
    (0..12)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = lo + (x % span as u64) as i64;
            Utc.timestamp_opt(secs, (x % 1_000_000_000) as u32).unwrap()
        })
        .collect()
}

#[test]
fn property_increasing_and_matching() {
    for (expr, pred, _) in samples() {
        let c = cron(expr);
        for start in starts() {
            let mut prev = start;
            // Stop before 2096: 29 February 2104 lies beyond the search horizon from there.
            for i in 0..40 {
                if prev.year() >= 2095 {
                    break;
                }
                let next = c
                    .next_after(prev)
                    .unwrap_or_else(|| panic!("`{expr}`: no fire #{i} after {prev}"));
                assert!(next > prev, "`{expr}`: {next} is not after {prev}");
                assert_eq!(next.timestamp_subsec_nanos(), 0, "`{expr}`: {next}");
                assert!(pred(&next), "`{expr}`: {next} does not match");
                prev = next;
            }
        }
    }
}

#[test]
fn property_no_fire_skipped() {
    // Scan two days second by second from a few starts (crossing a month end and a weekend).
    let windows = [
        "2024-02-28 22:00:00",
        "2023-12-30 00:00:00",
        "2024-06-07 12:34:56",
    ];
    for (expr, pred, dense) in samples() {
        if !dense {
            continue;
        }
        let c = cron(expr);
        for w in windows {
            let start = t(w);
            let end = start + chrono::TimeDelta::days(2);
            let mut expected = Vec::new();
            let mut at = start + chrono::TimeDelta::seconds(1);
            while at <= end {
                if pred(&at) {
                    expected.push(at);
                }
                at += chrono::TimeDelta::seconds(1);
            }
            let mut got = Vec::new();
            let mut at = start;
            while let Some(next) = c.next_after(at) {
                if next > end {
                    break;
                }
                got.push(next);
                at = next;
            }
            assert_eq!(got, expected, "`{expr}` from {w}");
        }
    }
    // Sparse expressions: scan day by day over several years at the fire's time of day.
    for (expr, pred, dense) in samples() {
        if dense {
            continue;
        }
        let c = cron(expr);
        let start = t("2023-01-01 00:00:00");
        let first = c.next_after(start).unwrap();
        let tod = first.num_seconds_from_midnight();
        let mut expected = Vec::new();
        let mut day = start.date_naive();
        while day < t("2031-01-01 00:00:00").date_naive() {
            let at = day
                .and_hms_opt(tod / 3600, tod / 60 % 60, tod % 60)
                .unwrap()
                .and_utc();
            if at > start && pred(&at) {
                expected.push(at);
            }
            day = day.succ_opt().unwrap();
        }
        let mut got = Vec::new();
        let mut at = start;
        while let Some(next) = c.next_after(at) {
            if next >= t("2031-01-01 00:00:00") {
                break;
            }
            got.push(next);
            at = next;
        }
        assert_eq!(got, expected, "`{expr}`");
    }
}
