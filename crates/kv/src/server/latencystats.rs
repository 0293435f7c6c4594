//! Per-command latency histograms: INFO `latencystats`
//! (`latency_percentiles_usec_get:p50=1.003,p99=2.007,p99.9=2.007`) and
//! LATENCY HISTOGRAM, as Redis 7.0 keeps them.
//!
//! Redis records each call's duration in an HDR histogram (its bundled
//! `hdr_histogram` C library): microseconds times 1000, clamped to 1 ns ..
//! 1 s, with 2 significant digits. That is 256 sub-buckets per power of
//! two, and a reported value is the *highest value equivalent* to the
//! bucket it falls in: a 1 µs call reports as 1.003 µs, 5 µs as 5.023.
//!
//! We record with the `hdrhistogram` crate, a port of the same algorithm:
//! with the same bounds and precision it puts every value in the same
//! bucket, with the same equivalent-value ranges, so the counts are
//! Redis's exactly, and the crate is well kept and fast to record into
//! (a few nanoseconds: an index from the leading zeros and an add). Its
//! two *reports* differ from the C library's, though, so those are
//! written here over its bucket counts:
//!
//! - a percentile: the C library takes the `(p / 100) * count + 0.5`-th
//!   value (rounded to nearest, at least the first), the crate the
//!   ceiling; p0 is the lowest equivalent value, any other the highest;
//! - LATENCY HISTOGRAM's buckets: Redis walks a logarithmic iterator from
//!   1024 ns, doubling, and reports at each level the cumulative count of
//!   the buckets up to and *including* the one that starts at the level,
//!   under that bucket's highest equivalent value in µs (1, 2, 4, 8, 16,
//!   33, 66, 132, ...); the crate's log iterator stops one bucket short.
//!   Levels that add no calls are not reported.

use hdrhistogram::Histogram;
use std::fmt::Write as _;

/// Redis's LATENCY_HISTOGRAM_MIN_VALUE: 1 ns.
const MIN_NS: u64 = 1;
/// Redis's LATENCY_HISTOGRAM_MAX_VALUE: 1 s in ns.
const MAX_NS: u64 = 1_000_000_000;
/// Redis's LATENCY_HISTOGRAM_PRECISION: significant decimal digits.
const PRECISION: u8 = 2;
/// The first level of LATENCY HISTOGRAM's log iterator, in ns.
const FIRST_LEVEL_NS: u64 = 1024;

/// One command's latency histogram.
#[derive(Debug, Clone)]
pub struct LatencyHistogram(Histogram<u64>);

impl Default for LatencyHistogram {
    fn default() -> LatencyHistogram {
        LatencyHistogram(Histogram::new_with_bounds(MIN_NS, MAX_NS, PRECISION).expect("valid HDR bounds"))
    }
}

impl LatencyHistogram {
    /// Records one call of `usec` microseconds (as ns, clamped to Redis's
    /// range: a 0 µs call counts as 1 ns, a call over a second as 1 s).
    #[inline]
    pub fn record_usec(&mut self, usec: u64) {
        let ns = usec.saturating_mul(1000).clamp(MIN_NS, MAX_NS);
        // In range by the clamp, so this cannot fail.
        let _ = self.0.record(ns);
    }

    /// Calls recorded.
    pub fn calls(&self) -> u64 {
        self.0.len()
    }

    /// The value at `percentile` (0 to 100) in ns, as the C library's
    /// `hdr_value_at_percentile` computes it.
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let requested = percentile.min(100.0);
        let wanted = (((requested / 100.0) * self.0.len() as f64) + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut seen = 0;
        for v in self.0.iter_recorded() {
            seen += v.count_at_value();
            if seen >= wanted {
                let top = v.value_iterated_to();
                return if percentile == 0.0 { self.0.lowest_equivalent(top) } else { top };
            }
        }
        0
    }

    /// LATENCY HISTOGRAM's `histogram_usec`: (bucket in µs, calls up to
    /// it), for the buckets that hold calls.
    pub fn cumulative_usec(&self) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        let mut cumulative = 0;
        for v in self.0.iter_recorded() {
            cumulative += v.count_at_value();
            let low = self.0.lowest_equivalent(v.value_iterated_to());
            let mut level = FIRST_LEVEL_NS;
            while level < low {
                level *= 2;
            }
            // The counts end at the first level above 1 s (2^30 ns, the end
            // of the bucket that holds 1 s): calls past the level below it
            // are reported, as the C iterator runs off the end of the
            // counts, under the last bucket's highest value.
            let top = self.0.highest_equivalent(if level > MAX_NS { level - 1 } else { level });
            let key = top / 1000;
            match out.last_mut() {
                Some((k, n)) if *k == key => *n = cumulative,
                _ => out.push((key, cumulative)),
            }
        }
        out
    }
}

/// A percentile as Redis prints it, in its INFO labels (`p99.9`) and in
/// CONFIG GET: `%f`, then trailing zeros and a trailing point dropped
/// (`trimDoubleString`).
pub fn format_percentile(p: f64) -> String {
    let mut s = format!("{p:.6}");
    if s.contains('.') {
        let keep = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(keep);
    }
    s
}

