//! The standard (six-field) cron form: parsing into bit sets and searching the next fire.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use crate::ScheduleError;

/// How far [`Cron::next_after`] looks ahead: five years, leap days included.
const HORIZON_SECS: i64 = (5 * 365 + 2) * 86_400;

const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// A parsed cron expression `seconds minutes hours day-of-month month [day-of-week]`.
///
/// Every field is kept as a bit set of the values it allows (bit `n` set = value `n` allowed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cron {
    seconds: u64,
    minutes: u64,
    hours: u64,
    /// Bits 1..=31.
    days: u64,
    /// Bits 1..=12.
    months: u64,
    /// Bits 0..=6, 0 = Sunday.
    weekdays: u64,
    /// Day-of-month is neither `*` nor `?`.
    days_restricted: bool,
    /// Day-of-week is given and is neither `*` nor `?`.
    weekdays_restricted: bool,
}

/// The static description of one field: its name (as used in errors), range, names and whether
/// `?` is allowed.
struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names for the values `min`, `min + 1`, ... (empty when the field has no names).
    names: &'static [&'static str],
    question: bool,
}

const SECONDS: FieldSpec = FieldSpec {
    name: "seconds",
    min: 0,
    max: 59,
    names: &[],
    question: false,
};
const MINUTES: FieldSpec = FieldSpec {
    name: "minutes",
    min: 0,
    max: 59,
    names: &[],
    question: false,
};
const HOURS: FieldSpec = FieldSpec {
    name: "hours",
    min: 0,
    max: 23,
    names: &[],
    question: false,
};
const DAY_OF_MONTH: FieldSpec = FieldSpec {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
    question: true,
};
const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: &MONTH_NAMES,
    question: false,
};
const DAY_OF_WEEK: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 0,
    max: 6,
    names: &WEEKDAY_NAMES,
    question: true,
};

/// One parsed field.
enum Field {
    /// Exactly `*`.
    Star,
    /// Exactly `?`.
    Question,
    /// Anything else: the allowed values.
    Values(u64),
}

impl FieldSpec {
    fn all(&self) -> u64 {
        (self.min..=self.max).fold(0, |m, v| m | (1 << v))
    }

    fn mask(&self, field: &Field) -> u64 {
        match field {
            Field::Star | Field::Question => self.all(),
            Field::Values(m) => *m,
        }
    }

    /// The accepted values, for messages.
    fn hint(&self) -> String {
        match self.name {
            "month" => "1-12 or Jan-Dec".to_string(),
            "day-of-week" => "0-6 or Sun-Sat (0 = Sunday)".to_string(),
            _ => format!("{}-{}", self.min, self.max),
        }
    }

