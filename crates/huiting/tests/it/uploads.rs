//! Images in chat (issue 6): uploads by the visitor and by staff, typed by their bytes (SVG
//! and HTML refused with 415), the 10 MiB limit (413), messages that refer to an upload only of
//! their own conversation with the stored type and size, and who may fetch the bytes.

use serde_json::{Value, json};
use test_support::{Client, Resp, TestApp};

use crate::{items, on_backends, s};

pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// POSTs raw bytes with the client's credentials.
pub async fn raw_post(c: &Client, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
    let mut rb =
        c.http.post(format!("{}{path}", c.base)).header("content-type", content_type).body(body);
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

/// GETs the raw bytes of a file.
async fn fetch(c: &Client, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut rb = c.http.get(format!("{}{path}", c.base));
    if let Some(k) = &c.cookie {
        rb = rb.header("cookie", k);
    }
    if let Some(b) = &c.bearer {
        rb = rb.bearer_auth(b);
    }
    let r = rb.send().await.expect("request");
    let (st, h) = (r.status().as_u16(), r.headers().clone());
    (st, h, r.bytes().await.unwrap().to_vec())
}

fn multipart_file(name: &str, declared: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----huiting-upload-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {declared}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn chat_images(t: TestApp) {
    t.bot_off().await;
    let (alice, conv_a) = t.visitor("爱丽丝", "洗衣机外壳有划痕").await;
    let (bob, conv_b) = t.visitor("鲍勃", "我的问题").await;
    let up = |conv: &str, name: &str| {
        format!("/api/v1/public/uploads?conversation_id={conv}&name={name}")
    };

    // A PNG declared as text/html: stored as what its bytes are.
    let r =
        raw_post(&alice, &up(&conv_a, "%3Cimg%20src%3Dx%3E.png"), "text/html", PNG.to_vec()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(s(&r.body["content_type"]), "image/png");
    assert_eq!(r.body["size"], json!(PNG.len()));
    assert_eq!(s(&r.body["name"]), "<img src=x>.png");
    let url = s(&r.body["url"]);
    assert!(url.starts_with("/files/chat/"), "{url}");
    let file = format!("/api/v1{url}");

    // SVG, HTML and a voice note are refused by their bytes, whatever they claim to be.
    for (bytes, claimed) in [
        (&b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"[..], "image/png"),
        (b"<!doctype html><script>alert(1)</script>", "image/jpeg"),
        (b"ID3\x04\0\0\0\0\0\0", "image/gif"),
    ] {
        let r = raw_post(&alice, &up(&conv_a, "x.png"), claimed, bytes.to_vec()).await;
        assert_eq!(r.status, 415, "{:?}", r.body);
        assert_eq!(s(&r.body["code"]), "unsupported_media_type");
        assert!(s(&r.body["message"]).contains("PNG"), "{:?}", r.body);
    }
    let r = raw_post(&alice, &up(&conv_a, "x.png"), "image/png", Vec::new()).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    // One byte over 10 MiB: 413, raw or multipart.
    let mut big = PNG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    let r = raw_post(&alice, &up(&conv_a, "big.png"), "image/png", big.clone()).await;
    assert_eq!(r.status, 413, "{:?}", r.body);
    assert_eq!(s(&r.body["code"]), "payload_too_large");
    let (ct, body) = multipart_file("big.png", "image/png", &big);
    let r =
        raw_post(&alice, &format!("/api/v1/public/uploads?conversation_id={conv_a}"), &ct, body)
            .await;
    assert_eq!(r.status, 413, "{:?}", r.body);
    // Exactly 10 MiB is accepted.
    big.truncate(10 * 1024 * 1024);
    let r = raw_post(&alice, &up(&conv_a, "edge.png"), "image/png", big).await;
    assert_eq!(r.status, 201, "{:?}", r.body);

    // Not into someone else's conversation, nor without a visitor token.
    let r = raw_post(&alice, &up(&conv_b, "x.png"), "image/png", PNG.to_vec()).await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    let r = raw_post(&t.anon(), &up(&conv_a, "x.png"), "image/png", PNG.to_vec()).await;
    assert_eq!(r.status, 401, "{:?}", r.body);

    // The message carries the stored type and size, not what the client says.
    let m = alice
        .post(
            &format!("/api/v1/public/conversations/{conv_a}/messages"),
            json!({"body": "", "attachments": [{"name": "evil.html", "content_type": "text/html", "size": 1, "url": url}]}),
        )
        .await;
    assert_eq!(m.status, 201, "{:?}", m.body);
    let a = &m.body["attachments"][0];
    assert_eq!(
        (s(&a["content_type"]), a["size"].clone(), s(&a["name"])),
        ("image/png".into(), json!(PNG.len()), "<img src=x>.png".into())
    );
    // Bob cannot attach Alice's upload to his conversation.
    let m = bob
        .post(
            &format!("/api/v1/public/conversations/{conv_b}/messages"),
            json!({"body": "看这个", "attachments": [{"name": "a.png", "content_type": "image/png", "size": 1, "url": url}]}),
        )
        .await;
    assert_eq!(m.status, 400, "{:?}", m.body);
    assert_eq!(s(&m.body["field"]), "attachment.url", "{:?}", m.body);

    // The bytes: to Alice and to staff; not to Bob, an outsider or nobody.
    let (st, h, bytes) = fetch(&alice, &file).await;
    assert_eq!(st, 200);
    assert_eq!(bytes, PNG);
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let cd = h["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("inline; filename=\"_img src_x_.png\"; filename*=UTF-8''"), "{cd}");
    let agent = t.as_role("agent@acme.test").await;
    assert_eq!(fetch(&agent, &file).await.0, 200);
    assert_eq!(fetch(&bob, &file).await.0, 404);
    assert_eq!(fetch(&t.anon(), &file).await.0, 401);
    let outsider = t.login("other", "admin@other.test").await;
    assert_eq!(fetch(&outsider, &file).await.0, 404);
    assert_eq!(fetch(&alice, "/api/v1/files/chat/nope").await.0, 404);

    // Staff upload (multipart) into Alice's conversation and reply with it; Alice sees it and
    // may fetch it.
    let (ct, body) = multipart_file("截图.gif", "text/plain", b"GIF89a\x01\0\x01\0\0\0\0;");
    let r = raw_post(&agent, &format!("/api/v1/uploads?conversation_id={conv_a}"), &ct, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        (s(&r.body["content_type"]), s(&r.body["name"])),
        ("image/gif".into(), "截图.gif".into())
    );
    let staff_url = s(&r.body["url"]);
    let m = agent
        .post(
            &format!("/api/v1/conversations/{conv_a}/messages"),
            json!({"body": "请看示意图", "attachments": [r.body.clone()]}),
        )
        .await;
    assert_eq!(m.status, 201, "{:?}", m.body);
    let seen = alice.get(&format!("/api/v1/public/conversations/{conv_a}/messages")).await;
    assert!(
        items(&seen.body).iter().any(|m| s(&m["attachments"][0]["url"]) == staff_url),
        "{:?}",
        seen.body
    );
    let (st, h, _) = fetch(&alice, &format!("/api/v1{staff_url}")).await;
    assert_eq!((st, h["content-type"].to_str().unwrap()), (200, "image/gif"));
    assert_eq!(fetch(&bob, &format!("/api/v1{staff_url}")).await.0, 404);
    // Staff cannot upload into a conversation of another workspace.
    let r = raw_post(
        &outsider,
        &format!("/api/v1/uploads?conversation_id={conv_a}"),
        "image/png",
        PNG.to_vec(),
    )
    .await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    // The first message of a new chat cannot carry an upload (there is no conversation yet).
    let r = t
        .anon()
        .post(
            "/api/v1/public/conversations",
            json!({"public_key": t.ws.public_key, "message": "hi", "attachments": [{"name": "a.png", "content_type": "image/png", "size": 1, "url": url}]}),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
}
on_backends!(chat_images_are_typed_limited_and_private, chat_images);
