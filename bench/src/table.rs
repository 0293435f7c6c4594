//! Summary tables every driver prints: aligned text for the terminal, or
//! Markdown for `bench/RESULTS.md`, from the same rows; plus the small
//! formatters for optional medians and ratios.
//!
//! ```
//! use spindle_bench::table::{fmt_ratio, ratio, render};
//!
//! let rows = vec![
//!     vec!["server".to_owned(), "req/s".to_owned(), "ratio".to_owned()],
//!     vec!["spindle".to_owned(), "120".to_owned(), fmt_ratio(ratio(Some(120.0), Some(100.0)))],
//! ];
//! assert!(render(&rows, true).contains("| spindle |   120 | 1.20x |"));
//! ```

use std::fmt::Write as _;

/// Renders `rows` (the first one is the header) as a table: text columns
/// padded to the widest cell, or a Markdown table. The first column is
/// left-aligned (it names the row), the others right-aligned (figures).
pub fn render(rows: &[Vec<String>], markdown: bool) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|i| rows.iter().map(|r| r.get(i).map_or(0, |c| c.chars().count())).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let cells: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                let c = row.get(i).map_or("", String::as_str);
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        if markdown {
            let _ = writeln!(out, "| {} |", cells.join(" | "));
            if n == 0 {
                let _ = writeln!(out, "|---|{}", "---:|".repeat(columns.saturating_sub(1)));
            }
        } else {
            let _ = writeln!(out, "  {}", cells.join(" | ").trim_end());
        }
    }
    out
}

/// Remarks under a table: one per line, or a Markdown list after a blank
/// line.
pub fn render_remarks(remarks: &[String], markdown: bool) -> String {
    let mut out = String::new();
    if markdown && !remarks.is_empty() {
        out.push('\n');
    }
    for remark in remarks {
        let _ = writeln!(out, "{}{remark}", if markdown { "- " } else { "" });
    }
    out
}

/// `a / b` when both are there and `b` is positive.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// A figure with `decimals` decimals, or `-` when there is none.
pub fn fmt_opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

/// A ratio as `1.23x`, or `-` when there is none.
pub fn fmt_ratio(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}x"))
}

/// A latency in microseconds as `812us`, from a millisecond up as
/// `2.50ms`, from a second up as `1.06s`; `-` when there is none.
pub fn fmt_latency_us(v: Option<f64>) -> String {
    match v {
        None => "-".to_owned(),
        Some(us) if us >= 1e6 => format!("{:.2}s", us / 1e6),
        Some(us) if us >= 1000.0 => format!("{:.2}ms", us / 1000.0),
        Some(us) => format!("{us:.0}us"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<String>> {
        [["name", "req/s"], ["spindle", "12"]].iter().map(|r| r.map(str::to_owned).to_vec()).collect()
    }

    #[test]
    fn text_and_markdown() {
        assert_eq!(render(&rows(), false), "  name    | req/s\n  spindle |    12\n");
        assert_eq!(render(&rows(), true), "| name    | req/s |\n|---|---:|\n| spindle |    12 |\n");
    }

    #[test]
    fn remarks() {
        let remarks = ["a".to_owned(), "b".to_owned()];
        assert_eq!(render_remarks(&remarks, false), "a\nb\n");
        assert_eq!(render_remarks(&remarks, true), "\n- a\n- b\n");
        assert_eq!(render_remarks(&[], true), "");
    }

    #[test]
    fn formatters() {
        assert_eq!(ratio(Some(1.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(2.0)), None);
        assert_eq!(fmt_ratio(ratio(Some(1.0), Some(4.0))), "0.25x");
        assert_eq!(fmt_ratio(None), "-");
        assert_eq!(fmt_opt(Some(1.23456), 3), "1.235");
        assert_eq!(fmt_opt(None, 3), "-");
        assert_eq!(fmt_latency_us(Some(812.4)), "812us");
        assert_eq!(fmt_latency_us(Some(2500.0)), "2.50ms");
        assert_eq!(fmt_latency_us(Some(1_060_000.0)), "1.06s");
        assert_eq!(fmt_latency_us(None), "-");
    }
}
