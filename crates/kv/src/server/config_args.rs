//! The command line as Redis reads it: `redis-server [file] --name value
//! ...` appends the options to the config file's text as lines, which
//! are then parsed with the file's rules (see [`command_line_text`]).

use super::config::split_args;

/// Redis's `main`: the arguments after the config file as config lines.
/// `--name` starts a line; the arguments after it are its values until
/// the next `--` argument once it has at least one value: so `--port
/// --loglevel verbose` gives port two values, and a value may start with
/// `--` if it comes first. Values are quoted as Redis's `sdscatrepr`
/// quotes them, which [`split_args`] reads back. An argument holding a
/// name and values together (`"--maxmemory 700mb"`) is a whole line. A
/// `--save` with nothing after it is `save ""` (no snapshots).
pub fn command_line_text(args: &[String]) -> String {
    let mut options = String::new();
    let mut named_with_value = true;
    for (j, a) in args.iter().enumerate() {
        if named_with_value && a.starts_with("--") {
            if !options.is_empty() {
                options.push('\n');
            }
            options.push_str(&a[2..]);
            options.push(' ');
            if split_args(a).map_or(0, |w| w.len()) == 1 {
                named_with_value = false;
                let next_is_name = args.get(j + 1).is_none_or(|n| n.starts_with("--"));
                if a.eq_ignore_ascii_case("--save") && next_is_name {
                    options.push_str("\"\"");
                    named_with_value = true;
                }
            } else {
                named_with_value = true;
            }
        } else {
            super::monitor::push_repr(&mut options, a.as_bytes());
            options.push(' ');
            named_with_value = true;
        }
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(args: &[&str]) -> String {
        command_line_text(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments_become_lines_as_in_redis_main() {
        assert_eq!(
            text(&["--port", "6380", "--loglevel", "verbose"]),
            "port \"6380\" \nloglevel \"verbose\" "
        );
        // A name with no value yet takes the next argument, `--` or not.
        assert_eq!(text(&["--port", "--loglevel", "verbose"]), "port \"--loglevel\" \"verbose\" ");
        assert_eq!(
            text(&["--maxmemory 700mb", "--maxmemory-policy volatile-lru"]),
            "maxmemory 700mb \nmaxmemory-policy volatile-lru "
        );
        assert_eq!(text(&["--save", "--port", "1"]), "save \"\"\nport \"1\" ");
        assert_eq!(text(&["--port", "1", "--save"]), "port \"1\" \nsave \"\"");
        assert_eq!(text(&["--logfile", "a b\"\n\u{e9}"]), "logfile \"a b\\\"\\n\\xc3\\xa9\" ");
        assert_eq!(split_args("logfile \"a b\\\"\\n\\xc3\\xa9\"").unwrap()[1], "a b\"\n\u{e9}");
    }
}
