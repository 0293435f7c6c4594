//! `select!`: parses tokio's branch grammar from token trees and expands to
//! a `poll_fn` over pinned futures plus one `match` that runs the handler
//! outside any closure or loop of ours (so `break`, `continue`, `return`,
//! `?` and `.await` in a handler mean what they mean around the macro).

use crate::error::Error;
use proc_macro::{Delimiter, Group, Spacing, Span, TokenStream, TokenTree};

/// One `<pattern> = <future>, if <condition> => <handler>` branch.
struct Branch {
    pattern: Vec<TokenTree>,
    future: Vec<TokenTree>,
    condition: Option<Vec<TokenTree>>,
    handler: Vec<TokenTree>,
}

/// Everything between the macro's delimiters.
struct Select {
    biased: bool,
    branches: Vec<Branch>,
    otherwise: Option<Vec<TokenTree>>,
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match parse(input.into_iter().collect()) {
        Ok(select) => generate(&select),
        Err(e) => e.to_compile_error(),
    }
}

fn is_punct(t: Option<&TokenTree>, c: char) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

fn is_ident(t: Option<&TokenTree>, name: &str) -> bool {
    matches!(t, Some(TokenTree::Ident(i)) if i.to_string() == name)
}

/// Whether `tokens[i..]` starts with `=>`.
fn fat_arrow_at(tokens: &[TokenTree], i: usize) -> bool {
    matches!(&tokens[i], TokenTree::Punct(p) if p.as_char() == '=' && p.spacing() == Spacing::Joint)
        && is_punct(tokens.get(i + 1), '>')
}

fn parse(tokens: Vec<TokenTree>) -> Result<Select, Error> {
    let mut i = 0;
    let mut biased = false;
    if is_ident(tokens.first(), "biased") && is_punct(tokens.get(1), ';') {
        biased = true;
        i = 2;
    }
    let mut branches = Vec::new();
    let mut otherwise = None;
    while i < tokens.len() {
        if is_ident(tokens.get(i), "else") {
            if !(i + 2 < tokens.len() && fat_arrow_at(&tokens, i + 1)) {
                return Err(Error::new(tokens[i].span(), "expected `else => <expression>`"));
            }
            let (handler, next) = handler(&tokens, i + 3)?;
            if otherwise.replace(handler).is_some() {
                return Err(Error::new(tokens[i].span(), "`select!` takes one `else` branch"));
            }
            i = next;
            continue;
        }
        // The pattern: up to a lone `=` (not part of `=>`, `==`, `..=`, ...).
        let start = i;
        while i < tokens.len() {
            if let TokenTree::Punct(p) = &tokens[i] {
                let glued = i > start
                    && matches!(&tokens[i - 1], TokenTree::Punct(q) if q.spacing() == Spacing::Joint);
                if p.as_char() == '=' && p.spacing() == Spacing::Alone && !glued {
                    break;
                }
            }
            i += 1;
        }
        if i == tokens.len() || i == start {
            let span = tokens.get(start).map_or_else(Span::call_site, TokenTree::span);
            return Err(Error::new(span, "expected `<pattern> = <future> => <handler>`"));
        }
        let pattern = tokens[start..i].to_vec();
        i += 1;
        // The future: up to `=>`, or `, if`.
        let start = i;
        while i < tokens.len()
            && !fat_arrow_at(&tokens, i)
            && !(is_punct(tokens.get(i), ',') && is_ident(tokens.get(i + 1), "if"))
        {
            i += 1;
        }
        if i == tokens.len() || i == start {
            return Err(Error::new(tokens[start - 1].span(), "expected `<future> => <handler>` after `=`"));
        }
        let future = tokens[start..i].to_vec();
        let condition = if is_punct(tokens.get(i), ',') {
            let start = i + 2;
            i = start;
            while i < tokens.len() && !fat_arrow_at(&tokens, i) {
                i += 1;
            }
            if i == tokens.len() || i == start {
                return Err(Error::new(tokens[start - 1].span(), "expected `if <condition> => <handler>`"));
            }
            Some(tokens[start..i].to_vec())
        } else {
            None
        };
        let (handler, next) = handler(&tokens, i + 2)?;
        i = next;
        branches.push(Branch { pattern, future, condition, handler });
    }
    if branches.is_empty() {
        return Err(Error::new(
            Span::call_site(),
            "`select!` needs at least one `<pattern> = <future> => <handler>` branch",
        ));
    }
    Ok(Select { biased, branches, otherwise })
}

/// A handler starting at `i`: a block (an optional comma after it), or an
/// expression up to the next top-level comma. Returns it and where the next
/// branch starts.
fn handler(tokens: &[TokenTree], i: usize) -> Result<(Vec<TokenTree>, usize), Error> {
    let Some(first) = tokens.get(i) else {
        let span = tokens.last().map_or_else(Span::call_site, TokenTree::span);
        return Err(Error::new(span, "expected a handler after `=>`"));
    };
    if let TokenTree::Group(g) = first {
        if g.delimiter() == Delimiter::Brace && (i + 1 == tokens.len() || is_punct(tokens.get(i + 1), ',')) {
            return Ok((vec![first.clone()], (i + 2).min(tokens.len())));
        }
        if g.delimiter() == Delimiter::Brace
            && !is_punct(tokens.get(i + 1), '.')
            && !is_punct(tokens.get(i + 1), '?')
        {
            // `=> { ... }` followed by the next branch, without a comma.
            return Ok((vec![first.clone()], i + 1));
        }
    }
    let mut end = i;
    while end < tokens.len() && !is_punct(tokens.get(end), ',') {
        end += 1;
    }
    Ok((tokens[i..end].to_vec(), (end + 1).min(tokens.len())))
}

