//! `cargo xtask`: the one entry point for project automation.
//!
//! - `codegen [--check]`: regenerates `docs/openapi.json` from the code; with `--check`, fails
//!   when the checked-in copy is stale.
//! - `tidy`: the purity invariants of ARCHITECTURE.md (pure crates depend on no effectful
//!   crate) and a `//!` doc at the top of every Rust module.

mod tidy;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

#[allow(clippy::print_stdout)] // A command-line tool reports on stdout.
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("codegen") => {
            let check = args.iter().any(|a| a == "--check");
            let path = root().join("docs/openapi.json");
            let doc = openapi_json()?;
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if current == doc {
                println!("docs/openapi.json is up to date");
            } else if check {
                bail!("docs/openapi.json is stale: run `cargo xtask codegen` and commit it");
            } else {
                std::fs::write(&path, doc)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote docs/openapi.json");
            }
        }
        Some("tidy") => {
            let problems = tidy::check(&root())?;
            if !problems.is_empty() {
                bail!("tidy:\n{}", problems.join("\n"));
            }
            println!("tidy: ok");
        }
        _ => bail!("usage: cargo xtask codegen [--check] | cargo xtask tidy"),
    }
    Ok(())
}

pub fn openapi_json() -> anyhow::Result<String> {
    Ok(http_api::openapi().to_pretty_json()? + "\n")
}
