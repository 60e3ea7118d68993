//! Human tables and JSON output.

use serde::Serialize;

/// Output format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// JSON for scripts.
    Json,
}

/// Prints `value` as JSON, or `rows` as a table.
pub fn show<T: Serialize>(format: Format, value: &T, header: &[&str], rows: Vec<Vec<String>>) {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        ),
        Format::Table => print_table(header, &rows),
    }
}

/// Prints a short confirmation (`{"result": msg}` in JSON mode).
pub fn done(format: Format, msg: &str) {
    match format {
        Format::Json => println!("{}", serde_json::json!({ "result": msg })),
        Format::Table => println!("{msg}"),
    }
}

/// Prints aligned columns without a header line.
pub fn print_rows(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    print_aligned(&vec![""; columns], rows, false);
}

/// Prints aligned columns.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    print_aligned(header, rows, true);
}

fn print_aligned(header: &[&str], rows: &[Vec<String>], with_header: bool) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:<w$}", c, w = widths.get(i).copied().unwrap_or(0)))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    if with_header {
        line(header.to_vec());
    }
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
