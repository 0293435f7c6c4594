use super::*;
use proptest::prelude::*;

type Cmd = Vec<Vec<u8>>;

fn limits() -> Limits {
    Limits::default()
}

/// Feeds `input` as a server would (whole buffer, draining consumed bytes)
/// and returns every non-empty command, or the first error.
fn parse_all_with(input: &[u8], limits: &Limits) -> Result<(Vec<Cmd>, usize), ProtocolError> {
    let mut p = RequestParser::new();
    let mut buf = input.to_vec();
    let mut cmds = Vec::new();
    while let Some(n) = p.parse(&mut buf, limits)? {
        assert!(n > 0);
        if !p.args().is_empty() {
            cmds.push(p.args().iter().map(|r| buf[r.clone()].to_vec()).collect());
        }
        buf.drain(..n);
    }
    Ok((cmds, buf.len()))
}

fn parse_all(input: &[u8]) -> Result<Vec<Cmd>, ProtocolError> {
    parse_all_with(input, &limits()).map(|(c, _)| c)
}

/// Feeds `input` one more byte at a time (the buffer grows by one byte per
/// call, as when every read returns a single byte).
fn parse_bytewise(input: &[u8], limits: &Limits) -> Result<Vec<Cmd>, ProtocolError> {
    let mut p = RequestParser::new();
    let mut buf = Vec::new();
    let mut cmds = Vec::new();
    for &b in input {
        buf.push(b);
        while let Some(n) = p.parse(&mut buf, limits)? {
            if !p.args().is_empty() {
                cmds.push(p.args().iter().map(|r| buf[r.clone()].to_vec()).collect());
            }
            buf.drain(..n);
        }
    }
    Ok(cmds)
}