    /// The special characters the guide allows in this field, for messages.
    fn specials(&self) -> &'static str {
        if self.question {
            ", - * ? /"
        } else {
            ", - * /"
        }
    }

    fn err(&self, message: String) -> ScheduleError {
        ScheduleError::new(self.name, message)
    }

    fn parse(&self, text: &str) -> Result<Field, ScheduleError> {
        if text == "*" {
            return Ok(Field::Star);
        }
        if text == "?" {
            return if self.question {
                Ok(Field::Question)
            } else {
                Err(self.err(
                    "`?` is only allowed in day-of-month and day-of-week; use `*` here".to_string(),
                ))
            };
        }
        for ch in text.chars() {
            if ch == '#' {
                return Err(self.err(format!(
                    "`#` (n-th weekday of the month) is not supported in `{text}`; \
                     the special characters allowed here are {}",
                    self.specials()
                )));
            }
            if !(ch.is_ascii_alphanumeric() || matches!(ch, ',' | '-' | '*' | '/' | '?')) {
                return Err(self.err(format!(
                    "unexpected character `{ch}` in `{text}`; use values {} and the special \
                     characters {}",
                    self.hint(),
                    self.specials()
                )));
            }
        }
        let mut mask = 0;
        for item in text.split(',') {
            if item.is_empty() {
                return Err(self.err(format!(
                    "empty list item in `{text}`; remove the extra comma"
                )));
            }
            mask |= self.parse_item(item)?;
        }
        Ok(Field::Values(mask))
    }

    /// One list item: `*/n`, `a`, `a/n`, `a-b` or `a-b/n`.
    fn parse_item(&self, item: &str) -> Result<u64, ScheduleError> {
        let (base, step) = match item.split_once('/') {
            None => (item, None),
            Some((base, step)) => (base, Some(self.parse_step(step, item)?)),
        };
        if base.contains('?') {
            return Err(self.err(format!(
                "`?` must stand alone in the field, without lists, ranges or steps (found `{item}`)"
            )));
        }
        let (lo, hi) = if base == "*" {
            if step.is_none() {
                return Err(self.err(
                    "`*` already covers every value; write `*` alone instead of in a list"
                        .to_string(),
                ));
            }
            (self.min, self.max)
        } else if base.contains('*') {
            return Err(self.err(format!(
                "`*` cannot be combined with a value in `{item}`; write `*`, `*/n` or values"
            )));
        } else if base.is_empty() {
            return Err(self.err(format!(
                "missing start before `/` in `{item}`; write e.g. `0/15` or `*/15`"
            )));
        } else if let Some((a, b)) = base.split_once('-') {
            if a.is_empty() {
                return Err(self.err(format!(
                    "missing range start in `{item}` (negative values are not allowed); \
                     write e.g. `1-5`"
                )));
            }
            if b.is_empty() {
                return Err(self.err(format!("missing range end in `{item}`; write e.g. `1-5`")));
            }
            if b.contains('-') {
                return Err(self.err(format!(
                    "a range has exactly one `-` (found `{item}`); write e.g. `1-5`"
                )));
            }
            let lo = self.parse_value(a, item)?;
            let hi = self.parse_value(b, item)?;
            if lo > hi {
                return Err(self.err(format!(
                    "range `{item}` runs backwards; ranges do not wrap around, so write the \
                     lower value first or use a list"
                )));
            }
            (lo, hi)
        } else {
            let v = self.parse_value(base, item)?;
            // `a/n` runs from `a` to the end of the field.
            (v, if step.is_some() { self.max } else { v })
        };
        let step = step.unwrap_or(1);
        let mut mask = 0;
        let mut v = lo;
        while v <= hi {
            mask |= 1 << v;
            v += step;
        }
        Ok(mask)
    }

    fn parse_step(&self, step: &str, item: &str) -> Result<u32, ScheduleError> {
        let size = self.max - self.min + 1;
        if step.is_empty() {
            return Err(self.err(format!(
                "missing step after `/` in `{item}`; write e.g. `0/15`"
            )));
        }
        if !step.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(format!(
                "step `{step}` in `{item}` must be a whole number from 1 to {size}"
            )));
        }
        match step.parse::<u32>() {
            Ok(0) => Err(self.err(format!(
                "step 0 in `{item}` is not allowed; the step must be from 1 to {size}"
            ))),
            Ok(n) if n <= size => Ok(n),
            _ => Err(self.err(format!(
                "step {step} in `{item}` is too large; {} has {size} values, so the step must \
                 be from 1 to {size}",
                self.name
            ))),
        }
    }

    fn parse_value(&self, tok: &str, item: &str) -> Result<u32, ScheduleError> {
        if tok.bytes().all(|b| b.is_ascii_digit()) {
            return match tok.parse::<u32>() {
                Ok(v) if (self.min..=self.max).contains(&v) => Ok(v),
                _ => Err(self.err(format!(
                    "{tok} is out of range in `{item}`; {} takes {}",
                    self.name,
                    self.hint()
                ))),
            };
        }
        if let Some(i) = self.names.iter().position(|n| n.eq_ignore_ascii_case(tok)) {
            // At most 12 names, so the index fits.
            return Ok(self.min + i as u32);
        }
        if is_last_or_weekday(tok) {
            return Err(self.err(format!(
                "`L` and `W` (last day, nearest weekday) are not supported (found `{tok}`); \
                 use values {} and the special characters {}",
                self.hint(),
                self.specials()
            )));
        }
        if tok.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(match self.name {
                "month" => self.err(format!(
                    "unknown month name `{tok}`; use 1-12 or the three-letter names Jan-Dec \
                     (any case)"
                )),
                "day-of-week" => self.err(format!(
                    "unknown weekday name `{tok}`; use 0-6 (0 = Sunday) or the three-letter \
                     names Sun-Sat (any case)"
                )),
                _ => self.err(format!(
                    "`{tok}` is not a number; {} takes {}",
                    self.name,
                    self.hint()
                )),
            });
        }
        Err(self.err(format!(
            "invalid value `{tok}` in `{item}`; {} takes {}",
            self.name,
            self.hint()
        )))
    }
}

