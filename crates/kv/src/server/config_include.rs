//! The file patterns of `include` (`include /etc/redis/conf.d/*.conf`),
//! expanded as glob(3) with no flags expands them, which is what Redis
//! calls: `*`, `?` and `[...]` match within one path component, never a
//! `/`; a name starting with `.` is matched only by a pattern component
//! that starts with `.`; the paths come back sorted; no match is an empty
//! list, not an error.

use std::path::{Path, PathBuf};

/// Every existing path `pattern` matches, sorted.
pub fn expand(pattern: &str) -> Vec<PathBuf> {
    let absolute = pattern.starts_with('/');
    let mut found = vec![if absolute { PathBuf::from("/") } else { PathBuf::new() }];
    for part in pattern.split('/').filter(|p| !p.is_empty()) {
        let mut next = Vec::new();
        for base in &found {
            if !part.contains(['*', '?', '[']) {
                next.push(base.join(part));
                continue;
            }
            next.extend(matching_entries(base, part));
        }
        found = next;
    }
    let mut out: Vec<PathBuf> = found.into_iter().filter(|p| p.exists()).collect();
    out.sort();
    out
}

/// The entries of `dir` (the current directory when empty) whose names
/// match the one-component pattern `part`.
fn matching_entries(dir: &Path, part: &str) -> Vec<PathBuf> {
    let read = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let Ok(entries) = std::fs::read_dir(read) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_str()?.to_string();
            if name.starts_with('.') && !part.starts_with('.') {
                return None;
            }
            crate::util::glob::glob_match(part.as_bytes(), name.as_bytes(), false).then(|| dir.join(name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_within_components_sorted_and_skip_hidden_files() {
        let root = std::env::temp_dir().join(format!("spindle-kv-include-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("conf.d/sub")).unwrap();
        for f in
            ["conf.d/b.conf", "conf.d/a.conf", "conf.d/.hidden.conf", "conf.d/c.txt", "conf.d/sub/d.conf"]
        {
            std::fs::write(root.join(f), "").unwrap();
        }
        let names = |pat: &str| -> Vec<String> {
            expand(&format!("{}/{pat}", root.display()))
                .iter()
                .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(names("conf.d/*.conf"), ["conf.d/a.conf", "conf.d/b.conf"]);
        assert_eq!(names("conf.d/.*.conf"), ["conf.d/.hidden.conf"]);
        assert_eq!(names("*/*/?.conf"), ["conf.d/sub/d.conf"]);
        assert_eq!(names("conf.d/[ab].conf"), ["conf.d/a.conf", "conf.d/b.conf"]);
        assert!(names("nothing/*.conf").is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
