/// A schedule that cannot be accepted. `field` names the offending part (`"seconds"`,
/// `"minutes"`, `"hours"`, `"day-of-month"`, `"month"`, `"day-of-week"`, `"cron"` for the
/// expression as a whole, `"@every"`, `"rate"`, `"schedule_type"`); `message` says what is wrong
/// and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ScheduleError {
    pub field: String,
    pub message: String,
}

impl ScheduleError {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> ScheduleError {
        ScheduleError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}