/// `L`, `W`, `LW`, `15W`, `5L` and the like: Quartz extensions the guide does not list.
fn is_last_or_weekday(tok: &str) -> bool {
    let up = tok.to_ascii_uppercase();
    if up == "L" || up == "W" || up == "LW" {
        return true;
    }
    match up.strip_suffix('L').or_else(|| up.strip_suffix('W')) {
        Some(digits) => !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 31,
    }
}

/// The lowest set bit of `mask` at position `from` or above.
fn next_bit(mask: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let m = mask & (u64::MAX << from);
    (m != 0).then(|| m.trailing_zeros())
}

impl Cron {
    /// Parses `seconds minutes hours day-of-month month [day-of-week]` (user guide §7.8).
    pub fn parse(expr: &str) -> Result<Cron, ScheduleError> {
        let expr = expr.trim();
        if expr.is_empty() {
            return Err(ScheduleError::new(
                "cron",
                "the expression is empty; write `seconds minutes hours day-of-month month \
                 [day-of-week]`, e.g. `0 15 2 * * ?`",
            ));
        }
        if expr.starts_with('@') {
            return Err(ScheduleError::new(
                "cron",
                format!(
                    "`{expr}` is not a field expression; `@every <duration>` is an interval \
                     schedule (parse it with Schedule::parse) and no other `@` forms exist"
                ),
            ));
        }
        let fields: Vec<&str> = expr.split_whitespace().collect();
        match fields.len() {
            5 | 6 => {}
            7 => {
                return Err(ScheduleError::new(
                    "cron",
                    "found 7 fields, but there is no year field; write `seconds minutes hours \
                     day-of-month month [day-of-week]`",
                ))
            }
            n => {
                return Err(ScheduleError::new(
                    "cron",
                    format!(
                        "expected 5 or 6 space-separated fields (`seconds minutes hours \
                         day-of-month month [day-of-week]`, e.g. `0 15 2 * * ?`), found {n}"
                    ),
                ))
            }
        }
        let seconds = SECONDS.parse(fields[0])?;
        let minutes = MINUTES.parse(fields[1])?;
        let hours = HOURS.parse(fields[2])?;
        let dom = DAY_OF_MONTH.parse(fields[3])?;
        let month = MONTH.parse(fields[4])?;
        let dow = match fields.get(5) {
            Some(text) => DAY_OF_WEEK.parse(text)?,
            None => Field::Star,
        };

        match (&dom, &dow) {
            (Field::Question, Field::Question) => {
                return Err(ScheduleError::new(
                    "day-of-week",
                    "`?` may be used in only one of day-of-month and day-of-week; write `*` in \
                     the other",
                ))
            }
            (Field::Values(_), Field::Values(_)) => {
                let (s, m, h, d, mo, w) = (
                    fields[0], fields[1], fields[2], fields[3], fields[4], fields[5],
                );
                return Err(ScheduleError::new(
                    "day-of-week",
                    format!(
                        "day-of-month and day-of-week cannot both be restricted; put `?` in one \
                         of them: `{s} {m} {h} {d} {mo} ?` or `{s} {m} {h} ? {mo} {w}`"
                    ),
                ));
            }
            _ => {}
        }

        let cron = Cron {
            seconds: SECONDS.mask(&seconds),
            minutes: MINUTES.mask(&minutes),
            hours: HOURS.mask(&hours),
            days: DAY_OF_MONTH.mask(&dom),
            months: MONTH.mask(&month),
            weekdays: DAY_OF_WEEK.mask(&dow),
            days_restricted: matches!(dom, Field::Values(_)),
            weekdays_restricted: matches!(dow, Field::Values(_)),
        };
        cron.check_days_exist()?;
        Ok(cron)
    }

