//! The XSS corpus (`crates/channels/tests/xss_corpus.txt`, 60 payloads) through every path that
//! stores user text: widget names and messages, staff customer names, ticket subjects, agent
//! replies, knowledge-base answers and articles, and email HTML. Plain-text fields come back
//! exactly as sent, as JSON strings (the web app only interpolates them as text, checked
//! below); the one HTML input, email, is sanitised and flattened, and nothing executable
//! survives into what is served.

use serde_json::json;
use test_support::TestApp;

use crate::{items, on_backends, s};

const CORPUS: &str = include_str!("../../../channels/tests/xss_corpus.txt");

fn corpus() -> Vec<&'static str> {
    CORPUS.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// What would run in a browser if the text were ever parsed as HTML.
const EXECUTABLE: &[&str] = &[
    "<script",
    "onerror",
    "onload",
    "javascript:",
    "vbscript:",
    "<iframe",
    "<svg",
    "<img",
    "srcdoc",
    "<object",
    "<embed",
    "onfocus",
    "ontoggle",
    "onbegin",
    "onstart",
    "onmouseover",
    "expression(",
    "<style",
    "<meta",
    "<base",
    "<link",
    "<form",
];

async fn corpus_paths(t: TestApp) {
    t.bot_off().await;
    let agent = t.as_role("agent@acme.test").await;
    let admin = t.as_role("admin@acme.test").await;
    let r = admin
        .put("/api/v1/channels/email", json!({"enabled": true, "address": "support@acme.test"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut failures = Vec::new();
    let mut stored = 0;
    let mut check = |what: &str, p: &str, status: u16, got: Option<String>| match (status, got) {
        // Refused by a field's rules (length, line breaks) is safe too.
        (400, _) => None,
        (200 | 201, Some(g)) if g == p.trim() => {
            stored += 1;
            None
        }
        (st, g) => Some(format!("{what}: {p:?} → {st} {g:?}")),
    };
    for (i, p) in corpus().into_iter().enumerate() {
        // Widget: the visitor's name and first message, and a later message.
        let r = t
            .anon()
            .post(
                "/api/v1/public/conversations",
                json!({"public_key": t.ws.public_key, "name": p, "message": p}),
            )
            .await;
        failures.extend(check(
            "widget first message",
            p,
            r.status,
            r.body["message"]["body"].as_str().map(str::to_string),
        ));
        if r.status == 201 {
            let conv = s(&r.body["conversation"]["id"]);
            let c = agent.get(&format!("/api/v1/conversations/{conv}")).await;
            let cu = agent.get(&format!("/api/v1/customers/{}", s(&c.body["customer_id"]))).await;
            failures.extend(check(
                "widget name",
                p,
                cu.status,
                cu.body["name"].as_str().map(str::to_string),
            ));
            // The agent answers with the payload; staff and the visitor read it back.
            let m = agent
                .post(&format!("/api/v1/conversations/{conv}/messages"), json!({"body": p}))
                .await;
            failures.extend(check(
                "agent reply",
                p,
                m.status,
                m.body["body"].as_str().map(str::to_string),
            ));
            let visitor =
                test_support::Client { bearer: Some(s(&r.body["visitor_token"])), ..t.anon() };
            let seen = visitor.get(&format!("/api/v1/public/conversations/{conv}/messages")).await;
            for m in items(&seen.body)
                .iter()
                .filter(|m| !["system", "bot"].contains(&m["sender"].as_str().unwrap_or("")))
            {
                failures.extend(check(
                    "visitor reads",
                    p,
                    seen.status,
                    m["body"].as_str().map(str::to_string),
                ));
            }
        }
        // Staff: a customer's name and a ticket's subject.
        let cu = agent.post("/api/v1/customers", json!({"name": p})).await;
        failures.extend(check(
            "customer name",
            p,
            cu.status,
            cu.body["name"].as_str().map(str::to_string),
        ));
        let cu = agent.post("/api/v1/customers", json!({"name": format!("客户 {i}")})).await;
        let tk = agent
            .post(
                "/api/v1/tickets",
                json!({"subject": p, "customer_id": s(&cu.body["id"]), "description": p}),
            )
            .await;
        if tk.status == 201 {
            let got = agent.get(&format!("/api/v1/tickets/{}", s(&tk.body["id"]))).await;
            failures.extend(check(
                "ticket subject",
                p,
                got.status,
                got.body["subject"].as_str().map(str::to_string),
            ));
        } else {
            failures.extend(check("ticket subject", p, tk.status, None));
        }
        // Knowledge base: rich-text answers and article bodies are stored as text.
        let f = admin
            .post("/api/v1/kb/faqs", json!({"question": format!("问题 {i}"), "answer": p}))
            .await;
        if f.status == 201 {
            let got = admin.get(&format!("/api/v1/kb/faqs/{}", s(&f.body["id"]))).await;
            failures.extend(check(
                "kb answer",
                p,
                got.status,
                got.body["answer"].as_str().map(str::to_string),
            ));
        } else {
            failures.extend(check("kb answer", p, f.status, None));
        }
        let a = admin
            .post("/api/v1/kb/articles", json!({"title": format!("文章 {i}"), "body": p}))
            .await;
        failures.extend(check(
            "kb article",
            p,
            a.status,
            a.body["body"].as_str().map(str::to_string),
        ));

        // Email: the HTML part is sanitised and flattened to the text that is served.
        let raw = format!(
            "From: x{i}@example.org\r\nMessage-ID: <xss{i}@example.org>\r\nSubject: xss {i}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><div>您好</div>{p}<div>谢谢</div></body></html>\r\n"
        );
        let got = t.app.receive_email(t.ws.id, raw.as_bytes()).await.unwrap();
        let app::channels::email::Received::Stored { conversation, .. } = got else {
            failures.push(format!("email {p:?}: {got:?}"));
            continue;
        };
        let msgs = agent.get(&format!("/api/v1/conversations/{conversation}/messages")).await;
        let body = s(&items(&msgs.body)[0]["body"]).to_lowercase();
        // Entity- or percent-encoded payloads are text in the mail and stay text.
        let markup = p.contains('<') && !p.contains("&lt;");
        if markup {
            for bad in EXECUTABLE {
                if body.contains(bad) {
                    failures.push(format!("email {p:?} served {body:?} (contains {bad})"));
                }
            }
        }
        assert!(body.contains("您好") && body.contains("谢谢"), "{body:?}");
    }
    assert!(failures.is_empty(), "XSS corpus failures:\n{}", failures.join("\n"));
    // Most payloads are stored verbatim (a few are refused by field rules).
    assert!(stored > corpus().len() * 5, "only {stored} stored verbatim");
}
on_backends!(xss_corpus_is_stored_as_text_and_email_html_is_sanitised, corpus_paths);

/// The web app renders user content only by text interpolation: no `v-html`, `innerHTML`,
/// `outerHTML`, `insertAdjacentHTML` or `document.write` anywhere in `web/src`.
#[test]
fn the_web_app_never_renders_html_from_data() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/src");
    let mut stack = vec![root];
    let mut seen = 0;
    let mut hits = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.to_string_lossy().to_string();
            if !(name.ends_with(".vue") || name.ends_with(".ts")) || name.ends_with(".d.ts") {
                continue;
            }
            seen += 1;
            let text = std::fs::read_to_string(&p).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for bad in
                    ["v-html", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"]
                {
                    if code.contains(bad) {
                        hits.push(format!("{name}:{}: {line}", n + 1));
                    }
                }
            }
        }
    }
    assert!(seen > 20, "web/src not found ({seen} files)");
    assert!(hits.is_empty(), "HTML sinks in the web app:\n{}", hits.join("\n"));
}
