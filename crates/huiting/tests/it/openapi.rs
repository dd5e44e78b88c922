//! `docs/openapi.json` is generated from the code; this fails when it is stale.

#[test]
fn checked_in_openapi_is_fresh() {
    let doc = http_api::openapi().to_pretty_json().expect("serialise") + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == doc,
        "docs/openapi.json is stale: run `cargo xtask codegen` and commit the result"
    );
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert!(v["openapi"].as_str().unwrap().starts_with("3.1"));
}
