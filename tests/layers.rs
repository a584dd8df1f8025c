//! The module layers of `src/lib.rs` hold: every module imports only from itself and from the
//! modules listed before it, so the module graph has no cycles and a reader can tell which way
//! data flows from the order alone.
//!
//! The order is read from `src/lib.rs` (the first arrow line after "Layers, lowest first"), so the crate's
//! documentation is the single statement of it; the README must show the same line. Every
//! `crate::…` path in code counts (imports, fully qualified calls, test modules); comments do
//! not, so a doc link may point anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const LAYER_LINE_MARK: &str = "Layers, lowest first";

/// The layer order as `src/lib.rs` states it: backticked module names joined by arrows.
fn layer_order(root: &Path) -> Vec<String> {
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let mut lines = lib.lines();
    lines
        .by_ref()
        .find(|l| l.contains(LAYER_LINE_MARK))
        .expect("src/lib.rs states the layers after a line containing \"Layers, lowest first\"");
    let order_line = lines
        .find(|l| l.contains('→'))
        .expect("a line `a` → `b` → … follows the mark");
    let names: Vec<String> = order_line
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(
        names.len() >= 5 && order_line.contains('→'),
        "the layer line in src/lib.rs is `a` → `b` → …, got {order_line:?}"
    );
    names
}

/// `src/a/b.rs` → `a::b`; `src/a/mod.rs` → `a`; `src/a.rs` → `a`.
fn module_path(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root.join("src")).unwrap();
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().map(String::as_str) == Some("mod") {
        parts.pop();
    }
    parts.join("::")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments (`//…` to the end of the line, `/* … */`). String
/// literals are kept as they are: a `crate::` inside one is rare and would be a false alarm,
/// not a missed edge.
fn code_only(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c as char);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1] as char);
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
        } else if c == b'"' {
            in_str = true;
            out.push('"');
            i += 1;
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else {
            out.push(c as char);
            i += 1;
        }
    }
    out
}

/// The top-level modules a piece of code names through `crate::`: `crate::a::…`, and each
/// item of a `crate::{a::…, b, …}` group.
fn crate_references(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        // `arbline::crate::` cannot occur; `$crate::` (macros) refers to the crate too.
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = matching_brace(group);
            for item in split_top_level(&group[..end]) {
                let name = ident(item.trim_start());
                if !name.is_empty() {
                    found.push(name);
                }
            }
        } else {
            let name = ident(after);
            if !name.is_empty() {
                found.push(name);
            }
        }
        rest = after;
    }
    found
}

fn matching_brace(s: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    s.len()
}

fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

#[test]
fn every_module_imports_only_from_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let order = layer_order(root);
    let rank: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();

    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut checked_references = 0;
    let mut violations = Vec::new();
    for file in &files {
        let module = module_path(root, file);
        // The crate root declares the modules and the binary uses the library by name
        // (`arbline::…`): both sit above every layer.
        if module == "lib" || module == "main" {
            continue;
        }
        let top = module.split("::").next().unwrap();
        let Some(&own) = rank.get(top) else {
            violations.push(format!(
                "src/{module}: top-level module `{top}` is not in the layer line of src/lib.rs"
            ));
            continue;
        };
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        for target in crate_references(&code) {
            checked_references += 1;
            if target == top {
                continue;
            }
            match rank.get(target.as_str()) {
                Some(&r) if r < own => {}
                Some(_) => violations.push(format!(
                    "{}: `{top}` uses `crate::{target}`, which is not below it",
                    file.strip_prefix(root).unwrap().display()
                )),
                None => violations.push(format!(
                    "{}: uses `crate::{target}`, which is not in the layer line of src/lib.rs",
                    file.strip_prefix(root).unwrap().display()
                )),
            }
        }
    }
    // The check saw the crate (a broken walk would pass vacuously).
    assert!(files.len() > 100, "only {} files under src/", files.len());
    assert!(
        checked_references > 200,
        "only {checked_references} crate:: paths seen"
    );
    assert!(
        violations.is_empty(),
        "imports against the layer order `{}`:\n{}",
        order.join(" → "),
        violations.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_layer_and_the_readme_shows_the_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let order = layer_order(root);
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    assert!(!declared.is_empty());
    for m in &declared {
        assert!(
            order.iter().any(|o| o == m),
            "`{m}` has no layer in src/lib.rs"
        );
    }
    for o in &order {
        assert!(
            declared.contains(&o.as_str()),
            "layer `{o}` is not a module"
        );
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let line = order
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(" → ");
    assert!(
        readme.contains(&line),
        "README.md shows the layer order as in src/lib.rs: {line}"
    );
}

#[test]
fn the_reference_scanner_sees_paths_groups_and_skips_comments() {
    let code = code_only(
        "use crate::model::Fixed;\n// use crate::engine::x;\nuse crate::{pipeline::ring, venue::{max, binance}};\n/* crate::sim */ let s = \"//\"; crate::book::L2Book::new();",
    );
    assert_eq!(
        crate_references(&code),
        vec!["model", "pipeline", "venue", "book"]
    );
}

/// One concept per file: a file over 600 lines is split, or its module doc says why it is one
/// concept, in a line starting `//! One file:`.
#[test]
fn every_long_file_is_split_or_says_why_it_is_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut unexplained = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines = text.lines().count();
        if lines <= 600 {
            continue;
        }
        let says_why = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .any(|l| l.starts_with("//! One file:"));
        if !says_why {
            unexplained.push(format!(
                "{} ({lines} lines)",
                file.strip_prefix(root).unwrap().display()
            ));
        }
    }
    assert!(
        unexplained.is_empty(),
        "files over 600 lines without a `//! One file:` reason: {unexplained:?}"
    );
    // The walk saw the crate (a broken walk would pass vacuously).
    assert!(files.len() > 100, "only {} files under src/", files.len());
}
