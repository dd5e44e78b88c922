//! The web app's built files (`web/`, built by this crate's build.rs with npm), embedded in the
//! binary. `get` finds a file by its URL path with its content type and whether its name is
//! content-hashed (then it may be cached forever).

/// Path relative to the site root, bytes, gzip copy.
type Entry = (&'static str, &'static [u8], Option<&'static [u8]>);

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub path: &'static str,
    pub bytes: &'static [u8],
    /// The same bytes gzip-compressed at build time, for compressible files above 1 KiB.
    pub gzip: Option<&'static [u8]>,
    pub content_type: &'static str,
    /// Under `assets/`, where Vite puts content-hashed names: never changes, cache it forever.
    pub immutable: bool,
}

/// The file at `path` (relative to the site root, no leading slash), if the build has it.
pub fn get(path: &str) -> Option<Asset> {
    let i = FILES.binary_search_by(|(p, ..)| (*p).cmp(path)).ok()?;
    let (path, bytes, gzip) = FILES[i];
    Some(Asset {
        path,
        bytes,
        gzip,
        content_type: content_type(path),
        immutable: path.starts_with("assets/"),
    })
}

/// The single-page app's shell, served for every client-side route.
pub fn index() -> Asset {
    get("index.html").expect("the build script checks that index.html exists")
}

/// Every embedded file, for listings and tests.
pub fn all() -> impl Iterator<Item = Asset> {
    FILES.iter().filter_map(|(p, ..)| get(p))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_exist_and_every_referenced_asset_is_embedded() {
        for entry in ["index.html", "chat.html", "widget.js"] {
            assert!(get(entry).is_some(), "{entry} is missing from the build");
        }
        assert!(get("/index.html").is_none(), "paths have no leading slash");
        for page in ["index.html", "chat.html"] {
            let html = std::str::from_utf8(get(page).unwrap().bytes).unwrap();
            let mut found = 0;
            for part in html.split("\"/assets/").skip(1) {
                let file = &part[..part.find('"').unwrap()];
                let a = get(&format!("assets/{file}"))
                    .unwrap_or_else(|| panic!("{page} refers to missing assets/{file}"));
                assert!(a.immutable);
                found += 1;
            }
            assert!(found >= 2, "{page} should load its script and styles from /assets/");
            assert!(
                !html.contains("http://") && !html.contains("https://"),
                "{page} must load nothing from the internet"
            );
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(index().content_type, "text/html; charset=utf-8");
        assert!(!index().immutable);
        let js = all().find(|a| a.path.ends_with(".js") && a.immutable).unwrap();
        assert_eq!(js.content_type, "text/javascript; charset=utf-8");
        assert_eq!(get("widget.js").unwrap().content_type, "text/javascript; charset=utf-8");
        assert!(
            !get("widget.js").unwrap().immutable,
            "the snippet's URL is fixed, so it must revalidate"
        );
    }

    #[test]
    fn large_scripts_have_gzip_copies_that_are_smaller() {
        let big: Vec<_> =
            all().filter(|a| a.path.ends_with(".js") && a.bytes.len() > 50_000).collect();
        assert!(!big.is_empty());
        for a in big {
            let gz = a.gzip.unwrap_or_else(|| panic!("{} has no gzip copy", a.path));
            assert!(gz.len() < a.bytes.len() / 2, "{}: {} → {}", a.path, a.bytes.len(), gz.len());
            assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip magic");
        }
        assert!(get("index.html.gz").is_none(), "gzip copies are not files of their own");
    }
}
