//! The source tree and the stack template as text, for the tests that hold one against the
//! other (`infra.rs`, `iam.rs`; no YAML dependency).
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

pub fn read(rel: &str) -> String {
    let p = root().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// The template's top-level resources: (logical id, text of its block).
pub fn resources(template: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut in_resources = false;
    for line in template.lines() {
        if !line.starts_with(' ') && !line.is_empty() && !line.starts_with('#') {
            in_resources = line.trim_end() == "Resources:";
            continue;
        }
        if !in_resources {
            continue;
        }
        let is_id = line.len() > 3
            && line.starts_with("  ")
            && !line[2..].starts_with([' ', '#'])
            && line.trim_end().ends_with(':')
            && line.trim().trim_end_matches(':').chars().all(|c| c.is_ascii_alphanumeric());
        if is_id {
            out.push((line.trim().trim_end_matches(':').to_string(), String::new()));
        } else if let Some((_, block)) = out.last_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    out
}

/// Values of `key: value` lines in a block (trimmed; a quoted value without its quotes).
pub fn values<'a>(block: &'a str, key: &str) -> Vec<&'a str> {
    block
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.trim().strip_prefix(key)?.strip_prefix(':'))
        .map(|v| unquote(v.trim()))
        .collect()
}

pub fn binaries() -> BTreeSet<String> {
    let dir = root().join("lambdas/src/bin");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// `v` without the quotes around it, if quoted.
pub fn unquote(v: &str) -> &str {
    v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v)
}
