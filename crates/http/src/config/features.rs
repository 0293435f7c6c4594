//! The settings of the optional nginx modules: `autoindex` (see
//! `crate::autoindex`) and `gzip_static` (see `crate::gzip`). Each is off
//! by default, and off costs the
//! answer path nothing but the test of an `Option`.
//!
//! ```toml
//! autoindex = true             # list a directory that has no index file (default false)
//! autoindex_exact_size = true  # sizes in bytes (default); false: rounded, with K, M, G
//! autoindex_localtime = false  # dates in UTC (default); true: the server's local time
//! autoindex_format = "html"    # or "json", "xml" (nginx's shapes)
//! gzip_static = true           # serve a.css.gz for a.css to gzip clients (default false);
//!                              # "always": to every client
//! ```

use super::{HttpConfig, Overrides};

/// nginx's `autoindex on` and its three companions.
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

/// The file's values for the module settings.
#[derive(Default)]
pub(super) struct FileFeatures {
    pub autoindex: Option<bool>,
    pub autoindex_exact_size: Option<bool>,
    pub autoindex_localtime: Option<bool>,
    pub autoindex_format: Option<String>,
    pub gzip_static: Option<BoolOrWord>,
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
    Ok(())
}