/// Parses `latency-tracking-info-percentiles`: each argument a number from
/// 0 to 100 (Redis's `string2ld` grammar), none for no percentiles.
///
/// # Errors
/// Redis's text for the first bad argument.
pub fn parse_percentiles(args: &[String]) -> Result<Vec<f64>, String> {
    if let [one] = args {
        if one.is_empty() {
            return Ok(Vec::new());
        }
    }
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        let p = crate::util::num::parse_f64(a.as_bytes())
            .ok_or_else(|| "Invalid latency-tracking-info-percentiles parameters".to_string())?;
        if !(0.0..=100.0).contains(&p) {
            return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
        }
        out.push(p);
    }
    Ok(out)
}

/// `latency-tracking-info-percentiles` as CONFIG GET prints it.
pub fn format_percentiles(ps: &[f64]) -> String {
    ps.iter().map(|&p| format_percentile(p)).collect::<Vec<_>>().join(" ")
}

/// One INFO latencystats line: `latency_percentiles_usec_<name>:p50=..`.
pub fn info_line(name: &str, h: &LatencyHistogram, percentiles: &[f64]) -> String {
    let mut line = format!("latency_percentiles_usec_{name}:");
    for (i, &p) in percentiles.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let usec = h.value_at_percentile(p) as f64 / 1000.0;
        let _ = write!(line, "p{}={usec:.3}", format_percentile(p));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(usecs: &[u64]) -> LatencyHistogram {
        let mut h = LatencyHistogram::default();
        for &u in usecs {
            h.record_usec(u);
        }
        h
    }

    /// Values read off redis-server 7.0.15's INFO latencystats.
    #[test]
    fn percentiles_are_the_c_librarys() {
        let show = |usecs: &[u64], ps: &[f64]| info_line("x", &with(usecs), ps);
        assert_eq!(
            show(&[1], &[50.0, 99.0, 99.9]),
            "latency_percentiles_usec_x:p50=1.003,p99=1.003,p99.9=1.003"
        );
        assert_eq!(show(&[0], &[0.0, 50.0]), "latency_percentiles_usec_x:p0=0.001,p50=0.001");
        // p0 is the lowest equivalent value, the others the highest.
        assert_eq!(show(&[3, 4, 19], &[0.0, 0.1]), "latency_percentiles_usec_x:p0=2.992,p0.1=3.007");
        assert_eq!(
            show(&[8, 11], &[0.0, 100.0, 16.0]),
            "latency_percentiles_usec_x:p0=8.000,p100=11.007,p16=8.031"
        );
        assert_eq!(show(&[60], &[25.5]), "latency_percentiles_usec_x:p25.5=60.159");
        // Rounded to nearest: the 158th of 160 (the crate's ceiling: 159th).
        let mut many = vec![1; 158];
        many.extend([100, 100]);
        assert_eq!(with(&many).value_at_percentile(99.0), 1003);
        // Over a second: clamped to 1 s, in a bucket 4.2 ms wide.
        assert_eq!(show(&[2_000_000], &[50.0]), "latency_percentiles_usec_x:p50=1002438.655");
        assert_eq!(show(&[1], &[]), "latency_percentiles_usec_x:");
    }

    /// Keys read off redis-server 7.0.15's LATENCY HISTOGRAM.
    #[test]
    fn buckets_are_redis_powers_of_two() {
        assert_eq!(with(&[1, 2, 2]).cumulative_usec(), [(1, 1), (2, 3)]);
        assert_eq!(with(&[0, 5, 31]).cumulative_usec(), [(1, 1), (8, 2), (33, 3)]);
        assert_eq!(with(&[60]).cumulative_usec(), [(66, 1)]);
        let keys: Vec<u64> = (0..20).map(|i| with(&[1 << i]).cumulative_usec()[0].0).collect();
        assert_eq!(
            keys,
            [
                1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266,
                270532, 541065
            ]
        );
        // Past the last level (2^29 ns), the iterator reports under the
        // histogram's highest value.
        assert_eq!(with(&[600_000, 5_000_000]).cumulative_usec(), [(1073741, 2)]);
        let h = with(&[1, 1, 3]);
        assert_eq!(h.calls(), 3);
    }

    #[test]
    fn percentile_labels_and_config_values_print_as_redis() {
        assert_eq!(format_percentile(50.0), "50");
        assert_eq!(format_percentile(99.9), "99.9");
        assert_eq!(format_percentile(0.001), "0.001");
        assert_eq!(format_percentile(99.99999999), "100");
        assert_eq!(format_percentile(0.0), "0");
        let set = |s: &[&str]| parse_percentiles(&s.iter().map(|a| a.to_string()).collect::<Vec<_>>());
        assert_eq!(set(&["1.5e1", "+7", ".5", "5.", "0x10"]), Ok(vec![15.0, 7.0, 0.5, 5.0, 16.0]));
        assert_eq!(format_percentiles(&set(&["50", "99", "99.9"]).unwrap()), "50 99 99.9");
        assert_eq!(set(&[""]), Ok(vec![]));
        assert_eq!(set(&[]), Ok(vec![]));
        assert_eq!(set(&["50", "abc"]), Err("Invalid latency-tracking-info-percentiles parameters".into()));
        assert_eq!(set(&["nan"]), Err("Invalid latency-tracking-info-percentiles parameters".into()));
        assert_eq!(set(&["50", ""]), Err("Invalid latency-tracking-info-percentiles parameters".into()));
        let range = Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
        assert_eq!(set(&["101"]), range);
        assert_eq!(set(&["-1"]), range);
        assert_eq!(set(&["inf"]), range);
    }
}
