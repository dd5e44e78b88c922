//! `huiting bot test` runs every conversation script in `crates/huiting/bot-tests/` against a
//! freshly seeded demo bot (`huiting demo --no-history --seed-only`: the demo's intents, FAQ,
//! flows and connectors to the demo order system), on SQLite and on PostgreSQL when
//! `HUITING_TEST_PG` is set; a script whose check fails is reported and fails the command.

use std::process::Output;

use crate::cli::{bin, free_port};

fn ok(what: &str, out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn run_scripts(backend: test_support::Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mut common = vec!["--data-dir".to_owned(), dir.path().to_str().unwrap().to_owned()];
    if let test_support::Backend::Postgres(url) = &backend {
        let fresh = test_support::fresh_pg_database(url).await.unwrap();
        common.extend(["--database-url".to_owned(), fresh]);
    }
    let orders = format!("127.0.0.1:{}", free_port());
    let seed = tokio::task::spawn_blocking({
        let common = common.clone();
        move || {
            bin()
                .args(&common)
                .args(["demo", "--no-history", "--seed-only", "--orders-listen", &orders])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    ok("seeding the demo bot", &seed);

    let scripts = concat!(env!("CARGO_MANIFEST_DIR"), "/bot-tests");
    // A script that must fail, beside the real ones.
    let bad = dir.path().join("must-fail.txt");
    std::fs::write(&bad, "customer: 包邮吗\nbot: 这句话不会出现\n").unwrap();
    let out = tokio::task::spawn_blocking({
        let common = common.clone();
        let bad = bad.clone();
        move || bin().args(&common).args(["bot", "test", scripts]).arg(&bad).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("FAIL") && stdout.contains("must-fail.txt"), "{stdout}");
    assert!(stdout.contains("expected a reply containing '这句话不会出现'"), "{stdout}");
    let failed: Vec<&str> =
        stdout.lines().filter(|l| l.starts_with("FAIL") && !l.contains("must-fail")).collect();
    assert!(failed.is_empty(), "{backend:?}: scripts failed:\n{stdout}");
    let passed = stdout.lines().filter(|l| l.starts_with("PASS")).count();
    assert!(passed >= 100, "only {passed} scripts passed:\n{stdout}");
    eprintln!("-- {passed} conversation scripts passed on {backend:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conversation_scripts_pass_on_the_demo_bot() {
    let runs: Vec<_> =
        test_support::backends().into_iter().map(|b| tokio::spawn(run_scripts(b))).collect();
    for r in runs {
        r.await.unwrap();
    }
}
