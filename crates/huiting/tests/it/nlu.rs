//! The language engine: intents and examples through the API, background training, versions
//! and rollback, analysis with the active model; and the `huiting nlu` commands on TSV files.

use serde_json::{Value, json};
use test_support::TestApp;

use crate::{cli::bin, on_backends, s};

const REFUND: &[&str] = &["我要退款", "退钱给我", "怎么申请退款", "refund please", "能退款吗"];
const TRACK: &[&str] =
    &["我的快递到哪了", "物流信息查不到", "包裹什么时候到", "where is my package"];

async fn train_and_analyze(t: TestApp) {
    let sup = t.as_role("super@acme.test").await;
    let r = sup
        .post(
            "/api/v1/nlu/intents",
            json!({"name": "Refund", "description": "退款", "examples": REFUND}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["name"], "refund");
    assert_eq!(r.body["examples"], 5);
    assert_eq!(r.body["example_list"][0]["source"], "manual");
    let refund = s(&r.body["id"]);

    // One intent is not enough to train.
    let r = sup.post("/api/v1/nlu/models", json!({})).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert!(s(&r.body["message"]).contains("at least two intents"), "{:?}", r.body);

    let r =
        sup.post("/api/v1/nlu/intents", json!({"name": "track", "examples": &TRACK[..2]})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let track = s(&r.body["id"]);
    let r = sup
        .post(&format!("/api/v1/nlu/intents/{track}/examples"), json!({"examples": TRACK}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body.as_array().unwrap().len(), 2, "known texts are skipped: {:?}", r.body);
    let list = sup.get("/api/v1/nlu/intents").await;
    let names: Vec<String> = list.body.as_array().unwrap().iter().map(|i| s(&i["name"])).collect();
    assert_eq!(names, ["refund", "track"]);
    assert_eq!(list.body[1]["examples"], 4);

    // Without a model: sentiment and entities, no intent.
    let agent = t.as_role("agent@acme.test").await;
    let a = agent.post("/api/v1/nlu/analyze", json!({"text": "订单DD20261102001还没到"})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["intent"], Value::Null);
    assert_eq!(a.body["lang"], "zh");
    assert_eq!(a.body["entities"][0]["kind"], "order_no");

    let r = sup.post("/api/v1/nlu/models", json!({"kind": "intent"})).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!((s(&r.body["status"]), r.body["version"].as_i64()), ("training".into(), Some(1)));
    let v1 = s(&r.body["id"]);
    let again = sup.post("/api/v1/nlu/models", json!({})).await;
    assert_eq!(again.status, 409, "one training at a time: {:?}", again.body);
    assert!(t.run_pending_jobs().await >= 1);

    let models = sup.get("/api/v1/nlu/models").await;
    let m = &models.body[0];
    assert_eq!((s(&m["status"]), m["active"].as_bool()), ("ready".into(), Some(true)), "{m:?}");
    assert_eq!(m["metrics"]["examples"], 9);
    assert_eq!(m["metrics"]["labels"], json!(["refund", "track"]));

    let a = agent.post("/api/v1/nlu/analyze", json!({"text": "我要退款，退钱给我"})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["intent"]["top"][0]["intent"], "refund", "{:?}", a.body);
    let a = agent.post("/api/v1/nlu/analyze", json!({"text": "我的快递到哪了"})).await;
    assert_eq!(a.body["intent"]["top"][0]["intent"], "track", "{:?}", a.body);

    // A second version becomes active; rolling back to the first works.
    sup.patch(&format!("/api/v1/nlu/intents/{refund}"), json!({"description": "退款与退货"})).await;
    let r = sup.post("/api/v1/nlu/models", json!({})).await;
    assert_eq!(r.body["version"], 2);
    t.run_pending_jobs().await;
    let r = sup.post(&format!("/api/v1/nlu/models/{v1}/activate"), json!({})).await;
    assert_eq!((r.status, r.body["active"].as_bool()), (200, Some(true)), "{:?}", r.body);
    let models = sup.get("/api/v1/nlu/models").await;
    let active: Vec<i64> = models
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["active"] == true)
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(active, [1]);
    let a = agent.post("/api/v1/nlu/analyze", json!({"text": "我要退款"})).await;
    assert_eq!(a.body["intent"]["top"][0]["intent"], "refund", "{:?}", a.body);

    // Deleting leaves the other intent; training events are in the outbox.
    let r = sup.delete(&format!("/api/v1/nlu/intents/{track}")).await;
    assert_eq!(r.status, 204);
    assert_eq!(sup.get(&format!("/api/v1/nlu/intents/{track}")).await.status, 404);
    let ev = sup.get("/api/v1/events").await;
    let kinds = ev.body.to_string();
    assert!(kinds.contains("nlu_model.trained") && kinds.contains("intent.changed"), "{kinds}");
}
on_backends!(intents_train_in_the_background_and_analysis_uses_the_active_model, train_and_analyze);

async fn bad_input(t: TestApp) {
    let sup = t.as_role("super@acme.test").await;
    let r = sup.post("/api/v1/nlu/intents", json!({"name": "oos"})).await;
    assert_eq!(
        (r.status, s(&r.body["code"]), s(&r.body["field"])),
        (400, "invalid_field".into(), "name".into())
    );
    let r = sup.post("/api/v1/nlu/intents", json!({"name": "a b"})).await;
    assert_eq!(r.body["field"], "name");
    let r = sup.post("/api/v1/nlu/intents", json!({"name": "x", "examples": ["  "]})).await;
    assert_eq!(r.body["field"], "text");
    let r = sup.post("/api/v1/nlu/intents", json!({"name": "refund"})).await;
    assert_eq!(r.status, 201);
    let id = s(&r.body["id"]);
    let r = sup.post("/api/v1/nlu/intents", json!({"name": "REFUND"})).await;
    assert_eq!((r.status, s(&r.body["code"])), (409, "conflict".into()), "{:?}", r.body);
    let r = sup
        .post(
            &format!("/api/v1/nlu/intents/{id}/examples"),
            json!({"examples": ["a"], "source": "web"}),
        )
        .await;
    assert_eq!(r.body["field"], "source");
    let r = sup.post("/api/v1/nlu/models", json!({"kind": "sentiment"})).await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "kind".into()));
    let r = sup.post("/api/v1/nlu/analyze", json!({"text": "长".repeat(5001)})).await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "text".into()));
    let r = sup.post("/api/v1/nlu/analyze", json!({"text": ""})).await;
    assert_eq!((r.status, r.body["sentiment"]["polarity"].clone()), (200, json!("neutral")));
    assert_eq!(sup.get("/api/v1/nlu/intents/not-an-id").await.status, 404);
    let r = sup
        .post("/api/v1/nlu/models/019a0000-0000-7000-8000-000000000000/activate", json!({}))
        .await;
    assert_eq!(r.status, 404);
    let agent = t.as_role("agent@acme.test").await;
    let r = agent.post("/api/v1/nlu/intents", json!({"name": "track"})).await;
    assert_eq!((r.status, s(&r.body["code"])), (403, "forbidden".into()));
    // Nothing of that changed the intents.
    assert_eq!(sup.get("/api/v1/nlu/intents").await.body.as_array().unwrap().len(), 1);
}
on_backends!(bad_nlu_input_gets_a_clear_error, bad_input);

