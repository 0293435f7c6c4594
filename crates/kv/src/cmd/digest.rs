//! DEBUG DIGEST and DEBUG DIGEST-VALUE: a SHA-1 digest of the dataset or
//! of single values, computed exactly as Redis's `computeDatasetDigest`
//! does, so that the digest of a dataset here equals redis-server's for
//! the same data. Test suites (Redis's own among them) compare digests
//! before and after a reload to check that nothing was lost or changed.
//!
//! How it mixes: `xor(d, data)` XORs SHA1(data) into `d`, which makes the
//! result independent of order (set members, hash fields, the keys of a
//! database); `mix(d, data)` sets `d = SHA1(d xor SHA1(data))`, which
//! makes it depend on order (list elements, a key and then its value).

use super::Ctx;
use crate::db::{Db, Entry, Value};

type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    sha1_smol::Sha1::from(data).digest().bytes()
}

/// Redis's `xorDigest`.
fn xor(d: &mut Digest, data: &[u8]) {
    for (a, b) in d.iter_mut().zip(sha1(data)) {
        *a ^= b;
    }
}

/// Redis's `mixDigest`.
fn mix(d: &mut Digest, data: &[u8]) {
    xor(d, data);
    *d = sha1(d);
}

fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Redis's type codes, which the digest mixes in.
fn type_code(v: &Value) -> u32 {
    match v {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
    }
}

/// Redis's `xorObjectDigest`: the value's type and contents, and whether
/// the key has a deadline, into `d`.
fn value_digest(d: &mut Digest, e: &Entry) {
    mix(d, &type_code(&e.value).to_be_bytes());
    match &e.value {
        Value::Str(s) => mix(d, &s.to_vec()),
        Value::List(l) => {
            for item in crate::persist::convert::listzset::list_items(l) {
                mix(d, &item);
            }
        }
        Value::Set(s) => {
            for m in s.iter() {
                xor(d, &m);
            }
        }
        Value::ZSet(z) => {
            for (member, score) in crate::persist::convert::listzset::zset_pairs(z) {
                let mut ed = Digest::default();
                mix(&mut ed, &member);
                mix(&mut ed, format_g17(score).as_bytes());
                xor(d, &ed);
            }
        }
        Value::Hash(h) => {
            for (f, v) in h.iter() {
                let mut ed = Digest::default();
                mix(&mut ed, f);
                mix(&mut ed, v);
                xor(d, &ed);
            }
        }
    }
    if e.has_ttl() {
        xor(d, b"!!expire!!");
    }
}

/// Redis's `computeDatasetDigest`: forty zeros for an empty dataset.
fn dataset_digest(dbs: &[Db]) -> Digest {
    let mut total = Digest::default();
    for db in dbs.iter().filter(|db| !db.is_empty()) {
        mix(&mut total, &(db.id as u32).to_be_bytes());
        for (k, e) in db.keys.iter() {
            let mut d = Digest::default();
            mix(&mut d, k);
            value_digest(&mut d, e);
            xor(&mut total, &d);
        }
    }
    total
}

/// DEBUG DIGEST: the dataset's digest, as a status reply.
pub fn digest(ctx: &mut Ctx<'_>) {
    let d = dataset_digest(&ctx.srv.dbs);
    ctx.reply().simple(&hex(&d));
}

/// DEBUG DIGEST-VALUE key...: each value's digest (forty zeros for a key
/// that does not exist). As in Redis, a key past its deadline but not yet
/// deleted still counts.
pub fn digest_value(ctx: &mut Ctx<'_>) {
    let n = ctx.argc() - 2;
    let digests: Vec<String> = (2..ctx.argc())
        .map(|i| {
            let mut d = Digest::default();
            if let Some(e) = ctx.srv.dbs[ctx.c.db].keys.get(ctx.arg(i)) {
                value_digest(&mut d, e);
            }
            hex(&d)
        })
        .collect();
    let mut r = ctx.reply();
    r.array_len(n);
    for d in digests {
        r.simple(&d);
    }
}

/// A double as C's `printf("%.17g")` writes it (Redis formats sorted-set
/// scores so for the digest): 17 significant digits, trailing zeros
/// removed, exponent form below 1e-4 and from 1e17.
pub fn format_g17(x: f64) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // 17 significant digits: d.dddddddddddddddde±X.
    let sci = format!("{x:.16e}");
    let (mantissa, exp) = sci.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("an exponent");
    if !(-4..17).contains(&exp) {
        let m = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (16 - exp).max(0) as usize;
    strip_zeros(&format!("{x:.decimals$}")).to_string()
}

/// Drops trailing zeros after a decimal point, and the point if nothing
/// is left after it.
fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_printf_percent_17g() {
        // Python's '%.17g' % x gives these.
        for (x, want) in [
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (-2.0, "-2"),
            (1e17, "1e+17"),
            (1e16, "10000000000000000"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (1e-300, "1e-300"),
            (3.0e100, "2.9999999999999999e+100"),
            (f64::MAX, "1.7976931348623157e+308"),
            (1.0 / 3.0, "0.33333333333333331"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(format_g17(x), want, "{x}");
        }
    }

    #[test]
    fn mixing_depends_on_order_and_xor_does_not() {
        let (mut a, mut b) = (Digest::default(), Digest::default());
        mix(&mut a, b"x");
        mix(&mut a, b"y");
        mix(&mut b, b"y");
        mix(&mut b, b"x");
        assert_ne!(a, b);
        let (mut a, mut b) = (Digest::default(), Digest::default());
        xor(&mut a, b"x");
        xor(&mut a, b"y");
        xor(&mut b, b"y");
        xor(&mut b, b"x");
        assert_eq!(a, b);
    }
}
