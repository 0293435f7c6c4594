//! The annotated item: `[attributes] [visibility] async fn NAME() [-> RET]
//! [where ...] { BODY }`, split into the pieces the expansion rearranges.

use crate::error::Error;
use proc_macro::{Delimiter, Group, Span, TokenStream, TokenTree};

/// An `async fn` split at the points the expansion changes. Every piece
/// keeps the user's tokens, and so their spans.
#[derive(Debug)]
pub(crate) struct Function {
    /// The outer attributes, each `#` followed by its `[...]` group.
    pub(crate) attrs: Vec<Attribute>,
    /// Visibility and qualifiers before `fn` (`pub`, `pub(crate)`,
    /// `unsafe`, ...), without `async`.
    pub(crate) qualifiers: Vec<TokenTree>,
    /// Whether `async` was among the qualifiers.
    pub(crate) is_async: bool,
    /// `fn`, the name and any generics: the signature before the argument
    /// list.
    pub(crate) head: Vec<TokenTree>,
    /// The span of the `fn` keyword.
    pub(crate) fn_span: Span,
    /// The `<` that opens generic parameters, if any.
    pub(crate) generics: Option<Span>,
    /// The argument list `( ... )`.
    pub(crate) args: Group,
    /// The signature after the argument list: the return type and a `where`
    /// clause.
    pub(crate) tail: Vec<TokenTree>,
    /// The `{ BODY }` group.
    pub(crate) body: Group,
}

/// An outer attribute: the `#` and its bracket group.
#[derive(Debug)]
pub(crate) struct Attribute {
    pub(crate) pound: TokenTree,
    pub(crate) group: Group,
}

impl Attribute {
    /// The attribute's tokens, `#[...]`.
    pub(crate) fn tokens(&self) -> [TokenTree; 2] {
        [self.pound.clone(), TokenTree::Group(self.group.clone())]
    }

    /// Whether this is the built-in `#[test]`: `test` alone, or a
    /// `core`/`std` prelude path to it, as `#[::core::prelude::v1::test]`
    /// (the check tokio does).
    pub(crate) fn is_test(&self) -> bool {
        let mut segments = Vec::new();
        let mut leading_colon = false;
        let mut expect_ident = true;
        let mut tokens = self.group.stream().into_iter().peekable();
        while let Some(tt) = tokens.next() {
            match tt {
                TokenTree::Ident(ident) if expect_ident => {
                    segments.push(ident.to_string());
                    expect_ident = false;
                }
                TokenTree::Punct(p) if p.as_char() == ':' && !expect_ident => match tokens.next() {
                    Some(TokenTree::Punct(q)) if q.as_char() == ':' => expect_ident = true,
                    _ => return false,
                },
                TokenTree::Punct(p) if p.as_char() == ':' && segments.is_empty() && !leading_colon => {
                    match tokens.next() {
                        Some(TokenTree::Punct(q)) if q.as_char() == ':' => leading_colon = true,
                        _ => return false,
                    }
                }
                // Arguments (`#[test(...)]`, `#[test = ...]`) or anything else:
                // not the plain test attribute.
                _ => return false,
            }
        }
        if expect_ident {
            return false;
        }
        match segments.as_slice() {
            [only] => !leading_colon && only == "test",
            [root, prelude, _edition, test] => {
                (root == "core" || root == "std") && prelude == "prelude" && test == "test"
            }
            _ => false,
        }
    }
}

/// What the attribute is on, for the messages.
const NOT_A_FUNCTION: &str = "expected an `async fn` item";

impl Function {
    /// Splits `item`. Errors only when it is not a function with a body;
    /// the rules of the macros (async, no arguments, no generics) are
    /// checked by the caller, which still has the pieces to emit a stub.
    pub(crate) fn parse(item: TokenStream) -> Result<Function, Error> {
        let mut tokens = item.into_iter().peekable();
        let mut attrs = Vec::new();
        while let Some(TokenTree::Punct(p)) = tokens.peek() {
            if p.as_char() != '#' {
                break;
            }
            let pound = tokens.next().expect("peeked");
            match tokens.next() {
                Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Bracket => {
                    attrs.push(Attribute { pound, group });
                }
                Some(other) => return Err(Error::new(other.span(), "expected an attribute after `#`")),
                None => return Err(Error::new(pound.span(), NOT_A_FUNCTION)),
            }
        }

        let mut qualifiers = Vec::new();
        let mut is_async = false;
        let fn_span = loop {
            match tokens.next() {
                Some(TokenTree::Ident(ident)) if ident.to_string() == "fn" => {
                    let span = ident.span();
                    qualifiers.push(TokenTree::Ident(ident));
                    break span;
                }
                Some(TokenTree::Ident(ident)) if ident.to_string() == "async" => is_async = true,
                Some(tt) => qualifiers.push(tt),
                None => return Err(Error::new(Span::call_site(), NOT_A_FUNCTION)),
            }
        };
        // `fn` starts the signature.
        let mut head = vec![qualifiers.pop().expect("`fn` was pushed")];

        match tokens.next() {
            Some(name @ TokenTree::Ident(_)) => head.push(name),
            Some(other) => return Err(Error::new(other.span(), "expected the function's name")),
            None => return Err(Error::new(fn_span, "expected the function's name")),
        }
        let generics = match tokens.peek() {
            Some(TokenTree::Punct(p)) if p.as_char() == '<' => Some(p.span()),
            _ => None,
        };
        // Up to the argument list. With generics (an error the caller
        // reports) a bound's `Fn()` may be taken for it; the stub emitted
        // alongside the error keeps the tokens as written either way.
        let args = loop {
            match tokens.next() {
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => break g,
                Some(tt) => head.push(tt),
                None => return Err(Error::new(fn_span, "expected the function's argument list")),
            }
        };

        let mut tail: Vec<TokenTree> = tokens.collect();
        let body = match tail.pop() {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g,
            Some(other) => return Err(Error::new(other.span(), "expected the function's body `{ ... }`")),
            None => return Err(Error::new(args.span(), "expected the function's body `{ ... }`")),
        };
        Ok(Function { attrs, qualifiers, is_async, head, fn_span, generics, args, tail, body })
    }
}
