//! The settings of the optional nginx modules: `autoindex` (see
//! `crate::autoindex`), `gzip_static` (see `crate::gzip`) and `try_files`
//! (see `crate::tryfiles`). Each is off by default, and off costs the
//! answer path nothing but the test of an `Option` (or, for `gzip_static`,
//! of an enum).
//!
//! ```toml
//! autoindex = true             # list a directory that has no index file (default false)
//! autoindex_exact_size = true  # sizes in bytes (default); false: rounded, with K, M, G
//! autoindex_localtime = false  # dates in UTC (default); true: the server's local time
//! autoindex_format = "html"    # or "json", "xml" (nginx's shapes)
//! autoindex_max_memory = 67108864  # bytes of listings a worker's clients may hold (default 64 MiB)
//! gzip_static = true           # serve a.css.gz for a.css to gzip clients (default false);
//!                              # "always": to every client
//! try_files = ["$uri", "$uri/", "/index.html"]  # or "=404" last; also one string
//! ```

use super::{HttpConfig, Overrides};

/// nginx's `autoindex on` and its three companions, and a bound of our
/// own on the memory listings hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Autoindex {
    /// `autoindex_exact_size`: sizes in bytes (default `true`), or rounded
    /// to kilobytes, megabytes or gigabytes.
    pub exact_size: bool,
    /// `autoindex_localtime`: dates in the server's local time, not UTC
    /// (default `false`).
    pub localtime: bool,
    /// `autoindex_format`.
    pub format: AutoindexFormat,
    /// `autoindex_max_memory` (no nginx equivalent): the bytes of distinct
    /// listings a worker's connections may hold while they send them
    /// (default 64 MiB). Connections sending the same listing share it;
    /// a new one past this is answered 503, unless no other is held (see
    /// `crate::autoindex`). nginx holds each client's page until it is
    /// sent or `send_timeout` ends it, however many there are.
    pub max_memory: usize,
}

impl Autoindex {
    /// The default `autoindex_max_memory`: 64 MiB.
    pub const MAX_MEMORY: usize = 64 << 20;
}

impl Default for Autoindex {
    /// nginx's defaults: exact sizes, UTC, HTML; and 64 MiB of listings.
    fn default() -> Autoindex {
        Autoindex {
            exact_size: true,
            localtime: false,
            format: AutoindexFormat::Html,
            max_memory: Autoindex::MAX_MEMORY,
        }
    }
}

/// The shape of a listing (`autoindex_format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AutoindexFormat {
    /// An HTML page, as nginx draws it (the default).
    #[default]
    Html,
    /// nginx's JSON array of `{ "name", "type", "mtime", "size" }`.
    Json,
    /// nginx's XML `<list>` of `<directory>` and `<file>` elements.
    Xml,
}

impl std::str::FromStr for AutoindexFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "html" => Ok(AutoindexFormat::Html),
            "json" => Ok(AutoindexFormat::Json),
            "xml" => Ok(AutoindexFormat::Xml),
            _ => Err(format!("'{s}' is not html, json or xml")),
        }
    }
}

/// nginx's `gzip_static`: answer a request for `a.css` with `a.css.gz`
/// when that file exists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GzipStatic {
    /// Never (the default).
    #[default]
    Off,
    /// To clients whose `Accept-Encoding` takes gzip, over HTTP/1.1 and
    /// not through a proxy (nginx's `gzip_http_version 1.1` and
    /// `gzip_proxied off`).
    On,
    /// To every client, whatever it says it takes.
    Always,
}

impl std::str::FromStr for GzipStatic {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" | "false" => Ok(GzipStatic::Off),
            "on" | "true" => Ok(GzipStatic::On),
            "always" => Ok(GzipStatic::Always),
            _ => Err(format!("'{s}' is not on, off or always")),
        }
    }
}

/// A TOML value that is a boolean or a word (`gzip_static = true` or
/// `gzip_static = "always"`).
#[derive(serde::Deserialize, Clone)]
#[serde(untagged)]
pub(super) enum BoolOrWord {
    Bool(bool),
    Word(String),
}

/// nginx's `try_files`: candidates tried in order, then a fallback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TryFiles {
    /// Paths under the root, `$uri` standing for the request's path
    /// (decoded and normalised); one ending in `/` must be a directory,
    /// any other a file.
    pub candidates: Vec<String>,
    /// What answers when none is there.
    pub fallback: Fallback,
}

/// The last item of `try_files`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// A path (`$uri` allowed) served as if it had been requested (nginx's
    /// internal redirect), without trying the candidates again.
    Uri(String),
    /// `=404`: this status, with its error page.
    Code(u16),
}

impl std::str::FromStr for TryFiles {
    type Err = String;

    /// The items separated by spaces, as nginx's directive writes them.
    fn from_str(s: &str) -> Result<Self, String> {
        TryFiles::new(s.split_whitespace().map(str::to_string).collect())
    }
}

