//! The settings of nginx's `ngx_http_gzip_module`, answers compressed as
//! they are sent (see `crate::compress`), and `gzip_http_version`, which
//! `gzip_static` obeys too. Off by default; off, the answer path tests
//! one `bool` of the cache entry.
//!
//! ```toml
//! gzip = true                  # compress matching answers for gzip clients (default false)
//! gzip_types = ["text/css", "text/javascript"]  # besides text/html (always); "*": every type
//! gzip_min_length = 20         # files shorter than this go as they are (nginx's default)
//! gzip_comp_level = 1          # 1 (fastest, nginx's default) to 9 (smallest)
//! gzip_vary = false            # say `Vary: Accept-Encoding` on answers that may be compressed
//! gzip_http_version = "1.1"    # or "1.0": HTTP/1.0 clients get compressed answers too
//! ```

use super::{HttpConfig, Overrides};

/// nginx's `gzip on` and its companions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gzip {
    /// `gzip_types`: which media types are compressed.
    pub types: GzipTypes,
    /// `gzip_min_length`: a file shorter than this many bytes is sent as
    /// it is (nginx's default, 20).
    pub min_length: u64,
    /// `gzip_comp_level`: 1 (fastest; nginx's default) to 9 (smallest).
    pub comp_level: u32,
    /// `gzip_vary`: every answer for a file that may be compressed says
    /// `Vary: Accept-Encoding`, whether this client gets it compressed or
    /// not (nginx's default: off).
    pub vary: bool,
}

impl Default for Gzip {
    /// nginx's defaults: `text/html` only, 20 bytes, level 1, no `Vary`.
    fn default() -> Self {
        Gzip { types: GzipTypes::default(), min_length: 20, comp_level: 1, vary: false }
    }
}

impl Gzip {
    /// Whether a file of media type `content_type` and `size` bytes is
    /// compressed for a client that takes gzip.
    pub fn compresses(&self, content_type: &str, size: u64) -> bool {
        size >= self.min_length && self.types.matches(content_type)
    }
}

/// `gzip_types`: `text/html`, which nginx always compresses, and the types
/// listed; or every type (`*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum GzipTypes {
    /// `text/html` only (nginx's default).
    #[default]
    HtmlOnly,
    /// `text/html` and these (lower case, without parameters).
    List(Vec<String>),
    /// `*`: every type.
    Any,
}

impl GzipTypes {
    /// Reads a list of types, `*` among them meaning all.
    ///
    /// # Errors
    /// An item that is not `type/subtype`, or has a `*` in it (only `*`
    /// alone means all).
    pub fn new<S: AsRef<str>>(items: &[S]) -> Result<GzipTypes, String> {
        let mut list = Vec::new();
        for i in items {
            let t = i.as_ref().trim().to_ascii_lowercase();
            if t == "*" {
                return Ok(GzipTypes::Any);
            }
            let ok = t.split_once('/').is_some_and(|(a, b)| {
                let tok = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_graphic() && c != b'/');
                tok(a) && tok(b)
            });
            if !ok {
                return Err(format!("'{t}' is not a media type (type/subtype) or *"));
            }
            // nginx 1.22 takes `text/*` or `*/*` and compresses nothing by
            // it (its types are matched whole): a silent no-op.
            if t.contains('*') {
                return Err(format!(
                    "'{t}': a wildcard matches nothing; list the types, or give * alone for all"
                ));
            }
            if t != "text/html" && !list.contains(&t) {
                list.push(t);
            }
        }
        Ok(if list.is_empty() { GzipTypes::HtmlOnly } else { GzipTypes::List(list) })
    }

    /// Whether answers of `content_type` (its parameters aside) are
    /// compressed.
    pub fn matches(&self, content_type: &str) -> bool {
        let t = content_type.split(';').next().unwrap_or_default().trim();
        match self {
            GzipTypes::Any => true,
            GzipTypes::HtmlOnly => t.eq_ignore_ascii_case("text/html"),
            GzipTypes::List(l) => {
                t.eq_ignore_ascii_case("text/html") || l.iter().any(|x| x.eq_ignore_ascii_case(t))
            }
        }
    }
}

