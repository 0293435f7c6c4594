//! Runs the request parser's fuzzing seed corpus (`fuzz/corpus/parse/`) so
//! that CI exercises it without a nightly toolchain: every file is fed whole
//! and one byte at a time, the parser must not panic, every range must lie in
//! the consumed bytes, both feedings must agree, and a file named `err_*`
//! must end in a protocol error while the others must not (`unauth_*` only
//! fails under the limits of an unauthenticated client).

use std::path::Path;

use spindle_kv::resp::parse::{Limits, ProtocolError, RequestParser};

/// The commands parsed from `input` fed in chunks of `chunk` bytes, and the
/// error that stopped the parser, if any.
fn feed(input: &[u8], chunk: usize, limits: &Limits) -> (Vec<Vec<Vec<u8>>>, Option<ProtocolError>) {
    let mut parser = RequestParser::new();
    let mut buf = Vec::new();
    let mut cmds = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            match parser.parse(&mut buf, limits) {
                Ok(Some(n)) => {
                    assert!(n > 0 && n <= buf.len());
                    let args = parser.args();
                    assert!(args.iter().all(|r| r.start <= r.end && r.end <= n));
                    cmds.push(args.iter().map(|r| buf[r.clone()].to_vec()).collect());
                    buf.drain(..n);
                }
                Ok(None) => break,
                Err(e) => return (cmds, Some(e)),
            }
        }
    }
    (cmds, None)
}

#[test]
fn corpus_parses_the_same_whole_and_bytewise() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the seed corpus exists")
        .map(|e| e.expect("readable entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 20, "expected the seed corpus in {}", dir.display());
    let tight = Limits { max_bulk_len: 64, authenticated: false };
    for path in files {
        let input = std::fs::read(&path).expect("readable corpus file");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let whole = feed(&input, input.len(), &Limits::default());
        assert_eq!(feed(&input, 1, &Limits::default()), whole, "{name}");
        assert_eq!(feed(&input, 7, &Limits::default()), whole, "{name}");
        assert_eq!(whole.1.is_some(), name.starts_with("err_"), "{name}: {:?}", whole.1);
        let tight_whole = feed(&input, input.len(), &tight);
        assert_eq!(feed(&input, 1, &tight), tight_whole, "{name}");
        if name.starts_with("unauth_") {
            assert!(tight_whole.1.is_some(), "{name}");
        }
    }
}
