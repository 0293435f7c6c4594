//! The attribute's arguments: `key = literal` pairs separated by commas.

use crate::error::Error;
use proc_macro::{Delimiter, Literal, Span, TokenStream, TokenTree};

/// Which runtime the generated code builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Builder::new_current_thread()`: `test`'s default.
    CurrentThread,
    /// `Builder::new_multi_thread()`: `main`'s default, as in tokio.
    MultiThread,
}

/// The parsed arguments of `#[spindle_rt::main(...)]` or
/// `#[spindle_rt::test(...)]`.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) flavor: Flavor,
    /// `worker_threads = N`: the literal as written (it is emitted as is, so
    /// `2usize` stays `2usize`), only with the multi-thread flavor.
    pub(crate) worker_threads: Option<Literal>,
    /// `start_paused = true`: the runtime's clock starts paused (only with
    /// the current-thread flavor).
    pub(crate) start_paused: bool,
}

const KEYS: &str = "expected `flavor`, `worker_threads` or `start_paused`";
const BOOL: &str = "`start_paused` expects `true` or `false`";
const FLAVORS: &str = "expected `\"current_thread\"` or `\"multi_thread\"`";
const SHAPE: &str = "expected `key = value` pairs separated by commas, e.g. `flavor = \"multi_thread\"`";

/// Parses the attribute's arguments. `macro_name` (`main` or `test`) goes
/// into the messages that suggest a fix.
pub(crate) fn parse(args: TokenStream, macro_name: &str) -> Result<Config, Error> {
    let tokens = flatten(args);
    let mut flavor: Option<(Flavor, Span)> = None;
    let mut workers: Option<(Literal, Span)> = None;
    let mut paused: Option<(bool, Span)> = None;
    let mut i = 0;
    while i < tokens.len() {
        let key = match &tokens[i] {
            TokenTree::Ident(key) => key,
            other => return Err(Error::new(other.span(), SHAPE)),
        };
        let name = key.to_string();
        match tokens.get(i + 1) {
            Some(TokenTree::Punct(p)) if p.as_char() == '=' => {}
            Some(other) => return Err(Error::new(other.span(), SHAPE)),
            None => return Err(Error::new(key.span(), format!("`{name}` needs a value: {SHAPE}"))),
        }
        let value = match tokens.get(i + 2) {
            Some(tt @ (TokenTree::Literal(_) | TokenTree::Ident(_))) => tt,
            Some(other) => return Err(Error::new(other.span(), expected_value(&name))),
            None => return Err(Error::new(tokens[i + 1].span(), format!("`{name}` needs a value"))),
        };
        match (name.as_str(), value) {
            ("flavor", TokenTree::Literal(value)) => {
                if flavor.is_some() {
                    return Err(Error::new(key.span(), "`flavor` is given more than once"));
                }
                flavor = Some((parse_flavor(value)?, key.span()));
            }
            ("worker_threads", TokenTree::Literal(value)) => {
                if workers.is_some() {
                    return Err(Error::new(key.span(), "`worker_threads` is given more than once"));
                }
                check_worker_threads(value)?;
                workers = Some((value.clone(), key.span()));
            }
            // `true` and `false` are identifiers to the tokenizer.
            ("start_paused", TokenTree::Ident(value)) => {
                if paused.is_some() {
                    return Err(Error::new(key.span(), "`start_paused` is given more than once"));
                }
                paused = Some((parse_bool(value)?, key.span()));
            }
            ("flavor" | "worker_threads" | "start_paused", other) => {
                return Err(Error::new(other.span(), expected_value(&name)))
            }
            _ => return Err(Error::new(key.span(), format!("unknown attribute argument `{name}`: {KEYS}"))),
        }
        i += 3;
        match tokens.get(i) {
            None => {}
            Some(TokenTree::Punct(p)) if p.as_char() == ',' => i += 1,
            Some(other) => return Err(Error::new(other.span(), SHAPE)),
        }
    }
    // tokio's defaults: `main` runs a server (multi-thread), `test` one
    // test (current-thread); a port keeps its meaning with no argument.
    let default = if macro_name == "main" { Flavor::MultiThread } else { Flavor::CurrentThread };
    let flavor = flavor.map_or(default, |(f, _)| f);
    if let (Flavor::CurrentThread, Some((_, span))) = (flavor, &workers) {
        return Err(Error::new(
            *span,
            format!(
                "`worker_threads` needs the multi-thread runtime: write \
                 `#[spindle_rt::{macro_name}(flavor = \"multi_thread\", worker_threads = N)]`"
            ),
        ));
    }
    if let (Flavor::MultiThread, Some((true, span))) = (flavor, paused) {
        return Err(Error::new(
            span,
            format!(
                "`start_paused` needs the current-thread runtime, the only one whose clock can be \
                 paused: write `#[spindle_rt::{macro_name}(flavor = \"current_thread\", start_paused = true)]`"
            ),
        ));
    }
    Ok(Config {
        flavor,
        worker_threads: workers.map(|(lit, _)| lit),
        start_paused: paused.is_some_and(|(b, _)| b),
    })
}

fn parse_bool(ident: &proc_macro::Ident) -> Result<bool, Error> {
    match ident.to_string().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(Error::new(ident.span(), format!("{BOOL}, not `{other}`"))),
    }
}

/// The argument tokens, with invisible groups (a `$value:literal` passed
/// through a `macro_rules!` macro) opened.
fn flatten(args: TokenStream) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for tt in args {
        match tt {
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => out.extend(flatten(g.stream())),
            tt => out.push(tt),
        }
    }
    out
}

/// What `key` takes, for a value that is not a literal.
fn expected_value(key: &str) -> String {
    match key {
        "flavor" => format!("`flavor` expects a string: {FLAVORS}"),
        "worker_threads" => {
            "`worker_threads` expects a positive integer literal, e.g. `worker_threads = 2`".into()
        }
        "start_paused" => BOOL.into(),
        _ => format!("unknown attribute argument `{key}`: {KEYS}"),
    }
}

fn parse_flavor(lit: &Literal) -> Result<Flavor, Error> {
    let text = lit.to_string();
    let Some(value) = string_value(&text) else {
        return Err(Error::new(lit.span(), expected_value("flavor")));
    };
    match value {
        "current_thread" => Ok(Flavor::CurrentThread),
        "multi_thread" => Ok(Flavor::MultiThread),
        _ => Err(Error::new(lit.span(), format!("unknown runtime flavor `{text}`: {FLAVORS}"))),
    }
}

/// The contents of a plain or raw string literal without escapes (a flavor
/// name has none); `None` for anything else.
fn string_value(text: &str) -> Option<&str> {
    let raw = text.strip_prefix('r').map(|t| t.trim_matches('#'));
    raw.unwrap_or(text).strip_prefix('"')?.strip_suffix('"')
}

/// `worker_threads` takes a positive integer literal: digits, optional
/// underscores, and no suffix but `usize`.
fn check_worker_threads(lit: &Literal) -> Result<(), Error> {
    let text = lit.to_string();
    let digits = text.strip_suffix("usize").unwrap_or(&text).replace('_', "");
    match digits.parse::<u64>() {
        Ok(n) if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(Error::new(
            lit.span(),
            format!("`worker_threads` expects a positive integer literal, e.g. `worker_threads = 2`, not `{text}`"),
        )),
    }
}