impl std::str::FromStr for GzipTypes {
    type Err = String;

    /// Types separated by spaces or commas, as `--gzip-types` takes them.
    fn from_str(s: &str) -> Result<Self, String> {
        let items: Vec<&str> =
            s.split(|c: char| c == ',' || c.is_whitespace()).filter(|i| !i.is_empty()).collect();
        GzipTypes::new(&items)
    }
}

/// `gzip_http_version` as `1.0` or `1.1`: the least HTTP/1 minor version
/// that is given gzip, by `gzip` and `gzip_static` alike.
///
/// # Errors
/// Anything else.
pub fn parse_http_version(s: &str) -> Result<u8, String> {
    match s.trim() {
        "1.0" => Ok(0),
        "1.1" => Ok(1),
        _ => Err(format!("'{s}' is not 1.0 or 1.1")),
    }
}

/// A TOML value for `gzip_types`: one string (types separated by spaces
/// or commas) or a list.
#[derive(serde::Deserialize, Clone)]
#[serde(untagged)]
pub(super) enum Types {
    One(String),
    Many(Vec<String>),
}

/// A TOML value for `gzip_http_version`: `"1.1"` or the number `1.1`.
#[derive(serde::Deserialize, Clone)]
#[serde(untagged)]
pub(super) enum Version {
    Number(f64),
    Text(String),
}

/// The file's values for the gzip settings.
#[derive(Default)]
pub(super) struct FileGzip {
    pub gzip: Option<bool>,
    pub types: Option<Types>,
    pub min_length: Option<u64>,
    pub comp_level: Option<u32>,
    pub vary: Option<bool>,
    pub http_version: Option<Version>,
}

/// Sets `app.gzip` and `app.gzip_http_version` from the file's values
/// `f` and the flags `o` (which win). The companions are checked even
/// with `gzip` off, so a typo does not wait for the day it is turned on.
pub(super) fn apply(name: &str, f: FileGzip, o: &Overrides, app: &mut HttpConfig) -> Result<(), String> {
    let d = Gzip::default();
    let types = match (&o.gzip_types, f.types) {
        (Some(t), _) => t.clone(),
        (None, Some(Types::One(s))) => s.parse().map_err(|e| format!("{name}: key `gzip_types`: {e}"))?,
        (None, Some(Types::Many(v))) => {
            GzipTypes::new(&v).map_err(|e| format!("{name}: key `gzip_types`: {e}"))?
        }
        (None, None) => d.types,
    };
    let comp_level = o.gzip_comp_level.or(f.comp_level).unwrap_or(d.comp_level);
    if !(1..=9).contains(&comp_level) {
        return Err(format!("{name}: key `gzip_comp_level`: {comp_level} is not from 1 to 9"));
    }
    let g = Gzip {
        types,
        min_length: o.gzip_min_length.or(f.min_length).unwrap_or(d.min_length),
        comp_level,
        vary: o.gzip_vary.or(f.vary).unwrap_or(d.vary),
    };
    app.gzip = o.gzip.or(f.gzip).unwrap_or(false).then_some(g);
    app.gzip_http_version = match (o.gzip_http_version, f.http_version) {
        (Some(v), _) => v,
        (None, Some(Version::Text(s))) => {
            parse_http_version(&s).map_err(|e| format!("{name}: key `gzip_http_version`: {e}"))?
        }
        (None, Some(Version::Number(n))) => match n {
            1.0 => 0,
            1.1 => 1,
            _ => return Err(format!("{name}: key `gzip_http_version`: {n} is not 1.0 or 1.1")),
        },
        (None, None) => 1,
    };
    Ok(())
}
