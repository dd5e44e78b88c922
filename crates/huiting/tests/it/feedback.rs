//! Feedback intake (FB-2) and reviews (IN-5), classification with deadlines (FB-3, FB-4) and
//! churn risk (AN-5) through the API: multipart uploads typed by their bytes, size and type
//! refusals, the public form, CSV / JSON review import deduplicated on re-import, message
//! signals, the 15-minute assignment warning, overdue marking, and the churn score's factors.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{Client, Resp, TestApp};

use crate::{items, on_backends, s};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const WAV: &[u8] =
    b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\0\0\0\0";

/// Sends a multipart body built by hand: text fields, then files (name, declared type, bytes).
pub(crate) async fn multipart(
    c: &Client,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> Resp {
    let boundary = "----huiting-test-boundary";
    let mut body: Vec<u8> = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (name, ct, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let mut rb = c
        .http
        .post(format!("{}{path}", c.base))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body);
    if let Some(k) = &c.cookie {
        rb = rb.header("cookie", k);
    }
    if let Some(t) = &c.csrf {
        rb = rb.header("x-csrf-token", t);
    }
    if let Some(b) = &c.bearer {
        rb = rb.bearer_auth(b);
    }
    let r = rb.send().await.expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Resp { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), headers }
}

async fn intake(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    let c = agent.post("/api/v1/customers", json!({"name": "王五"})).await;
    let customer = s(&c.body["id"]);
    // The PNG is declared as text/plain: the stored type comes from the bytes.
    let r = multipart(
        &agent,
        "/api/v1/feedback",
        &[
            ("body", "收到的洗衣机外壳有划痕，很不满意"),
            ("rating", "2"),
            ("sku", "WM-100"),
            ("customer_id", &customer),
        ],
        &[("photo.txt", "text/plain", PNG), ("voice.wav", "application/octet-stream", WAV)],
    )
    .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = s(&r.body["id"]);
    let atts = items(&r.body["attachments"]);
    assert_eq!(atts.len(), 2);
    assert_eq!(
        (s(&atts[0]["kind"]), s(&atts[0]["content_type"])),
        ("image".into(), "image/png".into())
    );
    assert_eq!(
        (s(&atts[1]["kind"]), s(&atts[1]["content_type"])),
        ("voice".into(), "audio/wav".into())
    );
    assert_eq!(r.body["source"], "api");
    assert_eq!(r.body["signal"]["kind"], "complaint", "{:?}", r.body["signal"]);
    assert_eq!(r.body["signal"]["product"], "WM-100");
    assert!(r.body["signal"]["assign_due_at"].is_string());
    // The bytes come back as stored, as a download with the sniffed type.
    let dl = agent
        .http
        .get(format!("{}/api/v1/feedback/{id}/attachments/{}", agent.base, s(&atts[0]["id"])))
        .header("cookie", agent.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(dl.status().as_u16(), 200);
    assert_eq!(dl.headers()["content-type"], "image/png");
    assert_eq!(dl.headers()["x-content-type-options"], "nosniff");
    assert_eq!(dl.bytes().await.unwrap().as_ref(), PNG);

    // Refused with a clear error: a script posing as an image, an oversized image, nothing at
    // all, too many files. Nothing of them is stored.
    let fake = multipart(
        &agent,
        "/api/v1/feedback",
        &[("body", "x")],
        &[("a.png", "image/png", b"<script>alert(1)</script>")],
    )
    .await;
    assert_eq!(
        (fake.status, s(&fake.body["code"])),
        (415, "unsupported_media_type".into()),
        "{:?}",
        fake.body
    );
    assert!(s(&fake.body["message"]).contains("a.png"));
    let mut big = PNG.to_vec();
    big.resize(6 * 1024 * 1024, 0);
    let r =
        multipart(&agent, "/api/v1/feedback", &[("body", "x")], &[("big.png", "image/png", &big)])
            .await;
    assert_eq!((r.status, s(&r.body["code"])), (413, "payload_too_large".into()), "{:?}", r.body);
    let r = multipart(&agent, "/api/v1/feedback", &[("body", "  ")], &[]).await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "body".into()));
    let six: Vec<(&str, &str, &[u8])> = (0..6).map(|_| ("p.png", "image/png", PNG)).collect();
    let r = multipart(&agent, "/api/v1/feedback", &[("body", "x")], &six).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = agent.post("/api/v1/feedback", json!({"body": "x", "rating": 9})).await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "rating".into()));
    assert_eq!(items(&agent.get("/api/v1/feedback").await.body).len(), 1);

    // The public form: the workspace's public key; a visitor token ties it to the visitor.
    let anon = t.anon();
    let r = anon.post("/api/v1/public/feedback", json!({"public_key": t.ws.public_key, "body": "建议增加夜间客服", "contact": "138****"})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(r.body.get("signal").is_none() && r.body.get("customer_id").is_none(), "{:?}", r.body);
    let r = multipart(
        &anon,
        &format!("/api/v1/public/feedback?public_key={}", t.ws.public_key),
        &[("body", "语音留言")],
        &[("v.wav", "audio/wav", WAV)],
    )
    .await;
    assert_eq!((r.status, r.body["attachments"].as_i64()), (201, Some(1)), "{:?}", r.body);
    let r = anon.post("/api/v1/public/feedback", json!({"public_key": "nope", "body": "x"})).await;
    assert_eq!(r.status, 404);
    let (visitor, _) = t.visitor("访客甲", "你好").await;
    let r = visitor
        .post(
            "/api/v1/public/feedback",
            json!({"public_key": t.ws.public_key, "body": "页面很好用"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);

    let forms = items(&agent.get("/api/v1/feedback?source=form").await.body);
    assert_eq!(forms.len(), 3);
    let suggestion = items(&agent.get("/api/v1/feedback?kind=suggestion").await.body);
    assert_eq!(suggestion.len(), 1, "{suggestion:?}");
    assert_eq!(suggestion[0]["signal"]["urgency"], "low");
    assert!(
        forms.iter().any(|f| f["customer_id"].is_string()),
        "the visitor's feedback names them"
    );

    // Handling: assign and mark handled; a department member reads none of it.
    let me = t.user("agent@acme.test").id.to_string();
    let r = agent
        .patch(&format!("/api/v1/feedback/{id}"), json!({"assignee_id": me, "status": "handled"}))
        .await;
    assert_eq!((r.status, s(&r.body["status"])), (200, "handled".into()), "{:?}", r.body);
    let tech = t.as_role("tech@acme.test").await;
    assert_eq!(tech.get("/api/v1/feedback").await.status, 403);
    assert_eq!(tech.get(&format!("/api/v1/customers/{customer}/churn")).await.status, 403);
    let hist = t.as_role("audit@acme.test").await.get("/api/v1/audit").await;
    assert!(items(&hist.body).iter().any(|e| e["action"] == "feedback.create"));
}
on_backends!(feedback_intake_sniffs_limits_and_stores, intake);

async fn reviews(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    let csv = "平台,评分,评价内容,评价时间,订单号,SKU\n\
               淘宝,1,电视用了三天就坏了，要求退款,2026-10-30 14:05,TB1001,TV-55\n\
               京东,5,物流很快，包装完好,2026/10/31 09:00,JD2002,TV-55\n\
               京东,九,评分写错了,2026-10-31,JD2003,TV-55\n";
    let send = |body: &'static str, ct: &'static str| {
        let agent = agent.clone();
        async move {
            let r = agent
                .http
                .post(format!("{}/api/v1/feedback/import", agent.base))
                .header("cookie", agent.cookie.clone().unwrap())
                .header("x-csrf-token", agent.csrf.clone().unwrap())
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            let st = r.status().as_u16();
            (st, serde_json::from_str::<Value>(&r.text().await.unwrap()).unwrap())
        }
    };
    let (st, rep) = send(csv, "text/csv").await;
    assert_eq!(st, 200, "{rep:?}");
    assert_eq!(
        (rep["rows"].as_i64(), rep["created"].as_i64(), rep["duplicates"].as_i64()),
        (Some(3), Some(2), Some(0))
    );
    let errs = items(&rep["errors"]);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["row"], 4);
    assert!(s(&errs[0]["message"]).contains("rating"), "{errs:?}");
    // Re-importing the same file adds nothing.
    let (_, rep) = send(csv, "text/csv").await;
    assert_eq!(
        (rep["created"].as_i64(), rep["duplicates"].as_i64()),
        (Some(0), Some(2)),
        "{rep:?}"
    );
    // JSON, with the platform's own review ids.
    let json_body = r#"[{"platform": "pdd", "id": "R-1", "rating": 2, "text": "客服态度差", "time": "2026-11-01T08:00:00Z", "order": "P1", "sku": "AC-1"},
                        {"platform": "pdd", "id": "R-1", "rating": 2, "text": "客服态度差（重复）"},
                        {"platform": "pdd", "text": ""}]"#;
    let (st, rep) = send(json_body, "application/json").await;
    assert_eq!(st, 200, "{rep:?}");
    assert_eq!(
        (rep["created"].as_i64(), rep["duplicates"].as_i64()),
        (Some(1), Some(1)),
        "{rep:?}"
    );
    assert_eq!(items(&rep["errors"])[0]["row"], 3);
    let (st, _) = send("not json", "application/json").await;
    assert_eq!(st, 400);

    let list = items(&agent.get("/api/v1/feedback?source=review").await.body);
    assert_eq!(list.len(), 3);
    let tb = list.iter().find(|r| r["platform"] == "淘宝").unwrap();
    assert_eq!(tb["signal"]["kind"], "complaint");
    assert_eq!(tb["signal"]["urgency"], "high", "a one-star complaint: {:?}", tb["signal"]);
    assert_eq!(tb["signal"]["product"], "TV-55");
    assert_eq!(tb["occurred_at"], "2026-10-30T06:05:00Z");
    let jd = list.iter().find(|r| r["platform"] == "京东").unwrap();
    assert_ne!(jd["signal"]["kind"], "complaint");
    assert_eq!(items(&agent.get("/api/v1/feedback?platform=pdd").await.body).len(), 1);
    assert_eq!(items(&agent.get("/api/v1/signals?source=review").await.body).len(), 3);
}
on_backends!(review_import_reports_rows_and_deduplicates, reviews);