impl TryFiles {
    /// Checks `items` (at least two; each a path starting with `/` or
    /// `$uri`, `$uri` the only variable, none climbing above the root
    /// or holding a NUL; the last may be `=CODE`, CODE from 400 to 599).
    ///
    /// # Errors
    /// A message saying which item is wrong.
    pub fn new(mut items: Vec<String>) -> Result<TryFiles, String> {
        if items.len() < 2 {
            return Err("needs at least two items: candidates, then a fallback (a path or =CODE)".into());
        }
        let path = |i: &str| -> Result<(), String> {
            if !(i.starts_with('/') || i.starts_with("$uri")) {
                return Err(format!("'{i}' must start with '/' or '$uri'"));
            }
            if i.replace("$uri", "").contains('$') {
                return Err(format!("'{i}': $uri is the only variable"));
            }
            // `$uri_x` or `$uris` is another variable to nginx, which
            // refuses it as unknown; taken as `$uri` and a suffix, it
            // would quietly look for other files than the operator meant.
            if i.match_indices("$uri").any(|(at, _)| {
                i.as_bytes().get(at + 4).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
            }) {
                return Err(format!("'{i}': unknown variable; $uri is the only one"));
            }
            // An item that climbs above the root (`/../x`, `$uri/../..`)
            // or holds a NUL could never be served: every request would
            // pass it over, or answer 404 for the fallback, in silence
            // (nginx would serve the file outside the root).
            if crate::tryfiles::expand(i, b"/u").is_none() {
                return Err(format!("'{i}' leads above the root or is not a path"));
            }
            Ok(())
        };
        let last = items.pop().unwrap_or_default();
        items.iter().try_for_each(|i| path(i))?;
        let fallback = match last.strip_prefix('=') {
            // Digits only, as nginx's `ngx_atoi` reads it (`=+404` is
            // refused there; Rust's parse would take it).
            Some(code) if !code.bytes().all(|c| c.is_ascii_digit()) => {
                return Err(format!("'{last}': the code must be from 400 to 599"));
            }
            Some(code) => match code.parse::<u16>() {
                Ok(c) if (400..=599).contains(&c) => Fallback::Code(c),
                _ => return Err(format!("'{last}': the code must be from 400 to 599")),
            },
            None => {
                path(&last)?;
                Fallback::Uri(last)
            }
        };
        Ok(TryFiles { candidates: items, fallback })
    }
}

/// `try_files` in the file: a list, or one string separated by spaces.
#[derive(serde::Deserialize, Clone)]
#[serde(untagged)]
pub(super) enum Items {
    One(String),
    Many(Vec<String>),
}

/// The file's values for the module settings.
#[derive(Default)]
pub(super) struct FileFeatures {
    pub autoindex: Option<bool>,
    pub autoindex_exact_size: Option<bool>,
    pub autoindex_localtime: Option<bool>,
    pub autoindex_format: Option<String>,
    pub autoindex_max_memory: Option<usize>,
    pub gzip_static: Option<BoolOrWord>,
    pub try_files: Option<Items>,
}

/// Sets the module settings of `app` from the file's values `f` and the
/// flags `o` (which win).
pub(super) fn apply(name: &str, f: FileFeatures, o: &Overrides, app: &mut HttpConfig) -> Result<(), String> {
    let format = match (o.autoindex_format, f.autoindex_format) {
        (Some(v), _) => v,
        (None, Some(s)) => s.parse().map_err(|e| format!("{name}: key `autoindex_format`: {e}"))?,
        (None, None) => AutoindexFormat::Html,
    };
    app.autoindex = o.autoindex.or(f.autoindex).unwrap_or(false).then(|| Autoindex {
        exact_size: o.autoindex_exact_size.or(f.autoindex_exact_size).unwrap_or(true),
        localtime: o.autoindex_localtime.or(f.autoindex_localtime).unwrap_or(false),
        format,
        max_memory: o.autoindex_max_memory.or(f.autoindex_max_memory).unwrap_or(Autoindex::MAX_MEMORY),
    });
    app.gzip_static = match (o.gzip_static, f.gzip_static) {
        (Some(g), _) => g,
        (None, Some(BoolOrWord::Bool(b))) => {
            if b {
                GzipStatic::On
            } else {
                GzipStatic::Off
            }
        }
        (None, Some(BoolOrWord::Word(w))) => {
            w.parse().map_err(|e| format!("{name}: key `gzip_static`: {e}"))?
        }
        (None, None) => GzipStatic::Off,
    };
    app.try_files = match (&o.try_files, f.try_files) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(Items::One(s))) => Some(s.parse().map_err(|e| format!("{name}: key `try_files`: {e}"))?),
        (None, Some(Items::Many(v))) => {
            Some(TryFiles::new(v).map_err(|e| format!("{name}: key `try_files`: {e}"))?)
        }
        (None, None) => None,
    };
    Ok(())
}
