//! A root that is a symbolic link, switched to another directory the way
//! deploy tools switch `current` to a new release: nginx follows `root`
//! on every request and serves the new release at once. The root was
//! resolved once, when the configuration was loaded, so the old release
//! went on being served until a reload.

mod common;

use common::*;
use spindle_http::{HttpApp, Overrides};

#[test]
fn a_root_link_switched_to_a_new_release_serves_it_at_once() {
    let mut link = std::path::PathBuf::new();
    let s = Server::start(|c| {
        let dir = c.root.parent().unwrap().to_path_buf();
        std::fs::create_dir_all(dir.join("release2")).unwrap();
        std::fs::write(dir.join("release2/a.txt"), "release two\n").unwrap();
        link = dir.join("current");
        std::os::unix::fs::symlink(&c.root, &link).unwrap();
        // Loaded as `--root current` would be.
        let o = Overrides { root: Some(link.clone()), ..Overrides::default() };
        *c = HttpApp::new(None, o).load().unwrap().app;
        // Cached at once: a hit must notice the switch too.
        c.cache.racy_window = std::time::Duration::ZERO;
    });
    assert_eq!(get(&s, "/a.txt").text(), "hello, world\n");
    assert_eq!(get(&s, "/a.txt").text(), "hello, world\n");
    // Switched atomically: a new link renamed over the old one.
    let tmp = s.dir.join("current.new");
    std::os::unix::fs::symlink(s.dir.join("release2"), &tmp).unwrap();
    std::fs::rename(&tmp, &link).unwrap();
    assert_eq!(get(&s, "/a.txt").text(), "release two\n", "the old release is still served");
    assert_eq!(get(&s, "/index.html").status, 404);
    // And back.
    std::os::unix::fs::symlink(&s.root, &tmp).unwrap();
    std::fs::rename(&tmp, &link).unwrap();
    assert_eq!(get(&s, "/a.txt").text(), "hello, world\n");
    // A link inside the new root still may not lead out of it.
    std::os::unix::fs::symlink(s.dir.join("secret.txt"), s.dir.join("release2/out")).unwrap();
    std::os::unix::fs::symlink(s.dir.join("release2"), &tmp).unwrap();
    std::fs::rename(&tmp, &link).unwrap();
    assert_eq!(get(&s, "/out").status, 403);
}
