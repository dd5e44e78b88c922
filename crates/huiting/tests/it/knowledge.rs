//! The knowledge base through the API: FAQ CRUD and versions, publish → searchable with
//! highlights, drafts hidden from the bot, articles, CSV/XLSX import with a per-row report
//! and export round trip, matching outcomes and thresholds, reply templates and suggestions.

use serde_json::{Value, json};
use test_support::{Client, TestApp};

use crate::{on_backends, s};

/// Sends raw bytes (an import) and returns status and JSON.
async fn raw(
    c: &Client,
    method: &str,
    path: &str,
    ct: &str,
    body: Vec<u8>,
) -> (u16, Value, Vec<u8>) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut rb = c.http.request(m, format!("{}{path}", c.base)).header("content-type", ct);
    if let Some(k) = &c.cookie {
        rb = rb.header("cookie", k);
    }
    if let Some(t) = &c.csrf {
        rb = rb.header("x-csrf-token", t);
    }
    let r = rb.body(body).send().await.unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap().to_vec();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), bytes)
}

fn titles(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|h| s(&h["title_html"])).collect()
}

async fn faqs_versions_search(t: TestApp) {
    let sup = t.as_role("super@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let r = sup
        .post(
            "/api/v1/kb/faqs",
            json!({
                "question": "如何办理退货", "variants": ["退货流程是什么", "怎么退货", "怎么退货"],
                "answer": "{{customer.name}}您好，签收7天内可申请退货。", "category": "退换货",
                "tags": ["退货"], "channels": ["web_chat", "app"]
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!((s(&r.body["status"]), r.body["version"].as_i64()), ("draft".into(), Some(1)));
    assert_eq!(r.body["variants"], json!(["退货流程是什么", "怎么退货"]));
    let id = s(&r.body["id"]);

    // Bad input names the field and leaves nothing behind.
    let bad = sup
        .post("/api/v1/kb/faqs", json!({"question": "发票", "answer": "您好 {{customer.nmae}}"}))
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    assert_eq!(bad.body["field"], "answer");
    assert!(s(&bad.body["message"]).contains("customer.nmae"), "{:?}", bad.body);
    let bad = sup
        .post("/api/v1/kb/faqs", json!({"question": "x", "answer": "y", "valid_from": "tomorrow"}))
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    assert_eq!(sup.get("/api/v1/kb/faqs").await.body.as_array().unwrap().len(), 1);

    // Agents read but may not write.
    assert_eq!(agent.get(&format!("/api/v1/kb/faqs/{id}")).await.status, 200);
    assert_eq!(
        agent.post("/api/v1/kb/faqs", json!({"question": "a", "answer": "b"})).await.status,
        403
    );

    // A draft is found by staff search with drafts, not by the published-only search.
    let q = "/api/v1/kb/search?q=%E6%88%91%E6%83%B3%E9%80%80%E8%B4%A7"; // 我想退货
    assert_eq!(agent.get(q).await.body, json!([]));
    let drafts = agent.get(&format!("{q}&drafts=true")).await;
    assert_eq!(drafts.body.as_array().unwrap().len(), 1, "{:?}", drafts.body);

    // Publish: searchable as soon as the call returns, with highlights.
    let p = sup.post(&format!("/api/v1/kb/faqs/{id}/publish"), json!({})).await;
    assert_eq!(p.status, 200, "{:?}", p.body);
    assert_eq!((s(&p.body["status"]), p.body["version"].as_i64()), ("published".into(), Some(2)));
    let hits = agent.get(q).await;
    assert_eq!(hits.status, 200, "{:?}", hits.body);
    assert_eq!(s(&hits.body[0]["id"]), id);
    assert_eq!(s(&hits.body[0]["kind"]), "faq");
    assert!(titles(&hits.body)[0].contains("<b>退货</b>"), "{:?}", hits.body);
    assert!(s(&hits.body[0]["snippet_html"]).contains("<b>"), "{:?}", hits.body);

    // Edit: a new version, still published, the index follows.
    let e = sup
        .patch(
            &format!("/api/v1/kb/faqs/{id}"),
            json!({"answer": "签收后十五天内可以换货。", "valid_to": null}),
        )
        .await;
    assert_eq!(e.status, 200, "{:?}", e.body);
    assert_eq!(e.body["version"], 3);
    assert_eq!(e.body["status"], "published");
    let hits = agent.get("/api/v1/kb/search?q=%E6%8D%A2%E8%B4%A7").await; // 换货
    assert_eq!(s(&hits.body[0]["id"]), id, "{:?}", hits.body);
    let same = sup
        .patch(&format!("/api/v1/kb/faqs/{id}"), json!({"answer": "签收后十五天内可以换货。"}))
        .await;
    assert_eq!(same.body["version"], 3, "no change, no version");

    // Unpublish hides it again; every step is in the history.
    sup.post(&format!("/api/v1/kb/faqs/{id}/unpublish"), json!({})).await;
    assert_eq!(agent.get(q).await.body, json!([]));
    let v = agent.get(&format!("/api/v1/kb/faqs/{id}/versions")).await;
    let actions: Vec<String> = v.body.as_array().unwrap().iter().map(|x| s(&x["action"])).collect();
    assert_eq!(actions, ["unpublish", "edit", "publish", "create"], "{:?}", v.body);
    assert!(s(&v.body[3]["content"]["answer"]).contains("7天"), "old content kept");

    // English through the same index, lower-cased.
    let en = sup
        .post(
            "/api/v1/kb/faqs",
            json!({"question": "How do I reset my Password?", "answer": "Use Forgot Password.", "lang": "en", "publish": true}),
        )
        .await;
    assert_eq!(en.status, 201, "{:?}", en.body);
    let hits = agent.get("/api/v1/kb/search?q=PASSWORD&lang=en").await;
    assert_eq!(s(&hits.body[0]["id"]), s(&en.body["id"]), "{:?}", hits.body);

    // Articles: CRUD, publish, versions, searchable by kind.
    let a = sup
        .post(
            "/api/v1/kb/articles",
            json!({"title": "空调安装须知", "body": "安装前请确认墙体承重，并预留空调孔。", "category": "安装"}),
        )
        .await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let aid = s(&a.body["id"]);
    sup.post(&format!("/api/v1/kb/articles/{aid}/publish"), json!({})).await;
    let hits = agent.get("/api/v1/kb/search?q=%E7%A9%BA%E8%B0%83%E5%AD%94&kind=article").await; // 空调孔
    assert_eq!(s(&hits.body[0]["id"]), aid, "{:?}", hits.body);
    let u = sup
        .patch(&format!("/api/v1/kb/articles/{aid}"), json!({"title": "空调安装注意事项"}))
        .await;
    assert_eq!(u.body["version"], 3, "{:?}", u.body);
    assert_eq!(sup.delete(&format!("/api/v1/kb/articles/{aid}")).await.status, 204);
    assert_eq!(agent.get(&format!("/api/v1/kb/articles/{aid}")).await.status, 404);
    let v = agent.get(&format!("/api/v1/kb/articles/{aid}/versions")).await;
    assert_eq!(v.body.as_array().unwrap().len(), 4, "history outlives the article: {:?}", v.body);
    assert_eq!(agent.get("/api/v1/kb/search?q=%E7%A9%BA%E8%B0%83%E5%AD%94").await.body, json!([]));

    // Delete an FAQ entry; other workspaces never see any of it.
    let other = t.login(&t.other_ws.slug, t.other_admin.email.as_str()).await;
    assert_eq!(other.get(&format!("/api/v1/kb/faqs/{id}")).await.status, 404);
    assert_eq!(other.get("/api/v1/kb/search?q=PASSWORD").await.body, json!([]));
    assert_eq!(sup.delete(&format!("/api/v1/kb/faqs/{id}")).await.status, 204);
    assert_eq!(agent.get(&format!("/api/v1/kb/faqs/{id}")).await.status, 404);
    let v = agent.get(&format!("/api/v1/kb/faqs/{id}/versions")).await;
    assert_eq!(s(&v.body[0]["action"]), "delete");

    // Events and audit entries were written.
    let audit = t.as_role("admin@acme.test").await.get("/api/v1/audit?limit=200").await;
    let text = audit.body.to_string();
    assert!(text.contains("kb_faq.publish") && text.contains("kb_article.delete"), "{text}");
}
on_backends!(faqs_versions_and_search, faqs_versions_search);

const SHEET: &str = "分类,问题,相似问法,答案,标签\n\
退换货,怎么申请退货,\"我想退货\n退货流程|如何办理退货\",在订单中申请售后即可。,退货\n\
发票,怎么开发票,开票；发票在哪里申请,在订单详情页申请开票。,\"发票,开票\"\n\
发票,,没有问题的行,答案,\n\
保修,保修多久,质保几年,\"您好 {{customer.nmae}}\",\n\
保修,怎么申请维修,报修流程|东西坏了怎么修,在订单中申请维修。,维修\n";

async fn import_export(t: TestApp) {
    let sup = t.as_role("super@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    // A dry run reports and stores nothing.
    let (st, dry, _) =
        raw(&sup, "POST", "/api/v1/kb/import?dry_run=true", "text/csv", SHEET.as_bytes().to_vec())
            .await;
    assert_eq!(st, 200, "{dry:?}");
    assert_eq!((dry["rows"].as_u64(), dry["created"].as_u64()), (Some(5), Some(3)), "{dry:?}");
    assert!(sup.get("/api/v1/kb/faqs").await.body.as_array().unwrap().is_empty());

    let (st, r, _) =
        raw(&sup, "POST", "/api/v1/kb/import", "text/csv", SHEET.as_bytes().to_vec()).await;
    assert_eq!(st, 200, "{r:?}");
    assert_eq!(r["created"], 3, "{r:?}");
    assert_eq!(r["rejected"], 2, "{r:?}");
    let errs: Vec<(u64, String)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), s(&e["column"])))
        .collect();
    assert_eq!(errs, [(4, "问题".to_string()), (5, "答案".to_string())], "{r:?}");
    assert!(s(&r["errors"][1]["message"]).contains("customer.nmae"), "{r:?}");
    let list = agent.get("/api/v1/kb/faqs").await.body;
    assert_eq!(list.as_array().unwrap().len(), 3);
    let ret = list.as_array().unwrap().iter().find(|f| f["question"] == "怎么申请退货").unwrap();
    assert_eq!(ret["variants"], json!(["我想退货", "退货流程", "如何办理退货"]));
    assert_eq!(ret["status"], "published");
    // Imported entries are searchable at once.
    let hits = agent.get("/api/v1/kb/search?q=%E5%BC%80%E7%A5%A8").await; // 开票
    assert_eq!(s(&hits.body[0]["title_html"]), "怎么开发票", "{:?}", hits.body);

    // Export round trip, CSV and XLSX: importing the export changes nothing.
    for (format, ct) in [
        ("csv", "text/csv"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ] {
        let (st, _, bytes) =
            raw(&agent, "GET", &format!("/api/v1/kb/export?format={format}"), "text/plain", vec![])
                .await;
        assert_eq!(st, 200);
        if format == "csv" {
            let text = String::from_utf8(bytes.clone()).unwrap();
            assert!(text.starts_with("\u{feff}问题,相似问法,答案"), "{text}");
        }
        let (st, r, _) = raw(&sup, "POST", "/api/v1/kb/import", ct, bytes).await;
        assert_eq!(st, 200, "{r:?}");
        assert_eq!(
            (r["created"].as_u64(), r["updated"].as_u64()),
            (Some(0), Some(0)),
            "{format}: {r:?}"
        );
        assert_eq!(r["unchanged"], 3, "{format}: {r:?}");
    }
    // A changed answer in a re-import updates that entry as a new version.
    let changed = SHEET.replace("在订单中申请售后即可。", "在“我的订单”中申请售后。");
    let (_, r, _) = raw(&sup, "POST", "/api/v1/kb/import", "text/csv", changed.into_bytes()).await;
    assert_eq!(r["updated"], 1, "{r:?}");
    let id = s(&ret["id"]);
    let v = agent.get(&format!("/api/v1/kb/faqs/{id}/versions")).await;
    assert_eq!(s(&v.body[0]["action"]), "import");

    // Garbage and headerless files are refused whole.
    let (st, e, _) =
        raw(&sup, "POST", "/api/v1/kb/import", "text/csv", b"a,b\n1,2\n".to_vec()).await;
    assert_eq!(st, 400, "{e:?}");
    assert!(s(&e["message"]).contains("问题"), "{e:?}");
    let (st, _, _) = raw(
        &sup,
        "POST",
        "/api/v1/kb/import?format=xlsx",
        "application/octet-stream",
        b"PK\x03\x04nope".to_vec(),
    )
    .await;
    assert_eq!(st, 400);
}
on_backends!(import_with_bad_rows_and_export_round_trip, import_export);

/// A sheet larger than one chunk of events and audit entries (200) commits in one transaction
/// on both backends (SQLite once failed here, calling PostgreSQL's `pg_notify`).
async fn large_import(t: TestApp) {
    let sup = t.as_role("super@acme.test").await;
    let mut sheet = String::from("分类,问题,相似问法,答案,标签\n");
    for i in 0..450 {
        sheet.push_str(&format!(
            "批量,第{i}号商品怎么保养,{i}号保养方法,按说明书第{i}页保养。,保养\n"
        ));
    }
    let (st, r, _) = raw(&sup, "POST", "/api/v1/kb/import", "text/csv", sheet.into_bytes()).await;
    assert_eq!(st, 200, "{r:?}");
    assert_eq!((r["created"].as_u64(), r["rejected"].as_u64()), (Some(450), Some(0)), "{r:?}");
    let list = sup.get("/api/v1/kb/faqs").await.body;
    assert_eq!(list.as_array().map(Vec::len), Some(450), "{list:?}");
    let hits = sup.get("/api/v1/kb/search?q=%E4%BF%9D%E5%85%BB").await;
    assert_eq!(hits.status, 200, "{:?}", hits.body);
}
on_backends!(an_import_larger_than_one_chunk_commits, large_import);

async fn matching_and_assist(t: TestApp) {
    let sup = t.as_role("super@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let faqs = [
        (
            "怎么申请退货",
            vec!["我想退货", "退货流程是什么", "如何办理退货"],
            "{{customer.name}}您好，在订单中申请售后即可退货。",
            "zh",
        ),
        (
            "退款多久到账",
            vec!["钱什么时候退回来", "退款几天到", "多久能收到退款"],
            "退款1–3个工作日原路退回。",
            "zh",
        ),
        (
            "怎么开发票",
            vec!["我要开发票", "发票在哪里申请", "如何开具发票"],
            "在订单详情页申请开票。",
            "zh",
        ),
        (
            "电子发票在哪里下载",
            vec!["发票在哪看", "下载发票", "电子发票怎么获取"],
            "在订单详情页下载电子发票。",
            "zh",
        ),
        (
            "How do I return an item?",
            vec!["I want to return something", "return process"],
            "Open My Orders and choose Return.",
            "en",
        ),
    ];
    for (q, v, a, l) in faqs {
        let r = sup
            .post(
                "/api/v1/kb/faqs",
                json!({"question": q, "variants": v, "answer": a, "lang": l, "publish": true}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    // A draft never answers.
    sup.post(
        "/api/v1/kb/faqs",
        json!({"question": "保修多久", "variants": ["质保几年"], "answer": "一年。"}),
    )
    .await;

    let (_visitor, conv_id) = t.visitor("王芳", "我的退款多久能到账啊").await;
    let conv = agent.get(&format!("/api/v1/conversations/{conv_id}")).await;
    assert_eq!(conv.status, 200, "{:?}", conv.body);
    let cid = s(&conv.body["customer_id"]);
    let m = agent.post("/api/v1/kb/match", json!({"text": "我想退货", "customer_id": cid})).await;
    assert_eq!(m.status, 200, "{:?}", m.body);
    assert_eq!(m.body["outcome"], "answer", "{:?}", m.body);
    assert_eq!(m.body["candidates"][0]["question"], "怎么申请退货");
    assert_eq!(m.body["reply"], "王芳您好，在订单中申请售后即可退货。", "{:?}", m.body);

    let m = agent.post("/api/v1/kb/match", json!({"text": "今天天气怎么样"})).await;
    assert_eq!(m.body["outcome"], "no_match", "{:?}", m.body);
    assert!(s(&m.body["reply"]).contains("换个说法"), "{:?}", m.body);
    let m = agent.post("/api/v1/kb/match", json!({"text": "质保几年"})).await;
    assert_eq!(m.body["outcome"], "no_match", "drafts do not answer: {:?}", m.body);

    // English message, English entry, English reply.
    let m = agent.post("/api/v1/kb/match", json!({"text": "I want to return something"})).await;
    assert_eq!(m.body["detected_lang"], "en", "{:?}", m.body);
    assert_eq!(m.body["outcome"], "answer", "{:?}", m.body);
    assert_eq!(m.body["reply_lang"], "en");

    // Thresholds per workspace: with a high answer threshold the same message asks to
    // confirm, with the question in the prompt.
    let bad = sup
        .put("/api/v1/kb/settings", json!({"answer_threshold": 0.2, "confirm_threshold": 0.5}))
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    let r = sup
        .put("/api/v1/kb/settings", json!({"answer_threshold": 0.99, "confirm_threshold": 0.2}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let m = agent.post("/api/v1/kb/match", json!({"text": "发票"})).await;
    assert_eq!(m.body["outcome"], "confirm", "{:?}", m.body);
    let n = m.body["candidates"].as_array().unwrap().len();
    assert!((1..=3).contains(&n), "{:?}", m.body);
    assert!(s(&m.body["reply"]).starts_with("您是想问"), "{:?}", m.body);
    assert_eq!(agent.get("/api/v1/kb/settings").await.body["answer_threshold"], 0.99);

    // Reply templates: CRUD, unique names, rendering with customer and ticket.
    let tpl = sup
        .post(
            "/api/v1/kb/templates",
            json!({"name": "退款说明", "body": "{{customer.name}}您好，工单{{ticket.no}}的退款将在1–3个工作日到账。——{{agent.name}}", "tags": ["退款"]}),
        )
        .await;
    assert_eq!(tpl.status, 201, "{:?}", tpl.body);
    let tid = s(&tpl.body["id"]);
    let dup = sup.post("/api/v1/kb/templates", json!({"name": "退款说明", "body": "x"})).await;
    assert_eq!(dup.status, 409, "{:?}", dup.body);
    sup.post("/api/v1/kb/templates", json!({"name": "开场问候", "body": "您好，很高兴为您服务。"}))
        .await;
    let r = agent
        .post(&format!("/api/v1/kb/templates/{tid}/render"), json!({"conversation_id": conv_id}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(s(&r.body["text"]).starts_with("王芳您好，工单{{ticket.no}}"), "{:?}", r.body);
    assert_eq!(r.body["missing"], json!(["ticket.no"]));
    assert!(!s(&r.body["text"]).contains("{{agent.name}}"), "{:?}", r.body);

    let sug = agent.get(&format!("/api/v1/conversations/{conv_id}/suggestions")).await;
    assert_eq!(sug.status, 200, "{:?}", sug.body);
    assert_eq!(sug.body["message"], "我的退款多久能到账啊");
    assert_eq!(sug.body["faqs"][0]["question"], "退款多久到账", "{:?}", sug.body);
    assert_eq!(sug.body["templates"][0]["name"], "退款说明", "{:?}", sug.body);
    assert!(sug.body["took_ms"].as_f64().unwrap() >= 0.0);

    let other = t.login(&t.other_ws.slug, t.other_admin.email.as_str()).await;
    assert_eq!(
        other.get(&format!("/api/v1/conversations/{conv_id}/suggestions")).await.status,
        404
    );
    assert_eq!(sup.delete(&format!("/api/v1/kb/templates/{tid}")).await.status, 204);
    assert_eq!(agent.get("/api/v1/kb/templates").await.body.as_array().unwrap().len(), 1);
}
on_backends!(matching_outcomes_templates_and_suggestions, matching_and_assist);

#[test]
fn the_demo_faq_has_enough_entries() {
    // The shipped FAQ: ≥ 80 Chinese entries with ≥ 3 variants each, ~10 English ones.
    use app::bot::kb_io::{SheetFormat, check_rows, read_sheet};
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo_faq.csv")).unwrap();
    let rows = read_sheet(&bytes, SheetFormat::Csv).unwrap();
    let (good, bad) = check_rows(&rows, domain::KbStatus::Published).unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    let zh = good.iter().filter(|(_, r)| r.content.lang == domain::KbLang::Zh).count();
    let en = good.len() - zh;
    assert!(zh >= 80 && en >= 10, "{zh} zh, {en} en");
    assert!(good.iter().all(|(_, r)| r.content.variants.len() >= 3), "3+ variants each");
}