    /// Refuses a day-of-month set none of whose days occurs in any selected month (day 30 in
    /// February, day 31 in April), since such an expression would never fire.
    fn check_days_exist(&self) -> Result<(), ScheduleError> {
        if !self.days_restricted {
            return Ok(());
        }
        let selected: Vec<u32> = (1..=12).filter(|m| self.months & (1 << m) != 0).collect();
        // A leap year gives February 29 days.
        let longest = selected
            .iter()
            .map(|&m| days_in_month(2000, m))
            .max()
            .unwrap_or(31);
        let reachable = (1..=longest).fold(0u64, |acc, d| acc | (1 << d));
        if self.days & reachable != 0 {
            return Ok(());
        }
        let names: Vec<&str> = selected
            .iter()
            .map(|&m| MONTH_NAMES[(m - 1) as usize])
            .collect();
        Err(ScheduleError::new(
            "day-of-month",
            format!(
                "none of the selected days occurs in {} (at most {longest} days), so the \
                 expression would never fire; choose days that exist in the selected months",
                names.join(", ")
            ),
        ))
    }

    fn day_matches(&self, year: i32, month: u32, day: u32) -> Option<bool> {
        if self.days_restricted && self.days & (1 << day) == 0 {
            return Some(false);
        }
        if self.weekdays_restricted {
            let wd = NaiveDate::from_ymd_opt(year, month, day)?
                .weekday()
                .num_days_from_sunday();
            return Some(self.weekdays & (1 << wd) != 0);
        }
        Some(true)
    }

    /// The first fire time strictly after `t` (second precision), or None if none exists within ~5 years.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // `timestamp()` rounds down, so one second later is strictly after `t`.
        let start = t.timestamp().checked_add(1)?;
        let limit = start.saturating_add(HORIZON_SECS);
        let begin = DateTime::from_timestamp(start, 0)?;
        let (mut y, mut mo, mut d) = (begin.year(), begin.month(), begin.day());
        let (mut h, mut mi, mut s) = (begin.hour(), begin.minute(), begin.second());
        let last_year = y.checked_add(6)?;

        // Fix the fields from the largest to the smallest; whenever one has to move forward,
        // the smaller ones restart at their minimum, and an overflow carries into the next
        // larger field (a value past the end simply finds no bit and carries again).
        loop {
            if y > last_year {
                return None;
            }
            match next_bit(self.months, mo) {
                None => {
                    y += 1;
                    (mo, d, h, mi, s) = (1, 1, 0, 0, 0);
                    continue;
                }
                Some(m) if m != mo => (mo, d, h, mi, s) = (m, 1, 0, 0, 0),
                Some(_) => {}
            }

            let dim = days_in_month(y, mo);
            let mut day = d;
            while day <= dim && !self.day_matches(y, mo, day)? {
                day += 1;
            }
            if day > dim {
                mo += 1;
                (d, h, mi, s) = (1, 0, 0, 0);
                continue;
            }
            if day != d {
                (d, h, mi, s) = (day, 0, 0, 0);
            }

            match next_bit(self.hours, h) {
                None => {
                    d += 1;
                    (h, mi, s) = (0, 0, 0);
                    continue;
                }
                Some(x) if x != h => (h, mi, s) = (x, 0, 0),
                Some(_) => {}
            }

            match next_bit(self.minutes, mi) {
                None => {
                    h += 1;
                    (mi, s) = (0, 0);
                    continue;
                }
                Some(x) if x != mi => (mi, s) = (x, 0),
                Some(_) => {}
            }

            match next_bit(self.seconds, s) {
                None => {
                    mi += 1;
                    s = 0;
                    continue;
                }
                Some(x) => s = x,
            }

            let fire = NaiveDate::from_ymd_opt(y, mo, d)?
                .and_hms_opt(h, mi, s)?
                .and_utc();
            return (fire.timestamp() <= limit).then_some(fire);
        }
    }
}