fn run(args: &[&str]) -> (bool, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn cli_eval_train_and_try() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let mut train = String::new();
    for t in REFUND {
        train.push_str(&format!("{t}\trefund\n"));
    }
    for t in TRACK {
        train.push_str(&format!("{t}\ttrack\n"));
    }
    train.push_str("\n今天天气怎么样\toos\n讲个笑话\toos\n");
    std::fs::write(p("train.tsv"), train).unwrap();
    std::fs::write(p("test.tsv"), "能退款吗\trefund\n快递到哪里了\ttrack\n你喜欢什么颜色\toos\n")
        .unwrap();

    let (ok, out, err) =
        run(&["nlu", "eval", "--train", &p("train.tsv"), "--test", &p("test.tsv"), "--json"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).expect("one JSON object");
    for k in [
        "accuracy",
        "macro_f1",
        "in_scope_accuracy",
        "oos_recall",
        "train_seconds",
        "latency_p50_us",
        "latency_p99_us",
    ] {
        assert!(v[k].is_number(), "{k} in {v}");
    }
    assert_eq!(v["test_examples"], 3);

    // Without oos rows, the oos metrics are null.
    std::fs::write(p("test2.tsv"), "能退款吗\trefund\n").unwrap();
    let (ok, out, err) =
        run(&["nlu", "eval", "--train", &p("train.tsv"), "--test", &p("test2.tsv"), "--json"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v["in_scope_accuracy"].is_null() && v["oos_recall"].is_null(), "{v}");

    let (ok, out, err) = run(&["nlu", "train", "--train", &p("train.tsv"), "--out", &p("m.bin")]);
    assert!(ok, "{err}");
    assert!(out.contains("labels      2 (refund, track)"), "{out}");
    let (ok, out, err) =
        run(&["nlu", "try", "--model", &p("m.bin"), "--json", "我要退款，订单DD20261102001"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["intent"]["top"][0]["intent"], "refund", "{v}");
    assert_eq!(v["entities"][0]["value"], "DD20261102001", "{v}");

    let (ok, _, err) = run(&["nlu", "try", "你好"]);
    assert!(ok, "{err}");

    std::fs::write(p("bad.tsv"), "我要退款\trefund\nno tab\n").unwrap();
    let (ok, _, err) = run(&["nlu", "eval", "--train", &p("bad.tsv"), "--test", &p("test.tsv")]);
    assert!(!ok && err.contains("bad.tsv:2: no TAB"), "{err}");
    std::fs::write(p("empty.tsv"), "").unwrap();
    let (ok, _, err) =
        run(&["nlu", "sentiment-eval", "--train", &p("empty.tsv"), "--test", &p("test.tsv")]);
    assert!(!ok && err.contains("no examples"), "{err}");

    std::fs::write(
        p("s.tsv"),
        "很好用，满意\t1\n质量太差了\t0\n物流很快，好评\t1\n垃圾，退货\t0\n",
    )
    .unwrap();
    std::fs::write(p("s_test.tsv"), "非常满意\t正面\n太差了\t负面\n").unwrap();
    let (ok, out, err) = run(&[
        "nlu",
        "sentiment-eval",
        "--train",
        &p("s.tsv"),
        "--test",
        &p("s_test.tsv"),
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v["accuracy"].is_number() && v["oos_recall"].is_null(), "{v}");
}
