//! The expansion: check the function, then swap its body for one that
//! builds a runtime and runs the original body on it.

use crate::args::{self, Config, Flavor};
use crate::error::Error;
use crate::item::Function;
use proc_macro::{Delimiter, Group, Span, TokenStream, TokenTree};

/// Which macro is expanding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "main",
            Kind::Test => "test",
        }
    }
}

/// The message `Runtime` building failures panic with.
const BUILD_FAILED: &str = "failed to build the spindle-rt runtime";

/// Expands `#[spindle_rt::main(args)]` or `#[spindle_rt::test(args)]` on
/// `item`. On an error, emits the `compile_error!` and a stub of the
/// function (no `async`, no arguments, body `loop {}`), so that the one
/// error is all the user sees: no "`main` function not found" or
/// "`main` is not allowed to be `async`" after it.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match Function::parse(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    match check(kind, args, &function) {
        Ok(config) => generate(kind, &config, function),
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(stub(function));
            out
        }
    }
}

/// The macros' rules, each error at the offending token.
fn check(kind: Kind, args: TokenStream, function: &Function) -> Result<Config, Error> {
    if !function.is_async {
        return Err(Error::new(
            function.fn_span,
            "the `async` keyword is missing from the function declaration",
        ));
    }
    let config = args::parse(args, kind.name())?;
    if let Some(span) = function.generics {
        return Err(Error::new(span, format!("the {} function cannot have generic parameters", kind.name())));
    }
    if !function.args.stream().is_empty() {
        return Err(Error::new(
            function.args.span(),
            format!("the {} function cannot accept arguments", kind.name()),
        ));
    }
    if kind == Kind::Test {
        if let Some(attr) = function.attrs.iter().find(|a| a.is_test()) {
            return Err(Error::new(
                attr.group.span(),
                "second test attribute is supplied, consider removing it",
            ));
        }
    }
    Ok(config)
}

/// The function with its new body:
///
/// ```text
/// ATTRS [#[::core::prelude::v1::test]] QUALIFIERS fn NAME() -> RET {
///     let body = async move BODY;
///     ::spindle_rt::Builder::new_current_thread()
///         .build()
///         .expect("failed to build the spindle-rt runtime")
///         .block_on(body)
/// }
/// ```
fn generate(kind: Kind, config: &Config, function: Function) -> TokenStream {
    let mut out = TokenStream::new();
    for attr in &function.attrs {
        out.extend(attr.tokens());
    }
    if kind == Kind::Test {
        out.extend(parse("#[::core::prelude::v1::test]", Span::call_site()));
    }
    out.extend(function.qualifiers);
    out.extend(function.head);
    out.extend([TokenTree::Group(function.args)]);
    out.extend(function.tail);

    // The generated tokens sit at the body (so a type error in the output
    // points there) with mixed-site hygiene: `body` cannot clash with the
    // user's names, while `::spindle_rt` resolves where the macro is used.
    let span = function.body.span().resolved_at(Span::mixed_site());
    let mut builder = match (config.flavor, &config.worker_threads) {
        (Flavor::CurrentThread, _) => "new_current_thread()".to_owned(),
        (Flavor::MultiThread, None) => "new_multi_thread()".to_owned(),
        (Flavor::MultiThread, Some(n)) => format!("new_multi_thread().worker_threads({n})"),
    };
    if config.start_paused {
        builder.push_str(".start_paused(true)");
    }
    let mut block = parse("let body = async move", span);
    block.extend([TokenTree::Group(function.body)]);
    block.extend(parse(
        &format!("; ::spindle_rt::Builder::{builder}.build().expect({BUILD_FAILED:?}).block_on(body)"),
        span,
    ));
    let mut group = Group::new(Delimiter::Brace, block);
    group.set_span(span);
    out.extend([TokenTree::Group(group)]);
    out
}

/// The function as a plain `fn` without arguments and with the body
/// `loop {}`: it type-checks whatever the return type, so the macro's
/// `compile_error!` stands alone.
fn stub(function: Function) -> TokenStream {
    let mut out = TokenStream::new();
    for attr in &function.attrs {
        out.extend(attr.tokens());
    }
    out.extend(parse("#[allow(dead_code)]", Span::call_site()));
    out.extend(function.qualifiers);
    // Without the arguments: for `main(args)`, rustc would add "`main`
    // function has wrong type" to the macro's error.
    out.extend(function.head);
    let mut args = Group::new(Delimiter::Parenthesis, TokenStream::new());
    args.set_span(function.args.span());
    out.extend([TokenTree::Group(args)]);
    out.extend(function.tail);
    let mut body = Group::new(Delimiter::Brace, parse("loop {}", function.body.span()));
    body.set_span(function.body.span());
    out.extend([TokenTree::Group(body)]);
    out
}

/// Tokens of a fixed fragment, every one at `span`.
fn parse(code: &str, span: Span) -> TokenStream {
    let tokens: TokenStream = code.parse().expect("the macros' own code fragments parse");
    respan(tokens, span)
}

fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut inner = Group::new(g.delimiter(), respan(g.stream(), span));
                inner.set_span(span);
                tt = TokenTree::Group(inner);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}
