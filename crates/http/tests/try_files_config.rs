//! `try_files` items that could never do what they say are refused at
//! startup with a message naming the item, as nginx refuses an unknown
//! variable, instead of being passed over on every request.

use spindle_http::config::TryFiles;
use spindle_http::{HttpApp, Overrides};

fn refused(list: &str) -> String {
    match list.parse::<TryFiles>() {
        Ok(t) => panic!("try_files {list} was taken: {t:?}"),
        Err(e) => e,
    }
}

/// `$urix`, `$uri_a` are other variables to nginx (`unknown "urix"
/// variable`); they were read as `$uri` and a suffix.
#[test]
fn a_variable_that_only_starts_like_uri_is_refused() {
    for list in ["$urix /index.html", "$uri $uri_old/ =404", "$uri /x$uri2", "$uri $uri/ /a$uriA"] {
        let e = refused(list);
        assert!(e.contains("$uri is the only"), "{list}: {e}");
    }
    for list in ["$uri $uri.html $uri/ =404", "$uri /x/$uri-y /index.html", "$uri/ $uri =404"] {
        assert!(list.parse::<TryFiles>().is_ok(), "{list}");
    }
}

/// A fallback or candidate above the root: nginx 1.22 serves
/// `/../secret.txt` from outside the root; spindle answered 404 to every
/// request for it, or passed the candidate over, in silence.
#[test]
fn an_item_above_the_root_is_refused() {
    for list in ["$uri /../secret.txt", "/../x $uri =404", "$uri $uri/../../x =404", "$uri /a/../../b"] {
        let e = refused(list);
        assert!(e.contains("above the root"), "{list}: {e}");
    }
    assert!(refused("$uri /a\0b").contains("not a path"));
    // Climbing that stays inside is allowed, as nginx allows it.
    assert!("$uri $uri/.. /a/../index.html".parse::<TryFiles>().is_ok());
    // The same from the file, with the key named.
    let dir = std::env::temp_dir().join(format!("spindle-tfc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("http.toml");
    std::fs::write(&file, "try_files = [\"$uri\", \"/../../etc/passwd\"]\n").unwrap();
    let e = match HttpApp::new(Some(file), Overrides { root: Some(dir.clone()), ..Overrides::default() })
        .load()
    {
        Ok(_) => panic!("loaded"),
        Err(e) => e,
    };
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(e.contains("try_files") && e.contains("above the root"), "{e}");
}

/// `=+404` is refused by nginx (`invalid code`); it was taken as 404.
#[test]
fn a_code_is_digits_only() {
    for list in ["$uri =+404", "$uri =-404", "$uri =4O4"] {
        assert!(refused(list).contains("from 400 to 599"), "{list}");
    }
    assert!("$uri =0404".parse::<TryFiles>().is_ok(), "nginx takes leading zeros");
}