/// Replaces each identifier `__spindle_slot_<k>` in `template` (searched
/// inside groups too) by `slots[k]`: the expansion is written as plain
/// code with holes, and the caller's tokens (with their spans) fill them.
fn fill(template: TokenStream, slots: &[TokenStream]) -> TokenStream {
    let mut out = TokenStream::new();
    for t in template {
        match t {
            TokenTree::Ident(i) if i.to_string().starts_with("__spindle_slot_") => {
                let k: usize = i.to_string()["__spindle_slot_".len()..].parse().expect("a slot number");
                out.extend(slots[k].clone());
            }
            TokenTree::Group(g) => {
                let mut filled = Group::new(g.delimiter(), fill(g.stream(), slots));
                filled.set_span(g.span());
                out.extend(TokenStream::from(TokenTree::Group(filled)));
            }
            other => out.extend(TokenStream::from(other)),
        }
    }
    out
}

fn stream(tokens: &[TokenTree]) -> TokenStream {
    tokens.iter().cloned().collect()
}

/// The pattern with `mut` and `ref` taken out, for a test against a
/// reference to the output (which must not move or bind anything).
fn clean(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .filter(|t| !matches!(t, TokenTree::Ident(i) if matches!(i.to_string().as_str(), "mut" | "ref")))
        .map(|t| match t {
            TokenTree::Group(g) => {
                let mut cleaned = Group::new(g.delimiter(), clean(g.stream()));
                cleaned.set_span(g.span());
                TokenTree::Group(cleaned)
            }
            other => other,
        })
        .collect()
}

fn generate(select: &Select) -> TokenStream {
    let n = select.branches.len();
    let mut slots: Vec<TokenStream> = Vec::new();
    let mut slot = |tokens: TokenStream| {
        slots.push(tokens);
        format!("__spindle_slot_{}", slots.len() - 1)
    };
    // The enum first; then, in an inner block whose end drops every future
    // (so a handler may use what the futures borrowed, as in tokio), the
    // conditions, then every future (a disabled branch's too), in
    // order, as tokio evaluates them.
    let params: Vec<String> = (0..n).map(|k| format!("T{k}")).collect();
    let variants: Vec<String> = (0..n).map(|k| format!("_{k}(T{k})")).collect();
    let mut text = format!(
        "{{ #[allow(dead_code)] enum __SpindleSelectOut<{}> {{ {}, Disabled }}
         let __spindle_select_out = {{",
        params.join(", "),
        variants.join(", ")
    );
    text.push_str(&format!("let mut __spindle_select_disabled: [bool; {n}] = ["));
    for b in &select.branches {
        let cond = b.condition.as_deref().map_or_else(|| "true".to_string(), |c| slot(stream(c)));
        text.push_str(&format!("!({cond}),"));
    }
    text.push_str("];");
    for (k, b) in select.branches.iter().enumerate() {
        let future = slot(stream(&b.future));
        text.push_str(&format!("let mut __spindle_select_fut{k} = ::core::pin::pin!({future});"));
    }
    let start = if select.biased || n == 1 {
        "0".to_string()
    } else {
        format!("::spindle_rt::macros_support::select_start({n})")
    };
    // (No `% 1` for one branch: clippy would flag it in the caller's code.)
    let index = if n == 1 { "__i".to_string() } else { format!("(__spindle_select_start + __i) % {n}") };
    // The poll: from the start branch round, the first ready output whose
    // pattern matches wins; an output that does not match disables its
    // branch for the rest of this select.
    text.push_str(&format!(
        "let __spindle_select_start: usize = {start};
         ::core::future::poll_fn(|__cx| {{
             let mut __spindle_select_pending = false;
             for __i in 0..{n} {{
                 match {index} {{"
    ));
    for (k, b) in select.branches.iter().enumerate() {
        let test = slot(clean(stream(&b.pattern)));
        text.push_str(&format!(
            "{k} => {{
                 if __spindle_select_disabled[{k}] {{ continue; }}
                 match ::core::future::Future::poll(__spindle_select_fut{k}.as_mut(), __cx) {{
                     ::core::task::Poll::Pending => __spindle_select_pending = true,
                     ::core::task::Poll::Ready(__spindle_select_v) => {{
                         #[allow(unused_variables, unreachable_patterns)]
                         match &__spindle_select_v {{
                             {test} => {{}}
                             _ => {{ __spindle_select_disabled[{k}] = true; continue; }}
                         }}
                         return ::core::task::Poll::Ready(__SpindleSelectOut::_{k}(__spindle_select_v));
                     }}
                 }}
             }}"
        ));
    }
    text.push_str(
        "_ => ::core::unreachable!(),
                 }
             }
             if __spindle_select_pending {
                 ::core::task::Poll::Pending
             } else {
                 ::core::task::Poll::Ready(__SpindleSelectOut::Disabled)
             }
         }).await
         };
         #[allow(unreachable_patterns)]
         match __spindle_select_out {",
    );
    for (k, b) in select.branches.iter().enumerate() {
        let pattern = slot(stream(&b.pattern));
        let handler = slot(stream(&b.handler));
        text.push_str(&format!("__SpindleSelectOut::_{k}({pattern}) => {{ {handler} }}"));
    }
    let otherwise = match &select.otherwise {
        Some(h) => slot(stream(h)),
        None => "::core::panic!(\"all branches are disabled and there is no else branch\")".to_string(),
    };
    text.push_str(&format!(
        "__SpindleSelectOut::Disabled => {{ {otherwise} }}
         _ => ::core::unreachable!(\"a select! output matched its pattern when polled\"),
         }}
         }}"
    ));
    fill(text.parse().expect("the macro's own code parses"), &slots)
}