async fn deadlines(t: TestApp) {
    t.bot_off().await;
    let sup = t.as_role("super@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let (_, conv) = t.visitor("投诉人", "我要投诉！你们卖的冰箱不制冷，太差了，必须赔偿").await;
    let (_, calm) = t.visitor("咨询人", "请问周末送货吗？").await;
    t.run_pending_jobs().await;
    let sig = items(&agent.get("/api/v1/signals?source=message").await.body);
    let of = |c: &str| sig.iter().find(|x| x["conversation_id"] == json!(c)).cloned().unwrap();
    let complaint = of(&conv);
    assert_eq!(complaint["kind"], "complaint", "{complaint:?}");
    assert!(["medium", "high"].contains(&complaint["urgency"].as_str().unwrap()));
    assert!(complaint["problem_code"].is_string(), "{complaint:?}");
    assert_eq!(of(&calm)["kind"], "inquiry");
    assert_eq!(of(&calm)["urgency"], "low");

    // Nobody took the complaint within 15 minutes: the supervisors hear of it.
    t.advance(Duration::from_secs(15 * 60));
    t.run_pending_jobs().await;
    let n = items(&sup.get("/api/v1/notifications").await.body);
    assert_eq!(n.iter().filter(|x| x["kind"] == "complaint.unassigned").count(), 1, "{n:?}");
    // Past its deadline, still open: overdue, and supervised.
    t.advance(Duration::from_secs(72 * 3600));
    t.run_pending_jobs().await;
    // Sessions expire after 12 hours: log in again.
    let agent = t.as_role("agent@acme.test").await;
    let sup = t.as_role("super@acme.test").await;
    let over = items(&agent.get("/api/v1/signals?overdue=true").await.body);
    assert_eq!(over.len(), 1, "only the complaint has a deadline job: {over:?}");
    assert_eq!(over[0]["conversation_id"], json!(conv));
    let n = items(&sup.get("/api/v1/notifications").await.body);
    assert!(n.iter().any(|x| x["kind"] == "feedback.overdue"), "{n:?}");
}
on_backends!(complaints_warned_unassigned_and_overdue, deadlines);

async fn churn(t: TestApp) {
    t.bot_off().await;
    let agent = t.as_role("agent@acme.test").await;
    // An unhappy customer: two complaint conversations and a one-star survey; spend on record.
    let (v, c1) = t.visitor("老客户", "我要投诉，空调坏了，太差了").await;
    let cust = s(&agent.get(&format!("/api/v1/conversations/{c1}")).await.body["customer_id"]);
    let r = agent
        .patch(&format!("/api/v1/customers/{cust}"), json!({"attributes": {"spend": "1000"}}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let c2 = v
        .post(
            "/api/v1/public/conversations",
            json!({"public_key": t.ws.public_key, "message": "又坏了！投诉！退款！"}),
        )
        .await;
    assert_eq!(c2.status, 201, "{:?}", c2.body);
    let tk = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": "空调坏了", "customer_id": cust, "conversation_id": c1}),
        )
        .await;
    let tk = s(&tk.body["id"]);
    // A content customer: one question.
    let (_, c3) = t.visitor("新客户", "请问怎么开发票").await;
    let happy = s(&agent.get(&format!("/api/v1/conversations/{c3}")).await.body["customer_id"]);
    t.run_pending_jobs().await;
    agent.post(&format!("/api/v1/tickets/{tk}/status"), json!({"status": "solved"})).await;
    t.advance(Duration::from_secs(5 * 60));
    t.run_pending_jobs().await;
    let m = agent.get(&format!("/api/v1/tickets/{tk}/messages")).await;
    let token = items(&m.body)
        .iter()
        .find_map(|m| {
            let b = s(&m["body"]);
            b.find("/survey/").map(|i| b[i + 8..].split_whitespace().next().unwrap().to_string())
        })
        .expect("survey link");
    let r = t
        .anon()
        .post(&format!("/api/v1/public/surveys/{token}"), json!({"scores": {"csat": 1}}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    t.advance(Duration::from_secs(9 * 86_400));
    let agent = t.as_role("agent@acme.test").await;
    let sup = t.as_role("super@acme.test").await;

    let r = agent.get(&format!("/api/v1/customers/{cust}/churn")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // complaints 2/3 × 0.35 = 23.33; satisfaction (1 − 0) × 0.30 = 30; recency 9/90 × 0.20 = 2;
    // spend (1 − 1000/5000) × 0.15 = 12: 67.3, high.
    assert_eq!(r.body["score"].as_f64(), Some(67.3), "{:?}", r.body);
    assert_eq!(r.body["level"], "high");
    let names: Vec<String> = items(&r.body["factors"]).iter().map(|f| s(&f["name"])).collect();
    assert_eq!(names, ["satisfaction", "complaints", "spend", "recency"]);
    let low = agent.get(&format!("/api/v1/customers/{happy}/churn")).await;
    assert_eq!(low.body["level"], "low", "{:?}", low.body);
    let list = sup.get("/api/v1/churn").await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    let rows = items(&list.body);
    assert_eq!(s(&rows[0]["customer_id"]), cust);
    assert!(rows.windows(2).all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()));
    assert_eq!(agent.get("/api/v1/churn").await.status, 403);
}
on_backends!(churn_risk_from_complaints_surveys_spend_recency, churn);
