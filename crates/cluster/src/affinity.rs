//! Binding workers to CPUs (nginx's `worker_cpu_affinity`).
//!
//! A worker the kernel is free to move keeps losing its warm caches, and
//! two workers can end up sharing one core while another idles. Binding
//! worker *i* to a CPU of its own prevents both, at the price of leaving
//! the balancing to the configuration: a bound worker cannot escape a
//! core that something else (a load generator, a noisy neighbour) keeps
//! busy. So it is off by default, as in nginx.
//!
//! The setting is applied in each worker right after `fork`, before the
//! application runs. A CPU the master itself may not use cannot be
//! granted, so `auto` deals out the CPUs of the master's own affinity
//! mask (what `taskset` gave it), worker *i* taking the *i*-th, wrapping
//! around when there are more workers than CPUs.

use std::fmt;
use std::str::FromStr;

/// Which CPUs each worker may run on.
///
/// ```
/// use spindle_cluster::CpuAffinity;
/// let masks: CpuAffinity = "0101 1010".parse().unwrap();
/// // nginx's bitmasks: the rightmost digit is CPU 0.
/// assert_eq!(masks.cpus_for(0, &[0, 1, 2, 3]), Some(vec![0, 2]));
/// assert_eq!(masks.cpus_for(1, &[0, 1, 2, 3]), Some(vec![1, 3]));
/// // More workers than masks: the last mask, as nginx does.
/// assert_eq!(masks.cpus_for(5, &[0, 1, 2, 3]), Some(vec![1, 3]));
/// let auto: CpuAffinity = "auto".parse().unwrap();
/// assert_eq!(auto.cpus_for(3, &[0, 2, 4]), Some(vec![0]));
/// assert_eq!("off".parse::<CpuAffinity>().unwrap().cpus_for(0, &[0, 1]), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CpuAffinity {
    /// The kernel places workers (the default).
    #[default]
    Off,
    /// Worker *i* is bound to the *i*-th CPU the master may use, wrapping
    /// around.
    Auto,
    /// Worker *i* is bound to the CPUs of the *i*-th mask (the last mask
    /// for workers beyond the list). Each mask lists CPU numbers.
    Masks(Vec<Vec<usize>>),
}

impl CpuAffinity {
    /// The CPUs worker `worker` should be bound to, given the CPUs the
    /// master may use (`allowed`, ascending); `None`: leave it alone.
    pub fn cpus_for(&self, worker: usize, allowed: &[usize]) -> Option<Vec<usize>> {
        match self {
            CpuAffinity::Off => None,
            CpuAffinity::Auto if allowed.is_empty() => None,
            CpuAffinity::Auto => Some(vec![allowed[worker % allowed.len()]]),
            CpuAffinity::Masks(masks) => masks.get(worker).or(masks.last()).cloned(),
        }
    }
}

/// The most CPUs a mask may name (glibc's `CPU_SETSIZE`).
pub const MAX_CPUS: usize = 1024;

impl FromStr for CpuAffinity {
    type Err = String;

    /// `off`, `auto`, or nginx's space-separated bitmasks, one per
    /// worker, each a string of `0` and `1` whose rightmost digit is CPU 0.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "off" => return Ok(CpuAffinity::Off),
            "auto" => return Ok(CpuAffinity::Auto),
            _ => {}
        }
        let mut masks = Vec::new();
        for word in s.split_whitespace() {
            if word.len() > MAX_CPUS || !word.bytes().all(|b| b == b'0' || b == b'1') {
                return Err(format!(
                    "`{word}` is not a CPU mask (`off`, `auto`, or masks of 0 and 1 such as `01 10`, at most {MAX_CPUS} digits)"
                ));
            }
            let cpus: Vec<usize> =
                word.bytes().rev().enumerate().filter(|&(_, b)| b == b'1').map(|(cpu, _)| cpu).collect();
            if cpus.is_empty() {
                return Err(format!("the CPU mask `{word}` names no CPU"));
            }
            masks.push(cpus);
        }
        if masks.is_empty() {
            return Err(
                "an empty worker_cpu_affinity (use `off`, `auto` or masks such as `01 10`)".to_owned()
            );
        }
        Ok(CpuAffinity::Masks(masks))
    }
}

impl fmt::Display for CpuAffinity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpuAffinity::Off => f.write_str("off"),
            CpuAffinity::Auto => f.write_str("auto"),
            CpuAffinity::Masks(masks) => {
                // Every mask as wide as the widest, as nginx's are written.
                let top = masks.iter().flatten().copied().max().unwrap_or(0);
                for (i, cpus) in masks.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    for cpu in (0..=top).rev() {
                        f.write_str(if cpus.contains(&cpu) { "1" } else { "0" })?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// Binds the calling worker process as `affinity` says for worker
/// `worker`. Returns the CPUs it is now bound to, `None` if it was left
/// alone.
///
/// # Errors
/// `sched_getaffinity` or `sched_setaffinity` failing (for example a mask
/// naming only CPUs that do not exist).
pub(crate) fn apply(affinity: &CpuAffinity, worker: usize) -> std::io::Result<Option<Vec<usize>>> {
    if *affinity == CpuAffinity::Off {
        return Ok(None);
    }
    let allowed = crate::sys::cpu_affinity()?;
    match affinity.cpus_for(worker, &allowed) {
        None => Ok(None),
        Some(cpus) => {
            crate::sys::set_cpu_affinity(&cpus)?;
            Ok(Some(cpus))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_as_nginx_writes_it() {
        for s in ["off", "auto", "01 10", "0001 0010 0100 1000", "1111"] {
            assert_eq!(s.parse::<CpuAffinity>().unwrap().to_string(), s);
        }
        assert_eq!("10".parse::<CpuAffinity>().unwrap(), CpuAffinity::Masks(vec![vec![1]]));
        for bad in ["", "  ", "2", "01 x", "00", "on"] {
            assert!(bad.parse::<CpuAffinity>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn auto_deals_out_the_allowed_cpus() {
        let a = CpuAffinity::Auto;
        let got: Vec<_> = (0..5).map(|w| a.cpus_for(w, &[1, 3]).unwrap()).collect();
        assert_eq!(got, vec![vec![1], vec![3], vec![1], vec![3], vec![1]]);
        assert_eq!(a.cpus_for(0, &[]), None);
    }
}
