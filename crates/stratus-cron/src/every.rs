//! The `@every <duration>` form and the Rate schedule type.

use std::time::Duration;

use crate::ScheduleError;

const UNITS: &str = "ns, us (or µs), ms, s, m or h";

/// Parses an expression starting with `@`: only `@every <duration>` exists.
pub(crate) fn parse_descriptor(expr: &str) -> Result<Duration, ScheduleError> {
    let word = expr.split_whitespace().next().unwrap_or(expr);
    if word != "@every" {
        if let Some(rest) = word.strip_prefix("@every") {
            if rest.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-') {
                return Err(ScheduleError::new(
                    "@every",
                    format!("put a space between `@every` and the duration: `@every {rest}`"),
                ));
            }
        }
        return Err(ScheduleError::new(
            "cron",
            format!(
                "unknown form `{word}`; the only `@` form is `@every <duration>` (e.g. \
                 `@every 30m`); otherwise write the fields, e.g. `0 0 0 * * ?`"
            ),
        ));
    }
    let duration = expr["@every".len()..].trim();
    if duration.is_empty() {
        return Err(ScheduleError::new(
            "@every",
            "missing duration; write e.g. `@every 30m`, `@every 1.5h` or `@every 2h30m`",
        ));
    }
    parse_duration(duration)
}

/// A duration as `<number><unit>` parts without spaces: `30m`, `1.5h`, `2h30m`, `500ms`.
fn parse_duration(text: &str) -> Result<Duration, ScheduleError> {
    let err = |m: String| Err(ScheduleError::new("@every", m));
    if text.starts_with('-') {
        return err(format!(
            "negative durations are not allowed (found `{text}`); write e.g. `@every 30m`"
        ));
    }
    let too_long = || {
        err(format!(
            "`{text}` is too long; the longest duration is about 292 years (2^63 - 1 ns)"
        ))
    };
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(f) => {
                let len = f.bytes().take_while(u8::is_ascii_digit).count();
                f.split_at(len)
            }
            None => ("", after),
        };
        let number = &rest[..rest.len() - after.len()];
        if int_part.is_empty() && frac_part.is_empty() {
            return if rest.starts_with(char::is_whitespace) {
                err(format!("remove the spaces in `{text}`; write e.g. `2h30m`"))
            } else {
                err(format!(
                    "expected a number at `{rest}` in `{text}`; write e.g. `30m`, `1.5h` or \
                     `2h30m`"
                ))
            };
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        if unit.is_empty() {
            return err(format!(
                "missing unit after `{number}` in `{text}`; use {UNITS}"
            ));
        }
        if unit.contains(char::is_whitespace) {
            return err(format!("remove the spaces in `{text}`; write e.g. `2h30m`"));
        }
        let unit_ns: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return err(format!(
                    "unknown unit `{unit}` in `{text}`; use {UNITS} (for days write hours, \
                     e.g. `24h`)"
                ))
            }
        };
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            match int_part.parse() {
                Ok(v) => v,
                Err(_) => return too_long(),
            }
        };
        let Some(mut part) = int.checked_mul(unit_ns) else {
            return too_long();
        };
        if !frac_part.is_empty() {
            // 18 digits are far below a nanosecond even for hours; the rest is dropped.
            let digits = &frac_part[..frac_part.len().min(18)];
            let frac: u128 = digits.parse().unwrap_or(0);
            part += frac * unit_ns / 10u128.pow(digits.len() as u32);
        }
        total = match total.checked_add(part) {
            Some(t) if t <= i64::MAX as u128 => t,
            _ => return too_long(),
        };
        rest = after;
    }
    if total == 0 {
        return err(format!(
            "the duration must be greater than zero (found `{text}`); write e.g. `@every 30m`"
        ));
    }
    // `total` is at most i64::MAX, so it fits.
    Ok(Duration::from_nanos(total as u64))
}

/// A Rate schedule: `<n>m` (1-60), `<n>h` (1-24) or `<n>d` (1-30), per user guide §7.2.
pub(crate) fn parse_rate(text: &str) -> Result<Duration, ScheduleError> {
    let err = |m: String| Err(ScheduleError::new("rate", m));
    let usage = "write <n>m (1-60 minutes), <n>h (1-24 hours) or <n>d (1-30 days), e.g. `5m`";
    let text = text.trim();
    let Some(unit) = text.chars().last() else {
        return err(format!("the rate is empty; {usage}"));
    };
    let number = &text[..text.len() - unit.len_utf8()];
    let (max, unit_secs, unit_name, longer) = match unit {
        'm' => (
            60,
            60,
            "minutes",
            " (use `h` for longer periods, e.g. `2h`)",
        ),
        'h' => (
            24,
            3_600,
            "hours",
            " (use `d` for longer periods, e.g. `2d`)",
        ),
        'd' => (30, 86_400, "days", ""),
        'M' | 'H' | 'D' => {
            return err(format!(
                "write the unit in lowercase: `{number}{}`",
                unit.to_ascii_lowercase()
            ))
        }
        c if c.is_ascii_digit() => return err(format!("missing unit in `{text}`; {usage}")),
        _ => return err(format!("unknown unit in `{text}`; {usage}")),
    };
    if number.is_empty() {
        return err(format!("missing number before `{unit}`; {usage}"));
    }
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!(
            "`{number}` in `{text}` is not a whole number; {usage}"
        ));
    }
    match number.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Duration::from_secs(n * unit_secs)),
        _ => err(format!(
            "`{text}` is out of range; {unit_name} must be from 1 to {max}{longer}"
        )),
    }
}
