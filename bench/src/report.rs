//! Tables (printed as Markdown, so the same text goes to the terminal and to RESULTS.md),
//! number formatting, machine information and CPU accounting.

use crate::load::Run;
use std::fmt::Write as _;

/// One measured case.
pub struct Row {
    /// What was measured.
    pub case: String,
    /// How (closed c=N, open R/s, samples).
    pub mode: String,
    /// Latency samples recorded.
    pub n: u64,
    /// Failed requests.
    pub errors: u64,
    /// p50, p90, p99, max in ns.
    pub lat: [u64; 4],
    /// Successful answers per second, when meaningful.
    pub throughput: Option<f64>,
    /// Index of the row this one is compared with (same table).
    pub base: Option<usize>,
    /// Compare throughput with the base row too.
    pub compare_throughput: bool,
    /// First failure, for the notes.
    pub first_error: Option<String>,
}

impl Row {
    /// A row from a run.
    pub fn new(case: impl Into<String>, mode: impl Into<String>, run: &Run) -> Row {
        let h = &run.hist;
        let lat = if h.is_empty() {
            [0; 4]
        } else {
            [
                h.value_at_quantile(0.50),
                h.value_at_quantile(0.90),
                h.value_at_quantile(0.99),
                h.max(),
            ]
        };
        Row {
            case: case.into(),
            mode: mode.into(),
            n: h.len(),
            errors: run.errors,
            lat,
            throughput: Some(run.throughput()),
            base: None,
            compare_throughput: false,
            first_error: run.first_error.clone(),
        }
    }

    /// Compares this row's p50 with row `base`.
    pub fn vs(mut self, base: usize) -> Row {
        self.base = Some(base);
        self
    }

    /// Compares this row's p50 and throughput with row `base`.
    pub fn vs_throughput(mut self, base: usize) -> Row {
        self.base = Some(base);
        self.compare_throughput = true;
        self
    }

    /// Hides the throughput column (samples taken one at a time with pauses).
    pub fn no_throughput(mut self) -> Row {
        self.throughput = None;
        self
    }

    /// p50 in ns.
    pub fn p50(&self) -> u64 {
        self.lat[0]
    }
}

/// One scenario's table.
pub struct Table {
    /// Heading.
    pub title: String,
    /// What the scenario measures, one line.
    pub about: String,
    /// Rows.
    pub rows: Vec<Row>,
    /// Remarks printed under the table.
    pub notes: Vec<String>,
    /// Target lines printed under the table.
    pub targets: Vec<String>,
    /// Failures outside the rows (a fixture that could not be deployed, ...).
    pub failures: u64,
}

impl Table {
    /// An empty table.
    pub fn new(title: impl Into<String>, about: impl Into<String>) -> Table {
        Table {
            title: title.into(),
            about: about.into(),
            rows: Vec::new(),
            notes: Vec::new(),
            targets: Vec::new(),
            failures: 0,
        }
    }

    /// Records a failure that is not a row (it makes the run exit non-zero).
    pub fn failed(&mut self, what: String) {
        self.failures += 1;
        self.notes.push(format!("FAILED: {what}"));
    }

    /// Adds a row and returns its index (for `Row::vs`).
    pub fn push(&mut self, row: Row) -> usize {
        self.rows.push(row);
        self.rows.len() - 1
    }

    /// Row by index.
    pub fn row(&self, i: usize) -> &Row {
        &self.rows[i]
    }

    /// A target line: `what`, the measured value, the goal, and whether it is met.
    pub fn target(&mut self, what: &str, measured: String, goal: String, met: bool) {
        let verdict = if met { "met" } else { "NOT met" };
        self.targets
            .push(format!("{what}: {measured} (target {goal}) — {verdict}"));
    }

    /// Total failed requests.
    pub fn errors(&self) -> u64 {
        self.rows.iter().map(|r| r.errors).sum::<u64>() + self.failures
    }

