//! Checks that keep the architecture honest; run by `cargo xtask tidy` and by `cargo test`.

use std::{path::Path, process::Command};

/// Crates that must stay pure, and the effectful crates they must not depend on.
const PURE: &[&str] = &["domain", "nlu", "workflow", "dialogue"];
const EFFECTFUL: &[&str] = &["tokio", "sqlx", "axum", "reqwest", "hyper"];

pub fn check(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for krate in PURE {
        for dep in EFFECTFUL {
            let out = Command::new(env!("CARGO"))
                .current_dir(root)
                .args(["tree", "--offline", "-q", "-p", krate, "-e", "normal", "-i", dep])
                .output()?;
            // `cargo tree -i X` prints the inverse tree when X is in the graph, nothing (and a
            // "did not match" error) when it is not.
            if out.status.success() && !out.stdout.is_empty() {
                problems.push(format!(
                    "{krate} must not depend on {dep}:\n{}",
                    String::from_utf8_lossy(&out.stdout)
                ));
            }
        }
    }
    for entry in walk(&root.join("crates"))?.into_iter().chain(walk(&root.join("xtask"))?) {
        if entry.extension().is_some_and(|e| e == "rs")
            && !entry.components().any(|c| c.as_os_str() == "target")
        {
            let text = std::fs::read_to_string(&entry)?;
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
            let is_test_file = entry.components().any(|c| c.as_os_str() == "tests");
            if !first.starts_with("//!") && !is_test_file && !entry.ends_with("build.rs") {
                problems
                    .push(format!("{}: start the module with a //! doc comment", entry.display()));
            }
            if !text.starts_with("//!") && is_test_file && !first.starts_with("//!") {
                problems.push(format!(
                    "{}: start the test module with a //! doc comment",
                    entry.display()
                ));
            }
        }
    }
    Ok(problems)
}

fn walk(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target" || n == "node_modules") {
                continue;
            }
            out.extend(walk(&p)?);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tidy() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let problems = super::check(root).unwrap();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn openapi_is_fresh() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let on_disk = std::fs::read_to_string(root.join("docs/openapi.json")).unwrap_or_default();
        assert!(
            on_disk == crate::openapi_json().unwrap(),
            "docs/openapi.json is stale: run `cargo xtask codegen`"
        );
    }
}
