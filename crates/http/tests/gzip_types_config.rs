//! `gzip_types` with a wildcard inside a type (`text/*`, `*/*`) is
//! refused at startup: nginx 1.22 takes it and compresses nothing by it,
//! and so did spindle, a misconfiguration no one is told about.

use spindle_http::config::GzipTypes;
use spindle_http::{HttpApp, Overrides};

#[test]
fn a_wildcard_inside_a_type_is_refused() {
    for t in ["text/*", "*/*", "text/css, application/*", "*/json"] {
        match t.parse::<GzipTypes>() {
            Ok(g) => panic!("gzip_types {t} was taken: {g:?}"),
            Err(e) => assert!(e.contains("wildcard"), "{t}: {e}"),
        }
    }
    assert_eq!("*".parse::<GzipTypes>(), Ok(GzipTypes::Any));
    assert!("text/css application/json".parse::<GzipTypes>().is_ok());
    let dir = std::env::temp_dir().join(format!("spindle-gtc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("http.toml");
    std::fs::write(&file, "gzip = true\ngzip_types = [\"text/css\", \"text/*\"]\n").unwrap();
    let loaded =
        HttpApp::new(Some(file), Overrides { root: Some(dir.clone()), ..Overrides::default() }).load();
    std::fs::remove_dir_all(&dir).unwrap();
    let Err(e) = loaded else { panic!("gzip_types text/* was taken") };
    assert!(e.contains("gzip_types") && e.contains("text/*"), "{e}");
}