    /// Markdown text of the table.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "### {}\n", self.title);
        let _ = writeln!(out, "{}\n", self.about);
        let header = [
            "case",
            "mode",
            "n",
            "err",
            "p50",
            "p90",
            "p99",
            "max",
            "req/s",
            "p50 vs base",
            "req/s vs base",
        ];
        let mut cells: Vec<Vec<String>> = Vec::new();
        for r in &self.rows {
            let base = r.base.and_then(|b| self.rows.get(b));
            let p50_vs = match base {
                Some(b) if b.p50() > 0 && r.n > 0 => format!(
                    "{:.2}× ({}{})",
                    r.p50() as f64 / b.p50() as f64,
                    if r.p50() >= b.p50() { "+" } else { "−" },
                    fmt_ns(r.p50().abs_diff(b.p50()))
                ),
                _ => "—".into(),
            };
            let tput_vs = match (base, r.throughput) {
                (Some(b), Some(t)) if r.compare_throughput => match b.throughput {
                    Some(bt) if bt > 0.0 => format!("{:.3}×", t / bt),
                    _ => "—".into(),
                },
                _ => "—".into(),
            };
            let lat = |i: usize| {
                if r.n == 0 {
                    "—".to_string()
                } else {
                    fmt_ns(r.lat[i])
                }
            };
            cells.push(vec![
                r.case.clone(),
                r.mode.clone(),
                r.n.to_string(),
                r.errors.to_string(),
                lat(0),
                lat(1),
                lat(2),
                lat(3),
                r.throughput.map_or_else(|| "—".into(), fmt_rate),
                p50_vs,
                tput_vs,
            ]);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                cells
                    .iter()
                    .map(|c| c[i].chars().count())
                    .chain(std::iter::once(header[i].chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cols: Vec<String>| {
            let mut s = String::from("|");
            for (i, c) in cols.iter().enumerate() {
                let pad = widths[i].saturating_sub(c.chars().count());
                // Text columns left-aligned, numbers right-aligned.
                if i < 2 {
                    let _ = write!(s, " {c}{} |", " ".repeat(pad));
                } else {
                    let _ = write!(s, " {}{c} |", " ".repeat(pad));
                }
            }
            s
        };
        let _ = writeln!(
            out,
            "{}",
            line(header.iter().map(|h| h.to_string()).collect())
        );
        let sep: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i < 2 {
                    "-".repeat(*w)
                } else {
                    format!("{}:", "-".repeat(w.saturating_sub(1)))
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "|{}|",
            sep.iter()
                .map(|s| format!(" {s} "))
                .collect::<Vec<_>>()
                .join("|")
        );
        for c in cells {
            let _ = writeln!(out, "{}", line(c));
        }
        let mut notes = self.notes.clone();
        for r in &self.rows {
            if let Some(e) = &r.first_error {
                notes.push(format!("first error of \"{}\": {e}", r.case));
            }
        }
        if !self.targets.is_empty() {
            out.push('\n');
            for t in &self.targets {
                let _ = writeln!(out, "- target — {t}");
            }
        }
        if !notes.is_empty() {
            out.push('\n');
            for n in &notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }
}

/// A duration in ns, with a unit that keeps 3 significant digits.
pub fn fmt_ns(ns: u64) -> String {
    let v = ns as f64;
    if v < 1e3 {
        format!("{ns} ns")
    } else if v < 1e4 {
        format!("{:.2} µs", v / 1e3)
    } else if v < 1e5 {
        format!("{:.1} µs", v / 1e3)
    } else if v < 1e6 {
        format!("{:.0} µs", v / 1e3)
    } else if v < 1e7 {
        format!("{:.2} ms", v / 1e6)
    } else if v < 1e8 {
        format!("{:.1} ms", v / 1e6)
    } else if v < 1e9 {
        format!("{:.0} ms", v / 1e6)
    } else {
        format!("{:.2} s", v / 1e9)
    }
}

/// A rate with thousands separators.
pub fn fmt_rate(r: f64) -> String {
    if r < 100.0 {
        return format!("{r:.1}");
    }
    let n = r.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// What the machine looks like.
pub fn machine_info() -> Vec<(String, String)> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(
            || "unknown".into(),
            |kb| format!("{:.1} GiB", kb as f64 / 1048576.0),
        );
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    vec![
        ("nproc".into(), nproc.to_string()),
        ("cpu".into(), cpu),
        ("kernel".into(), kernel),
        ("memory".into(), mem),
        ("load average at start".into(), load),
    ]
}

/// CPU time counters, in clock ticks.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    busy_all: u64,
    ours: u64,
    at: std::time::Instant,
}

fn ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

impl CpuSnapshot {
    /// Machine-wide busy time and this process's time including reaped children (the
    /// server and, through it, its instances, once they have exited).
    pub fn take() -> CpuSnapshot {
        let busy_all = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|t| {
                let line = t.lines().next()?.to_string();
                let v: Vec<u64> = line
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|x| x.parse().ok())
                    .collect();
                // user nice system idle iowait irq softirq steal ...
                let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
                let total: u64 = v.iter().take(8).sum();
                Some(total.saturating_sub(idle))
            })
            .unwrap_or(0);
        let ours = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|t| {
                let rest = t.rsplit_once(')')?.1.to_string();
                let f: Vec<&str> = rest.split_whitespace().collect();
                // stat(5) fields 14-17 (utime, stime, cutime, cstime); `rest` starts at
                // field 3 (state).
                f.get(11..15)?
                    .iter()
                    .map(|x| x.parse::<i64>().ok().map(|v| v.max(0) as u64))
                    .sum::<Option<u64>>()
            })
            .unwrap_or(0);
        CpuSnapshot {
            busy_all,
            ours,
            at: std::time::Instant::now(),
        }
    }

    /// A note on how busy the machine was since `self`, and how much of it was us.
    pub fn note_since(&self) -> String {
        let now = CpuSnapshot::take();
        let secs = now.at.duration_since(self.at).as_secs_f64().max(1e-3);
        let hz = ticks_per_sec();
        let all = now.busy_all.saturating_sub(self.busy_all) as f64 / hz / secs;
        let ours = now.ours.saturating_sub(self.ours) as f64 / hz / secs;
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        format!(
            "CPU over the scenario ({secs:.1} s): machine {all:.2} of {cpus} CPUs busy, of which this benchmark (load generator, server, instances) {ours:.2}, other processes ≈ {:.2}",
            (all - ours).max(0.0)
        )
    }
}
