//! Similar solved tickets in agent assist (TK-9): a ticket solved about X is suggested, with
//! the reply that solved it filled for the new customer, to a new conversation about X — in
//! Chinese and in English — and not to an unrelated one, not to its own conversation, not in
//! another workspace; it is gone after a reopen and after the customer's erasure (no text
//! left in the index rows); a merged duplicate is not suggested; the reindex (API and
//! `huiting kb reindex-similar`) rebuilds the rows from the tickets.

use serde_json::{Value, json};
use sqlx::{Connection as _, Row as _};
use test_support::{Client, TestApp};

use crate::{on_backends, s};

/// Opens a chat, files a ticket from it, replies and solves it; returns (conversation, ticket,
/// ticket number).
async fn solved(
    t: &TestApp,
    agent: &Client,
    name: &str,
    message: &str,
    subject: &str,
    code: Option<&str>,
    reply: &str,
) -> (String, String, String) {
    let (_v, conv) = t.visitor(name, message).await;
    let cust = s(&agent.get(&format!("/api/v1/conversations/{conv}")).await.body["customer_id"]);
    let tk = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": subject, "customer_id": cust, "conversation_id": conv, "problem_code": code}),
        )
        .await;
    assert_eq!(tk.status, 201, "{:?}", tk.body);
    let id = s(&tk.body["id"]);
    let r = agent.post(&format!("/api/v1/tickets/{id}/replies"), json!({"body": reply})).await;
    assert!(r.status < 300, "{:?}", r.body);
    let r = agent.post(&format!("/api/v1/tickets/{id}/status"), json!({"status": "solved"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    (conv, id, s(&tk.body["number"]))
}

async fn similar_of(c: &Client, conv: &str) -> Vec<Value> {
    let r = c.get(&format!("/api/v1/conversations/{conv}/suggestions")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["similar_tickets"].as_array().cloned().unwrap_or_default()
}

fn ids(v: &[Value]) -> Vec<String> {
    v.iter().map(|x| s(&x["ticket_id"])).collect()
}

/// Rows of `similar_tickets` whose texts contain `needle`, read straight from the database.
async fn rows_with(t: &TestApp, needle: &str) -> i64 {
    let mut c = sqlx::AnyConnection::connect(&t.db_url).await.expect("raw connection");
    sqlx::query(
        "SELECT COUNT(*) AS n FROM similar_tickets
         WHERE subject LIKE $1 OR problem LIKE $1 OR resolution LIKE $1",
    )
    .bind(format!("%{needle}%"))
    .fetch_one(&mut c)
    .await
    .unwrap()
    .get("n")
}

async fn similar_tickets(t: TestApp) {
    t.bot_off().await;
    let agent = t.as_role("agent@acme.test").await;
    let admin = t.as_role("admin@acme.test").await;

    let (refund_conv, refund, refund_no) = solved(
        &t,
        &agent,
        "张伟",
        "我上周申请的退款到现在还没到账，订单号A1001",
        "退款未到账",
        Some("TD-01"),
        "张伟您好，财务已为您重新发起退款，预计1–3个工作日原路到账。",
    )
    .await;
    let (_, package, _) = solved(
        &t,
        &agent,
        "John Smith",
        "My package has not arrived and the tracking stopped updating",
        "Package not delivered",
        None,
        "Hi John Smith, we asked the carrier to locate your package; it arrives tomorrow.",
    )
    .await;
    let (_, invoice, _) = solved(
        &t,
        &agent,
        "赵敏",
        "发票抬头写错了，能帮我重新开一张吗",
        "发票抬头错误",
        None,
        "已为您作废原发票并重新开具。",
    )
    .await;
    // Indexing is a job enqueued with the status change: nothing before it runs.
    let (_v, zh) = t.visitor("李娜", "退款怎么还没到账啊").await;
    assert!(similar_of(&agent, &zh).await.is_empty(), "indexed only by the job");
    assert!(t.run_pending_jobs().await >= 3);

    // Chinese: the refund ticket, its reply filled for 李娜, nothing unrelated.
    let sim = similar_of(&agent, &zh).await;
    assert_eq!(ids(&sim), vec![refund.clone()], "{sim:?}");
    assert_eq!(s(&sim[0]["number"]), refund_no);
    assert_eq!(s(&sim[0]["subject"]), "退款未到账");
    assert_eq!(s(&sim[0]["problem_code"]), "TD-01");
    assert!(sim[0]["solved_at"].is_string(), "{sim:?}");
    let score = sim[0]["similarity"].as_f64().unwrap();
    assert!((0.45..=1.0).contains(&score), "{sim:?}");
    assert_eq!(
        s(&sim[0]["reply"]["text"]),
        "李娜您好，财务已为您重新发起退款，预计1–3个工作日原路到账。",
        "{sim:?}"
    );

    // English.
    let (_v, en) = t.visitor("Mary", "Where is my package? The tracking is not updating").await;
    let sim = similar_of(&agent, &en).await;
    assert_eq!(ids(&sim), vec![package.clone()], "{sim:?}");
    assert!(s(&sim[0]["reply"]["text"]).starts_with("Hi Mary, we asked the carrier"), "{sim:?}");

    // Unrelated messages get none; a ticket is never suggested to its own conversation.
    for msg in ["你们周末几点上班", "Can I change my delivery address to another city?"] {
        let (_v, other) = t.visitor("王五", msg).await;
        assert!(similar_of(&agent, &other).await.is_empty(), "{msg}");
    }
    assert!(!ids(&similar_of(&agent, &refund_conv).await).contains(&refund));
    let (_v, inv) = t.visitor("孙丽", "发票抬头开错了，可以重开吗").await;
    assert_eq!(ids(&similar_of(&agent, &inv).await), vec![invoice.clone()]);

    // Another workspace sees neither the conversation nor acme's solved tickets.
    let other = t.login(&t.other_ws.slug, t.other_admin.email.as_str()).await;
    assert_eq!(other.get(&format!("/api/v1/conversations/{zh}/suggestions")).await.status, 404);
    let r = t
        .anon()
        .post(
            "/api/v1/public/conversations",
            json!({"public_key": t.other_ws.public_key, "name": "周杰", "message": "我的退款还没到账"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let other_conv = s(&r.body["conversation"]["id"]);
    assert!(similar_of(&other, &other_conv).await.is_empty(), "no acme ticket in other");

    // Reopened: gone once the job ran; solved again: back.
    let r =
        agent.post(&format!("/api/v1/tickets/{refund}/status"), json!({"status": "reopen"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    t.run_pending_jobs().await;
    assert!(similar_of(&agent, &zh).await.is_empty());
    assert_eq!(rows_with(&t, "退款未到账").await, 0, "a reopened ticket keeps no text");
    let r =
        agent.post(&format!("/api/v1/tickets/{refund}/status"), json!({"status": "solved"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    t.run_pending_jobs().await;
    assert_eq!(ids(&similar_of(&agent, &zh).await), vec![refund.clone()]);

    // Erasure: John Smith's ticket leaves the suggestions and the rows keep none of his text.
    assert!(rows_with(&t, "tracking stopped").await > 0);
    let cust = s(&agent.get(&format!("/api/v1/tickets/{package}")).await.body["customer_id"]);
    let r =
        admin.post(&format!("/api/v1/customers/{cust}/erase"), json!({"reason": "PIPL-7"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(similar_of(&agent, &en).await.is_empty(), "erased at once, no job needed");
    for needle in ["John", "tracking stopped", "Package not delivered", "carrier"] {
        assert_eq!(rows_with(&t, needle).await, 0, "{needle} left in similar_tickets");
    }
    t.run_pending_jobs().await;
    assert!(similar_of(&agent, &en).await.is_empty());

    // The reindex rebuilds the rows from the tickets: the two solved ones left.
    let r = admin.post("/api/v1/kb/reindex", json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["similar_tickets"], 2, "{:?}", r.body);
    assert_eq!(ids(&similar_of(&agent, &zh).await), vec![refund]);
    assert!(similar_of(&agent, &en).await.is_empty());
    assert_eq!(ids(&similar_of(&agent, &inv).await), vec![invoice]);
    assert_eq!(agent.post("/api/v1/kb/reindex", json!({})).await.status, 403);

    // A duplicate merged into another ticket is closed, but was not solved on its own.
    let (_v, dup_conv) = t.visitor("钱七", "空调不制冷了，吹出来是热风").await;
    let cust =
        s(&agent.get(&format!("/api/v1/conversations/{dup_conv}")).await.body["customer_id"]);
    let dup = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": "空调不制冷", "customer_id": cust, "conversation_id": dup_conv}),
        )
        .await;
    let dup = s(&dup.body["id"]);
    agent
        .post(&format!("/api/v1/tickets/{dup}/replies"), json!({"body": "师傅明天上门检查冷媒。"}))
        .await;
    let m = agent.post(&format!("/api/v1/tickets/{dup}/merge"), json!({"into": refund_no})).await;
    assert_eq!(m.status, 200, "{:?}", m.body);
    t.run_pending_jobs().await;
    let (_v, ac) = t.visitor("吴八", "空调不制冷怎么办").await;
    assert!(similar_of(&agent, &ac).await.is_empty(), "a merged duplicate is not suggested");

    // `huiting kb reindex-similar` against the same database.
    let run = |ws: &str| {
        crate::cli::bin()
            .args(["kb", "reindex-similar", "--workspace", ws, "--database-url", &t.db_url])
            .output()
            .unwrap()
    };
    let out = run("acme");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("acme: 2 solved tickets indexed"));
    let out = run("nope");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("workspace"), "names the problem");
}
on_backends!(similar_solved_tickets_in_agent_assist, similar_tickets);