fn cmd(args: &[&str]) -> Cmd {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

fn err(input: &[u8]) -> ProtocolError {
    parse_all(input).unwrap_err()
}

#[test]
fn multibulk_set() {
    let mut p = RequestParser::new();
    let mut buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n".to_vec();
    let n = p.parse(&mut buf, &limits()).unwrap().unwrap();
    assert_eq!(n, buf.len());
    let args: Vec<&[u8]> = p.args().iter().map(|r| &buf[r.clone()]).collect();
    assert_eq!(args, [&b"SET"[..], b"k", b"hello"]);
}

#[test]
fn inline_and_empty_commands() {
    assert_eq!(parse_all(b"PING\r\n").unwrap(), [cmd(&["PING"])]);
    assert_eq!(parse_all(b"set a  b\n").unwrap(), [cmd(&["set", "a", "b"])]);
    // Empty lines and empty multibulks are consumed and skipped.
    let mut p = RequestParser::new();
    for input in [&b"\r\n"[..], b"\n", b"   \r\n", b"*0\r\n", b"*-1\r\n", b"*-10\r\n"] {
        let mut buf = input.to_vec();
        assert_eq!(p.parse(&mut buf, &limits()), Ok(Some(input.len())));
        assert!(p.args().is_empty());
    }
}

#[test]
fn pipelined_commands() {
    let input = b"*1\r\n$4\r\nPING\r\nECHO hi\r\n*2\r\n$3\r\nGET\r\n$1\r\nx\r\n\r\n*0\r\nPING\n";
    let want = vec![cmd(&["PING"]), cmd(&["ECHO", "hi"]), cmd(&["GET", "x"]), cmd(&["PING"])];
    assert_eq!(parse_all(input).unwrap(), want);
    assert_eq!(parse_bytewise(input, &limits()).unwrap(), want);
}

#[test]
fn every_split_position_parses_the_same() {
    let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\nset \"a b\" 'c'\r\n";
    let want = parse_all(input).unwrap();
    assert_eq!(want.len(), 2);
    for cut in 0..=input.len() {
        // A prefix first, then the rest appended.
        let mut p = RequestParser::new();
        let mut buf = input[..cut].to_vec();
        let mut got = Vec::new();
        let mut feed = |p: &mut RequestParser, buf: &mut Vec<u8>| {
            while let Some(n) = p.parse(buf, &limits()).unwrap() {
                got.push(p.args().iter().map(|r| buf[r.clone()].to_vec()).collect::<Cmd>());
                buf.drain(..n);
            }
        };
        feed(&mut p, &mut buf);
        buf.extend_from_slice(&input[cut..]);
        feed(&mut p, &mut buf);
        assert_eq!(got, want, "cut at {cut}");
    }
    assert_eq!(parse_bytewise(input, &limits()).unwrap(), want);
}

#[test]
fn bulk_may_contain_crlf_and_binary() {
    let input = b"*2\r\n$4\r\na\r\nb\r\n$3\r\n\0\xff\n\r\n";
    assert_eq!(parse_all(input).unwrap(), [vec![b"a\r\nb".to_vec(), b"\0\xff\n".to_vec()]]);
}

#[test]
fn pending_bulk_counts_missing_bytes() {
    let mut p = RequestParser::new();
    let mut buf = b"*2\r\n$3\r\nGET\r\n$10\r\n0123".to_vec();
    assert_eq!(p.parse(&mut buf, &limits()), Ok(None));
    assert_eq!(p.pending_bulk(), Some(10 + 2 - 4));
    buf.extend_from_slice(b"456789\r\n");
    assert!(p.parse(&mut buf, &limits()).unwrap().is_some());
    assert_eq!(p.pending_bulk(), None);
}

/// What Redis keeps in its query buffer between reads: only the element
/// being read (the parsed arguments are in `argv`, `argv-mem`).
#[test]
fn element_start_is_where_redis_query_buffer_begins() {
    let mut p = RequestParser::new();
    let mut buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10".to_vec();
    assert_eq!(p.parse(&mut buf, &limits()), Ok(None));
    assert_eq!(buf.len() - p.element_start(), 3, "the length line being read");
    assert_eq!(p.partial_args_len(), 4);
    buf.extend_from_slice(b"\r\nabc");
    assert_eq!(p.parse(&mut buf, &limits()), Ok(None));
    assert_eq!(buf.len() - p.element_start(), 3, "the bulk's bytes so far");
    buf.extend_from_slice(b"defghij\r\n");
    assert!(p.parse(&mut buf, &limits()).unwrap().is_some());
    assert_eq!((p.element_start(), p.partial_args_len()), (0, 0), "between commands");
    let mut inline = b"SET k v".to_vec();
    assert_eq!(p.parse(&mut inline, &limits()), Ok(None));
    assert_eq!((p.element_start(), p.partial_args_len()), (0, 0), "an inline line is kept whole");
}

#[test]
fn trailing_bytes_after_bulk_are_not_checked() {
    // Redis skips the two bytes after a bulk without looking at them.
    assert_eq!(parse_all(b"*1\r\n$1\r\nxAB").unwrap(), [cmd(&["x"])]);
    // Nor does it check that '\r' is followed by '\n' in a length line.
    assert_eq!(parse_all(b"*1\r!$1\rZx\r\n").unwrap(), [cmd(&["x"])]);
}

#[test]
fn protocol_errors() {
    use ProtocolError::*;
    assert_eq!(err(b"*20000000000\r\n"), InvalidMultibulkLength);
    assert_eq!(err(b"*2147483648\r\n"), InvalidMultibulkLength);
    assert_eq!(err(b"*abc\r\n"), InvalidMultibulkLength);
    assert_eq!(err(b"*\r\n"), InvalidMultibulkLength);
    assert_eq!(err(b"*01\r\n"), InvalidMultibulkLength);
    assert_eq!(err(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"), ExpectedDollar(b'f'));
    assert_eq!(err(b"*1\r\nfoo\r\n"), ExpectedDollar(b'f'));
    assert_eq!(err(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n"), InvalidBulkLength);
    assert_eq!(err(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n"), InvalidBulkLength);
    assert_eq!(err(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n"), InvalidBulkLength);
    assert_eq!(err(b"*1\r\n$\r\n"), InvalidBulkLength);
    assert_eq!(err(b"set \"\"\"test-key\"\"\" test-value\r\n"), UnbalancedQuotes);
    assert_eq!(err(b"set \"abc\r\n"), UnbalancedQuotes);
    assert_eq!(err(b"set 'abc\r\n"), UnbalancedQuotes);
    assert_eq!(err(b"set \"a\"b\r\n"), UnbalancedQuotes);
    assert_eq!(err(b"set 'a'b\r\n"), UnbalancedQuotes);

    let small = Limits { max_bulk_len: 5, authenticated: true };
    let e = parse_all_with(b"*1\r\n$6\r\nabcdef\r\n", &small).unwrap_err();
    assert_eq!(e, InvalidBulkLength);
    assert!(parse_all_with(b"*1\r\n$5\r\nabcde\r\n", &small).is_ok());

    let unauth = Limits { authenticated: false, ..Limits::default() };
    let e = parse_all_with(b"*11\r\n", &unauth).unwrap_err();
    assert_eq!(e, UnauthenticatedMultibulkLength);
    assert!(parse_all_with(b"*10\r\n", &unauth).is_ok());
    let e = parse_all_with(b"*1\r\n$16385\r\n", &unauth).unwrap_err();
    assert_eq!(e, UnauthenticatedBulkLength);
    assert!(parse_all_with(b"*1\r\n$16384\r\n", &unauth).is_ok());
    // The count is checked for validity before authentication.
    let e = parse_all_with(b"*3000000000\r\n", &unauth).unwrap_err();
    assert_eq!(e, InvalidMultibulkLength);
}

#[test]
fn too_big_lines() {
    use ProtocolError::*;
    let mut line = vec![b'a'; INLINE_MAX_SIZE];
    assert_eq!(parse_all_with(&line, &limits()).unwrap().1, INLINE_MAX_SIZE);
    line.push(b'a');
    assert_eq!(parse_all(&line).unwrap_err(), TooBigInline);

    let mut count = vec![b'*'];
    count.resize(INLINE_MAX_SIZE + 1, b'1');
    assert_eq!(parse_all(&count).unwrap_err(), TooBigMbulkCount);

    let mut bulk = b"*1\r\n$".to_vec();
    bulk.resize(4 + INLINE_MAX_SIZE + 1, b'1');
    assert_eq!(parse_all(&bulk).unwrap_err(), TooBigBulkCount);
    bulk.pop();
    assert!(parse_all(&bulk).is_ok());
}

#[test]
fn error_texts() {
    use ProtocolError::*;
    let texts = [
        (TooBigInline, "Protocol error: too big inline request"),
        (UnbalancedQuotes, "Protocol error: unbalanced quotes in request"),
        (TooBigMbulkCount, "Protocol error: too big mbulk count string"),
        (InvalidMultibulkLength, "Protocol error: invalid multibulk length"),
        (UnauthenticatedMultibulkLength, "Protocol error: unauthenticated multibulk length"),
        (TooBigBulkCount, "Protocol error: too big bulk count string"),
        (ExpectedDollar(b'f'), "Protocol error: expected '$', got 'f'"),
        (ExpectedDollar(b'\r'), "Protocol error: expected '$', got ' '"),
        (InvalidBulkLength, "Protocol error: invalid bulk length"),
        (UnauthenticatedBulkLength, "Protocol error: unauthenticated bulk length"),
    ];
    for (e, text) in texts {
        assert_eq!(e.to_string(), text);
        assert_eq!(e.message_bytes(), text.as_bytes());
    }
    assert_eq!(ExpectedDollar(0xff).message_bytes(), b"Protocol error: expected '$', got '\xff'");
}

#[test]
fn inline_quoting() {
    let cases: &[(&[u8], &[&[u8]])] = &[
        (b"set \"a b\" c", &[b"set", b"a b", b"c"]),
        (b"\"\\x41\\x4a\\x4B\" x", &[b"AJK", b"x"]),
        (b"\"\\n\\r\\t\\b\\a\\\\\\\"\\q\"", &[b"\n\r\t\x08\x07\\\"q"]),
        (b"'it\\'s' 'a\\b'", &[b"it's", b"a\\b"]),
        (b"foo\"bar\"", &[b"foobar"]),
        (b"foo'bar' baz", &[b"foobar", b"baz"]),
        (b"\"\" ''", &[b"", b""]),
        (b"\"\\x4\"", &[b"x4"]),
        (b"\"\\xZZ\"", &[b"xZZ"]),
        (b"a\tb\rc", &[b"a", b"b", b"c"]),
        // \v and \f separate tokens only between them, not inside one.
        (b"\x0ba\x0cb\x0b", &[b"a\x0cb\x0b"]),
        (b"\"a\"\x0bb", &[b"a", b"b"]),
        (b"  lead   trail  ", &[b"lead", b"trail"]),
        // sdssplitargs stops at a NUL.
        (b"a b\0c d", &[b"a", b"b"]),
    ];
    for (line, want) in cases {
        let mut input = line.to_vec();
        input.extend_from_slice(b"\r\n");
        let got = parse_all(&input).unwrap();
        let want: Vec<Vec<u8>> = want.iter().map(|a| a.to_vec()).collect();
        let got = got.into_iter().next().unwrap_or_default();
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(line));
    }
    assert_eq!(err(b"\"\\\"\r\n"), ProtocolError::UnbalancedQuotes);
    assert_eq!(err(b"\"a\0\"\r\n"), ProtocolError::UnbalancedQuotes);
}

#[test]
fn find_byte_agrees_with_position() {
    let hay: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
    for start in 0..hay.len() {
        for needle in [0u8, 13, 37, 200, 255, 0x80, 1] {
            let h = &hay[start..];
            assert_eq!(find_byte(h, needle), h.iter().position(|&b| b == needle));
        }
    }
}

fn encode_multibulk(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Quotes every argument with double quotes and `\xHH` escapes.
fn encode_inline_quoted(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in args {
        out.push(b'"');
        for &b in a {
            match b {
                b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                0x20..=0x7e => out.push(b),
                _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            }
        }
        out.extend_from_slice(b"\" ");
    }
    out.extend_from_slice(b"\r\n");
    out
}

proptest! {
    #[test]
    fn multibulk_round_trip(
        cmds in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..6), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let input: Vec<u8> = cmds.iter().flat_map(|c| encode_multibulk(c)).collect();
        prop_assert_eq!(&parse_all(&input).unwrap(), &cmds);
        // The same bytes split at an arbitrary point.
        let cut = cut.index(input.len() + 1);
        let mut p = RequestParser::new();
        let mut buf = input[..cut].to_vec();
        let mut got = Vec::new();
        for more in [&input[cut..], &[][..]] {
            while let Some(n) = p.parse(&mut buf, &limits()).unwrap() {
                got.push(p.args().iter().map(|r| buf[r.clone()].to_vec()).collect::<Cmd>());
                buf.drain(..n);
            }
            buf.extend_from_slice(more);
        }
        while let Some(n) = p.parse(&mut buf, &limits()).unwrap() {
            got.push(p.args().iter().map(|r| buf[r.clone()].to_vec()).collect::<Cmd>());
            buf.drain(..n);
        }
        prop_assert_eq!(got, cmds);
    }

    #[test]
    fn inline_round_trip(
        args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 1..6),
        plain in prop::collection::vec("[a-zA-Z0-9_:.-]{1,12}", 1..6),
    ) {
        let quoted = encode_inline_quoted(&args);
        prop_assert_eq!(parse_all(&quoted).unwrap(), vec![args.clone()]);
        prop_assert_eq!(parse_bytewise(&quoted, &limits()).unwrap(), vec![args]);
        let line = format!("{}\r\n", plain.join(" "));
        let want: Vec<Vec<u8>> = plain.iter().map(|s| s.as_bytes().to_vec()).collect();
        prop_assert_eq!(parse_all(line.as_bytes()).unwrap(), vec![want]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_all(&input);
        let _ = parse_bytewise(&input, &limits());
    }
}

/// What the general path makes of a length line: its number and `\r`
/// index, when complete and valid.
fn general_length_line(buf: &[u8]) -> Option<(i64, usize)> {
    let cr = find_byte(buf, b'\r')?;
    if cr + 1 >= buf.len() {
        return None;
    }
    Some((parse_i64(&buf[1..cr])?, cr))
}

#[test]
fn the_quick_length_line_reads_plain_numbers_and_defers_the_rest() {
    for line in [
        &b"$0\r\n"[..],
        b"$3\r\n",
        b"*16\r\n",
        b"$999999999999999999\r\n", // 18 digits: the longest taken
    ] {
        assert_eq!(plain_length_line(line, 0), general_length_line(line), "{line:?}");
        assert!(plain_length_line(line, 0).is_some(), "{line:?}");
    }
    for line in [
        &b"$1000000000000000000\r\n"[..], // 19 digits: the general path's
        b"$99999999999999999999\r\n",     // overflow: an error there
        b"$03\r\n",
        b"$00\r\n",
        b"$-1\r\n",
        b"$+1\r\n",
        b"$\r\n",
        b"$3\r",
        b"$3",
        b"$3 \r\n",
        b"$",
    ] {
        assert_eq!(plain_length_line(line, 0), None, "{line:?}");
    }
}

proptest! {
    /// Whatever the quick path takes, the general path takes the same way.
    #[test]
    fn the_quick_length_line_agrees_with_the_general_path(
        body in prop::collection::vec(prop::sample::select(b"0123456789-+\r\n $x".to_vec()), 0..24),
    ) {
        let mut line = b"$".to_vec();
        line.extend_from_slice(&body);
        if let Some(quick) = plain_length_line(&line, 0) {
            prop_assert_eq!(Some(quick), general_length_line(&line));
        }
    }
}
