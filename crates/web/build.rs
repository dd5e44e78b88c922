// Builds the web app (../../web) with npm into OUT_DIR and writes `assets.rs`, a table of every
// built file embedded with `include_bytes!`. Runs again only when the web sources change
// (rerun-if-changed), so plain `cargo build`/`test`/`clippy` stay incremental.
//
// Steps: `npm ci` when web/node_modules is missing or older than package-lock.json; then
// `npm run build -- --outDir $OUT_DIR/dist`; then gzip copies (web/scripts/compress.mjs), served
// to browsers that accept gzip. Missing node/npm fails with a message saying so.

#![allow(clippy::print_stdout)] // cargo reads a build script's directives from stdout

use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::SystemTime,
};

const WATCH: &[&str] = &[
    "src",
    "public",
    "index.html",
    "chat.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
];

fn main() {
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let web = manifest.join("../../web");
    let web = web.canonicalize().unwrap_or(web);
    for w in WATCH {
        println!("cargo:rerun-if-changed={}", web.join(w).display());
    }
    let dist = out.join("dist");

    check_tools();
    if node_modules_stale(&web) {
        run(&web, &["ci", "--no-audit", "--no-fund", "--loglevel=error"], "npm ci");
    }
    let out_dir = dist.to_str().expect("OUT_DIR is valid UTF-8");
    run(&web, &["run", "build", "--", "--outDir", out_dir, "--emptyOutDir"], "npm run build");
    run(
        &web,
        &["exec", "--", "node", "scripts/compress.mjs", out_dir],
        "node scripts/compress.mjs",
    );

    let mut files = Vec::new();
    collect(&dist, &dist, &mut files);
    files.sort();
    assert!(
        files.iter().any(|(rel, _)| rel == "index.html"),
        "the web build produced no index.html in {}",
        dist.display()
    );
    let mut code = String::from(
        "/// Every built file: path relative to the site root, bytes, gzip copy.\npub static FILES: &[Entry] = &[\n",
    );
    for (rel, abs) in files.iter().filter(|(rel, _)| !rel.ends_with(".gz")) {
        let gz = PathBuf::from(format!("{}.gz", abs.display()));
        let gz = if gz.exists() {
            format!("Some(include_bytes!({:?}))", gz.display().to_string())
        } else {
            "None".into()
        };
        writeln!(code, "    ({rel:?}, include_bytes!({:?}), {gz}),", abs.display().to_string())
            .expect("write to String");
    }
    code.push_str("];\n");
    fs::write(out.join("assets.rs"), code).expect("write assets.rs");
}

fn check_tools() {
    let ok =
        |bin: &str| Command::new(bin).arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok("node") || !ok("npm") {
        panic!(
            "\n\nbuilding the web app (web/) needs Node.js 20 or newer and npm on PATH, and they were not found.\n\
             Install them (Debian/Ubuntu: `apt-get install nodejs npm`; or https://nodejs.org) and build again.\n\n"
        );
    }
}

fn mtime(p: &Path) -> Option<SystemTime> {
    fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// node_modules is stale when npm's own record of the install is missing or older than the lock.
fn node_modules_stale(web: &Path) -> bool {
    match (
        mtime(&web.join("node_modules/.package-lock.json")),
        mtime(&web.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    }
}

fn run(web: &Path, args: &[&str], what: &str) {
    let out = Command::new("npm")
        .args(args)
        .current_dir(web)
        .output()
        .unwrap_or_else(|e| panic!("cannot run npm for `{what}`: {e}"));
    if !out.status.success() {
        panic!(
            "\n\n`{what}` failed in {} ({}):\n{}\n{}\n",
            web.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(root, &p, files);
        } else if let Ok(rel) = p.strip_prefix(root) {
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push((rel, p));
        }
    }
}
