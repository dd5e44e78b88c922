//! Channels (issue 8) against real HTTP peers on loopback: a server speaking WeChat's token and
//! customer-service API, a platform callback checking our signatures, an SMS provider, and an
//! event-webhook receiver that fails once. Inbound requests are signed as each vendor signs.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use serde_json::{Value, json};
use test_support::{Client, TestApp};

use crate::{items, on_backends, s};

/// One request the peer saw: path, headers (lowercase name, value), body.
type Seen = (String, Vec<(String, String)>, String);

#[derive(Clone, Default)]
pub(crate) struct Peer {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// How many more event-webhook calls to fail with 500.
    fail_hooks: Arc<Mutex<u32>>,
}

impl Peer {
    fn record(&self, path: &str, h: &HeaderMap, body: &[u8]) {
        let hs = h
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        self.seen.lock().unwrap().push((
            path.to_string(),
            hs,
            String::from_utf8_lossy(body).into_owned(),
        ));
    }
    pub(crate) fn calls(&self, path: &str) -> Vec<(Vec<(String, String)>, String)> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|(p, _, _)| p == path).map(|(_, h, b)| (h.clone(), b.clone())).collect()
    }
}

fn header(h: &[(String, String)], name: &str) -> String {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

async fn token(State(p): State<Peer>, q: Query<Vec<(String, String)>>, h: HeaderMap) -> String {
    let qs: String = q.0.iter().map(|(k, v)| format!("{k}={v}&")).collect();
    p.record("/cgi-bin/token", &h, qs.as_bytes());
    let ok = q.0.contains(&("appid".into(), "wx123".into()))
        && q.0.contains(&("secret".into(), "appsecret".into()))
        && q.0.contains(&("grant_type".into(), "client_credential".into()));
    if ok {
        json!({"access_token": "ACCESS-1", "expires_in": 7200}).to_string()
    } else {
        json!({"errcode": 40013, "errmsg": "invalid appid"}).to_string()
    }
}

async fn custom_send(
    State(p): State<Peer>,
    q: Query<Vec<(String, String)>>,
    h: HeaderMap,
    body: Bytes,
) -> String {
    p.record("/cgi-bin/message/custom/send", &h, &body);
    if !q.0.contains(&("access_token".into(), "ACCESS-1".into())) {
        return json!({"errcode": 40001, "errmsg": "invalid credential"}).to_string();
    }
    json!({"errcode": 0, "errmsg": "ok"}).to_string()
}

async fn callback(State(p): State<Peer>, h: HeaderMap, body: Bytes) -> StatusCode {
    p.record("/callback", &h, &body);
    StatusCode::OK
}

async fn sms_send(State(p): State<Peer>, h: HeaderMap, body: Bytes) -> String {
    p.record("/sms/send", &h, &body);
    if h.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer sms-key") {
        return json!({"code": "InvalidAccessKeyId", "message": "bad key"}).to_string();
    }
    json!({"code": "OK", "message_id": "sms-1"}).to_string()
}

async fn hooks(State(p): State<Peer>, h: HeaderMap, body: Bytes) -> StatusCode {
    p.record("/hooks", &h, &body);
    let mut f = p.fail_hooks.lock().unwrap();
    if *f > 0 {
        *f -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

pub(crate) async fn peer() -> (Peer, String) {
    let p = Peer::default();
    let app = Router::new()
        .route("/cgi-bin/token", get(token))
        .route("/cgi-bin/message/custom/send", post(custom_send))
        .route("/callback", post(callback))
        .route("/sms/send", post(sms_send))
        .route("/hooks", post(hooks))
        .with_state(p.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (p, base)
}

pub(crate) fn now_secs(t: &TestApp) -> i64 {
    t.app.now().millis() / 1000
}

/// POSTs `body` signed with `secret` at `ts`, with an optional nonce.
pub(crate) async fn signed_post(
    t: &TestApp,
    path: &str,
    secret: &str,
    ts: i64,
    body: &Value,
) -> test_support::Resp {
    let raw = body.to_string();
    let sig = ::channels::sign::sign(secret.as_bytes(), ts, raw.as_bytes());
    let r = t
        .http
        .post(format!("{}{path}", t.base))
        .header("content-type", "application/json")
        .header("x-huiting-timestamp", ts.to_string())
        .header("x-huiting-signature", sig)
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    test_support::Resp { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), headers }
}

pub(crate) async fn make_channel(admin: &Client, kind: &str, settings: Value) -> String {
    let r = admin
        .post(
            "/api/v1/channels",
            json!({"kind": kind, "name": format!("{kind} 渠道"), "settings": settings}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(
        !r.body.to_string().contains("appsecret") && !r.body.to_string().contains("0123456789abc")
    );
    s(&r.body["id"])
}

/// A WeChat push: returns (status, body text).
pub(crate) async fn wechat_post(t: &TestApp, ch: &str, token: &str, xml: &str) -> (u16, String) {
    let ts = now_secs(t).to_string();
    let sig = ::channels::wechat::signature(token, &ts, "nonce1");
    let r = t
        .http
        .post(format!(
            "{}/api/v1/channels/{ch}/wechat?signature={sig}&timestamp={ts}&nonce=nonce1",
            t.base
        ))
        .header("content-type", "text/xml")
        .body(xml.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

pub(crate) fn wx_text(openid: &str, msg_id: u64, text: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_acme]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
}

async fn messages(agent: &Client, conv: &str) -> Vec<Value> {
    items(&agent.get(&format!("/api/v1/conversations/{conv}/messages")).await.body)
}

async fn wechat_flow(t: TestApp) {
    let (peer, base) = peer().await;
    let admin = t.as_role("admin@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let ch = make_channel(
        &admin,
        "wechat",
        json!({"app_id": "wx123", "app_secret": "appsecret", "token": "wxtoken", "api_base": base,
               "welcome": "欢迎关注慧听！", "allow_hosts": ["127.0.0.1"]}),
    )
    .await;

    // Server URL verification.
    let ts = now_secs(&t).to_string();
    let sig = ::channels::wechat::signature("wxtoken", &ts, "n2");
    let ok = t
        .http
        .get(format!("{}/api/v1/channels/{ch}/wechat?signature={sig}&timestamp={ts}&nonce=n2&echostr=echo123", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "echo123");
    let bad = t
        .http
        .get(format!(
            "{}/api/v1/channels/{ch}/wechat?signature=00{sig}&timestamp={ts}&nonce=n2&echostr=e",
            t.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);

    // A new follower gets the welcome as a passive reply.
    let sub = "<xml><ToUserName>gh_acme</ToUserName><FromUserName>oWx1</FromUserName><CreateTime>1700000000</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>";
    let (st, reply) = wechat_post(&t, &ch, "wxtoken", sub).await;
    assert_eq!(st, 200);
    let parsed = ::channels::wechat::parse(reply.as_bytes()).unwrap();
    assert_eq!(parsed.openid, "gh_acme", "the reply goes from the account…");
    assert_eq!(parsed.account, "oWx1", "…to the follower");
    assert_eq!(parsed.kind, ::channels::wechat::Kind::Text { content: "欢迎关注慧听！".into() });

    // A text message lands in the follower's conversation; WeChat's retry is not a copy.
    let (st, body) = wechat_post(&t, &ch, "wxtoken", &wx_text("oWx1", 42, "我的订单还没到")).await;
    assert_eq!((st, body.as_str()), (200, "success"));
    let (st, _) = wechat_post(&t, &ch, "wxtoken", &wx_text("oWx1", 42, "我的订单还没到")).await;
    assert_eq!(st, 200);
    let (st, _) = wechat_post(&t, &ch, "wxtoken", "<xml><bogus>").await;
    assert_eq!(st, 400);
    let convs = items(&agent.get("/api/v1/conversations?channel=social").await.body);
    assert_eq!(convs.len(), 1, "{convs:?}");
    let conv = s(&convs[0]["id"]);
    let bodies: Vec<String> = messages(&agent, &conv).await.iter().map(|m| s(&m["body"])).collect();
    assert_eq!(bodies, ["欢迎关注慧听！", "我的订单还没到"]);

    // Agent replies go out through the customer-service API, with one cached token.
    for text in ["您好，已为您查询", "预计明天送达"] {
        let r = agent
            .post(&format!("/api/v1/conversations/{conv}/messages"), json!({"body": text}))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        // An internal note never leaves.
        agent
            .post(
                &format!("/api/v1/conversations/{conv}/messages"),
                json!({"body": "内部备注", "internal": true}),
            )
            .await;
        t.run_pending_jobs().await;
    }
    let sent = peer.calls("/cgi-bin/message/custom/send");
    let contents: Vec<Value> = sent.iter().map(|(_, b)| serde_json::from_str(b).unwrap()).collect();
    assert_eq!(contents.len(), 2, "{contents:?}");
    assert_eq!(
        contents[0],
        json!({"touser": "oWx1", "msgtype": "text", "text": {"content": "您好，已为您查询"}})
    );
    assert_eq!(contents[1]["text"]["content"], "预计明天送达");
    assert_eq!(peer.calls("/cgi-bin/token").len(), 1, "the access token is cached");
}
on_backends!(wechat_verification_messages_passive_and_custom_replies, wechat_flow);

/// The venv python of scripts/test-peers.sh, when it has wechatpy (else skip, or fail under CI).
fn wechatpy() -> Option<std::path::PathBuf> {
    let py =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/peers/venv/bin/python");
    let ok = std::process::Command::new(&py)
        .args(["-c", "import wechatpy.crypto, cryptography, xmltodict"])
        .output()
        .is_ok_and(|o| o.status.success());
    crate::email::peer("wechatpy (scripts/test-peers.sh venv)", ok.then_some(py))
}

const AES_KEY: &str = "Hu1tingSafeMode0123456789abcdefghijklmnopqr";

/// Safe (安全) and compatible (兼容) mode against wechatpy playing WeChat's servers
/// (`wechat_server.py`): encrypted URL verification, encrypted pushes answered with encrypted
/// passive replies that wechatpy decrypts and checks, and tampered, foreign and plaintext
/// pushes refused with nothing stored.
async fn wechat_safe_flow(t: TestApp) {
    let Some(py) = wechatpy() else { return };
    let (_peer, base) = peer().await;
    let admin = t.as_role("admin@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let settings = |mode: &str| {
        json!({"app_id": "wx123", "app_secret": "appsecret", "token": "wxtoken", "api_base": base,
               "welcome": "欢迎关注慧听！", "allow_hosts": ["127.0.0.1"], "mode": mode,
               "encoding_aes_key": AES_KEY})
    };

    // Settings: the mode needs the key, the key must be 43 base64 characters.
    let mut no_key = settings("safe");
    no_key.as_object_mut().unwrap().remove("encoding_aes_key");
    let mut short_key = settings("compatible");
    short_key["encoding_aes_key"] = json!(&AES_KEY[..42]);
    for (doc, field) in [
        (no_key, "settings.encoding_aes_key"),
        (short_key, "settings.encoding_aes_key"),
        (settings("aes"), "settings.mode"),
    ] {
        let r = admin
            .post("/api/v1/channels", json!({"kind": "wechat", "name": "坏", "settings": doc}))
            .await;
        assert_eq!(r.status, 400, "{:?}", r.body);
        assert!(s(&r.body["message"]).contains(field), "{:?}", r.body);
    }
    let safe = make_channel(&admin, "wechat", settings("safe")).await;
    let compat = make_channel(&admin, "wechat", settings("compatible")).await;
    let plain = make_channel(
        &admin,
        "wechat",
        json!({"app_id": "wx123", "app_secret": "appsecret", "token": "wxtoken", "api_base": base}),
    )
    .await;
    // The key is write-only: shown back as ***, kept by an edit that leaves it out.
    let shown = admin.get(&format!("/api/v1/channels/{safe}")).await;
    assert_eq!(shown.body["settings"]["encoding_aes_key"], "***");
    assert_eq!(shown.body["settings"]["mode"], "safe");
    assert!(!shown.body.to_string().contains(AES_KEY));
    let mut edit = settings("safe");
    edit["encoding_aes_key"] = json!("***");
    edit["app_secret"] = json!("***");
    let r = admin.patch(&format!("/api/v1/channels/{safe}"), json!({"settings": edit})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let plain_shown = admin.get(&format!("/api/v1/channels/{plain}")).await;
    assert_eq!(plain_shown.body["settings"]["mode"], "plaintext");
    assert!(plain_shown.body["settings"].get("encoding_aes_key").is_none());

    // WeChat's side, played by wechatpy.
    let cfg = json!({"base": t.base, "token": "wxtoken", "key": AES_KEY, "app_id": "wx123",
                     "ts": now_secs(&t), "safe": safe, "compatible": compat, "plaintext": plain});
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/wechat_server.py");
    let mut child = tokio::process::Command::new(py)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(cfg.to_string().as_bytes()).await.unwrap();
    }
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("wechat_server.py finishes")
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rep: Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = |step: &str| rep[step]["status"].as_u64().unwrap_or(0);
    let message = |step: &str| {
        serde_json::from_str::<Value>(rep[step]["body"].as_str().unwrap_or("")).unwrap_or_default()
            ["message"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };

    // URL verification: the decrypted echostr; a wrong msg_signature is 401; the plaintext
    // check official accounts use in every mode still answers.
    assert_eq!(
        (status("verify_encrypted"), rep["verify_encrypted"]["body"].clone()),
        (200, rep["verify_encrypted_expected"].clone())
    );
    assert_eq!(status("verify_tampered"), 401, "{rep}");
    assert_eq!(
        (status("verify_plain"), s(&rep["verify_plain"]["body"])),
        (200, "plain-echo".into())
    );

    // The welcome goes back encrypted, and wechatpy's decrypt_message (msg_signature, AppID)
    // opens it: from the account to the follower.
    let sub = &rep["subscribe"];
    assert_eq!(sub["status"], 200, "{rep}");
    assert!(sub["reply_error"].is_null(), "{rep}");
    assert_eq!(sub["reply"]["Content"], "欢迎关注慧听！", "{rep}");
    assert_eq!(sub["reply"]["ToUserName"], "oSafe1");
    assert_eq!(sub["reply"]["FromUserName"], "gh_acme");
    assert_eq!(sub["reply"]["MsgType"], "text");
    assert!(!s(&sub["body"]).contains("欢迎"), "the reply is not in the clear");
    for step in ["text", "retry"] {
        assert_eq!((status(step), s(&rep[step]["body"])), (200, "success".into()), "{rep}");
    }
    // Refused, with a clear status and message.
    assert_eq!(status("bad_signature"), 401, "{rep}");
    assert!(message("bad_signature").contains("msg_signature"), "{rep}");
    assert_eq!(status("bad_ciphertext"), 400, "{rep}");
    assert!(message("bad_ciphertext").contains("bad padding"), "{rep}");
    assert_eq!(status("wrong_appid"), 400, "{rep}");
    assert!(message("wrong_appid").contains("another AppID"), "{rep}");
    assert_eq!(status("plaintext_to_safe"), 400, "{rep}");
    assert!(message("plaintext_to_safe").contains("safe mode"), "{rep}");
    assert_eq!(status("encrypted_to_plaintext"), 400, "{rep}");
    assert!(message("encrypted_to_plaintext").contains("plaintext mode"), "{rep}");

    // Compatible mode answers in the form it was written to.
    let cp = &rep["compat_plain_subscribe"];
    assert_eq!(cp["status"], 200, "{rep}");
    let parsed = ::channels::wechat::parse(s(&cp["body"]).as_bytes()).unwrap();
    assert_eq!(parsed.account, "oCompat1");
    assert_eq!(parsed.kind, ::channels::wechat::Kind::Text { content: "欢迎关注慧听！".into() });
    let ce = &rep["compat_encrypted_subscribe"];
    assert_eq!(
        (ce["status"].clone(), ce["reply"]["Content"].clone()),
        (json!(200), json!("欢迎关注慧听！")),
        "{rep}"
    );
    assert_eq!(ce["reply"]["ToUserName"], "oCompat2");
    for step in ["compat_encrypted_text", "compat_plain_text"] {
        assert_eq!((status(step), s(&rep[step]["body"])), (200, "success".into()), "{rep}");
    }

    // Stored: what checked out, once; nothing of what was refused.
    let convs = items(&agent.get("/api/v1/conversations?channel=social").await.body);
    let mut all: Vec<String> = Vec::new();
    for c in &convs {
        all.extend(messages(&agent, &s(&c["id"])).await.iter().map(|m| s(&m["body"])));
    }
    all.sort();
    let mut want = vec![
        "兼容模式加密",
        "兼容模式明文",
        "安全模式的消息",
        "欢迎关注慧听！",
        "欢迎关注慧听！",
        "欢迎关注慧听！",
    ];
    want.sort();
    assert_eq!(all, want, "{convs:?}");
    assert_eq!(convs.len(), 3, "oSafe1, oCompat1, oCompat2: {convs:?}");
}
on_backends!(wechat_safe_and_compatible_mode_against_wechatpy, wechat_safe_flow);

async fn webhook_flow(t: TestApp) {
    let (peer, base) = peer().await;
    let admin = t.as_role("admin@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let secret = "weibo-secret-123";
    let ch = make_channel(
        &admin,
        "webhook",
        json!({"platform": "weibo", "secret": secret, "callback_url": format!("{base}/callback"),
               "allow_hosts": ["127.0.0.1"]}),
    )
    .await;
    // Event webhooks: one allowed to reach loopback, one not.
    let hook = admin
        .post("/api/v1/webhooks", json!({"url": format!("{base}/hooks"), "events": ["message.created"], "allow_hosts": ["127.0.0.1"]}))
        .await;
    assert_eq!(hook.status, 201, "{:?}", hook.body);
    let hook_secret = s(&hook.body["secret"]);
    let hook_id = s(&hook.body["id"]);
    let guarded = admin
        .post("/api/v1/webhooks", json!({"url": format!("{base}/hooks"), "events": ["*"]}))
        .await;
    let guarded_id = s(&guarded.body["id"]);
    *peer.fail_hooks.lock().unwrap() = 1;

    let path = format!("/api/v1/channels/{ch}/webhook");
    let msg =
        json!({"id": "wb-1", "user": {"id": "u-77", "name": "微博网友"}, "text": "评论：耳机断连"});
    let now = now_secs(&t);
    let r = signed_post(&t, &path, secret, now, &msg).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let conv = s(&r.body["conversation_id"]);
    // Replay, stale timestamp, wrong secret.
    assert_eq!(signed_post(&t, &path, secret, now, &msg).await.status, 409);
    let other = json!({"id": "wb-2", "user": {"id": "u-77"}, "text": "再问一次"});
    assert_eq!(signed_post(&t, &path, secret, now - 301, &other).await.status, 401);
    assert_eq!(signed_post(&t, &path, "wrong-secret-1", now, &other).await.status, 401);
    assert_eq!(signed_post(&t, &path, secret, now + 10, &other).await.status, 200);

    let r = agent
        .post(&format!("/api/v1/conversations/{conv}/messages"), json!({"body": "已为您换货"}))
        .await;
    assert_eq!(r.status, 201);
    t.run_pending_jobs().await;
    let cb = peer.calls("/callback");
    assert_eq!(cb.len(), 1);
    let (h, body) = &cb[0];
    let ts: i64 = header(h, "x-huiting-timestamp").parse().unwrap();
    assert_eq!(
        ::channels::sign::verify(
            secret.as_bytes(),
            Some(&ts.to_string()),
            Some(&header(h, "x-huiting-signature")),
            body.as_bytes(),
            ts
        ),
        Ok(ts)
    );
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!((v["to"]["id"].as_str(), v["text"].as_str()), (Some("u-77"), Some("已为您换货")));

    // Three messages were created; the first delivery failed once and waits for its backoff.
    let log = |id: String| {
        let admin = admin.clone();
        async move { admin.get(&format!("/api/v1/webhooks/{id}/deliveries")).await.body }
    };
    let d = log(hook_id.clone()).await;
    let ds = d.as_array().unwrap();
    assert_eq!(ds.len(), 3, "{d}");
    // Which of the three the receiver failed depends on claim order; exactly one waits.
    let waiting: Vec<&Value> = ds.iter().filter(|x| x["state"] == "pending").collect();
    assert_eq!(waiting.len(), 1, "{d}");
    assert_eq!(
        (waiting[0]["attempts"].as_i64(), waiting[0]["response_status"].as_i64()),
        (Some(1), Some(500))
    );
    t.advance(Duration::from_secs(6));
    t.run_pending_jobs().await;
    let d = log(hook_id).await;
    assert!(d.as_array().unwrap().iter().all(|x| x["state"] == "delivered"), "{d}");
    let got = peer.calls("/hooks");
    assert_eq!(got.len(), 4, "three deliveries plus one retry");
    for (h, body) in &got {
        let ts = header(h, "x-huiting-timestamp");
        assert!(
            ::channels::sign::verify(
                hook_secret.as_bytes(),
                Some(&ts),
                Some(&header(h, "x-huiting-signature")),
                body.as_bytes(),
                ts.parse().unwrap()
            )
            .is_ok()
        );
        assert_eq!(header(h, "x-huiting-event"), "message.created");
    }
    // The subscription without an allowed host never reached loopback.
    let d = log(guarded_id).await;
    let first = &d.as_array().unwrap()[0];
    assert!(s(&first["last_error"]).contains("internal address"), "{first}");
    assert_eq!(first["response_status"], Value::Null);
}
on_backends!(signed_webhook_channel_and_event_webhooks, webhook_flow);

pub(crate) fn sms_settings(base: &str) -> Value {
    json!({"api_url": format!("{base}/sms/send"), "api_key": "sms-key", "sign_name": "慧听",
           "secret": "sms-secret-123",
           "templates": {"verify": {"code": "SMS_100", "text": "验证码 {{code}}，10 分钟内有效"},
                         "reply": {"code": "SMS_200", "text": "客服回复：{{content}}"}},
           "reply_template": "reply", "verification_template": "verify",
           "allow_hosts": ["127.0.0.1"]})
}

async fn sms_phone_flow(t: TestApp) {
    let (peer, base) = peer().await;
    let admin = t.as_role("admin@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let sms = make_channel(&admin, "sms", sms_settings(&base)).await;
    let phone = make_channel(&admin, "phone", json!({"secret": "0123456789abc"})).await;
    let now = now_secs(&t);

    let r = signed_post(
        &t,
        &format!("/api/v1/channels/{sms}/sms"),
        "sms-secret-123",
        now,
        &json!({"id": "in-1", "from": "13800138000", "text": "退订前想咨询"}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let sms_conv = s(&r.body["conversation_id"]);
    let r = agent
        .post(&format!("/api/v1/conversations/{sms_conv}/messages"), json!({"body": "好的"}))
        .await;
    assert_eq!(r.status, 201);
    t.run_pending_jobs().await;
    let sent = peer.calls("/sms/send");
    assert_eq!(sent.len(), 1);
    let v: Value = serde_json::from_str(&sent[0].1).unwrap();
    assert_eq!(
        v,
        json!({"to": "+8613800138000", "sign_name": "慧听", "template_code": "SMS_200", "template_params": {"content": "好的"}})
    );

    let call = json!({"call_id": "c-1", "caller": "138 0013 8000", "duration_secs": 95, "ivr": ["2", "1"],
        "recording_url": "https://cc.example.com/rec/c-1.mp3",
        "transcript": [{"speaker": "customer", "text": "洗衣机漏水"}]});
    let r =
        signed_post(&t, &format!("/api/v1/channels/{phone}/calls"), "0123456789abc", now, &call)
            .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let phone_conv = s(&r.body["conversation_id"]);
    assert_eq!(r.body["customer_id"], Value::String(s(&r.body["customer_id"])));
    let vm = json!({"call_id": "c-2", "caller": "+8613800138000", "duration_secs": 30,
        "voicemail": {"url": "https://cc.example.com/vm/c-2.amr", "content_type": "audio/amr", "size": 4096, "duration_secs": 25}});
    let r2 = signed_post(&t, &format!("/api/v1/channels/{phone}/calls"), "0123456789abc", now, &vm)
        .await;
    assert_eq!(
        s(&r2.body["conversation_id"]),
        phone_conv,
        "a second call continues the conversation"
    );
    // The SMS sender and the caller are the same number: one customer.
    let sms_customer =
        s(&agent.get(&format!("/api/v1/conversations/{sms_conv}")).await.body["customer_id"]);
    assert_eq!(s(&r2.body["customer_id"]), sms_customer);
    let ms = messages(&agent, &phone_conv).await;
    assert_eq!(ms.len(), 2);
    assert!(
        s(&ms[0]["body"]).starts_with("📞 Inbound call, 1:35 · IVR 2 › 1\ncustomer: 洗衣机漏水"),
        "{}",
        ms[0]["body"]
    );
    assert_eq!(ms[0]["attachments"][0]["url"], "https://cc.example.com/rec/c-1.mp3");
    assert_eq!(ms[1]["attachments"][0]["content_type"], "audio/amr");
    // No agent reply goes out on a phone conversation.
    agent
        .post(&format!("/api/v1/conversations/{phone_conv}/messages"), json!({"body": "已回电"}))
        .await;
    t.run_pending_jobs().await;
    assert_eq!(peer.calls("/sms/send").len(), 1);
}
on_backends!(sms_provider_and_call_records, sms_phone_flow);

/// The code the SMS provider was asked to send last.
fn last_code(peer: &Peer) -> String {
    let sent = peer.calls("/sms/send");
    let v: Value = serde_json::from_str(&sent.last().unwrap().1).unwrap();
    s(&v["template_params"]["code"])
}

async fn identity_flow(t: TestApp) {
    let (peer, base) = peer().await;
    let admin = t.as_role("admin@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    make_channel(&admin, "sms", sms_settings(&base)).await;
    let wx = make_channel(
        &admin,
        "wechat",
        json!({"app_id": "wx123", "app_secret": "appsecret", "token": "wxtoken", "api_base": base, "allow_hosts": ["127.0.0.1"]}),
    )
    .await;
    // The customer writes by WeChat first…
    let (st, _) = wechat_post(&t, &wx, "wxtoken", &wx_text("oLi", 7, "空调不制冷")).await;
    assert_eq!(st, 200);
    let wx_conv = &items(&agent.get("/api/v1/conversations?channel=social").await.body)[0];
    let wx_customer = s(&wx_conv["customer_id"]);
    // …then by email (through the customer and conversation API; the email channel is
    // another branch), from an address whose record carries the phone number.
    let c = agent
        .post(
            "/api/v1/customers",
            json!({"name": "李雷", "email": "li.lei@example.com", "phone": "13900001111"}),
        )
        .await;
    assert_eq!(c.status, 201, "{:?}", c.body);
    let email_customer = s(&c.body["id"]);
    let ec = agent
        .post(
            "/api/v1/conversations",
            json!({"customer_id": email_customer, "channel": "email", "subject": "空调维修"}),
        )
        .await;
    assert_eq!(ec.status, 201, "{:?}", ec.body);
    assert_ne!(wx_customer, email_customer);

    // The WeChat customer gives the number; a code goes out by SMS and is confirmed.
    let path = format!("/api/v1/customers/{wx_customer}/verifications");
    assert_eq!(agent.post(&path, json!({"phone": "139 0000 1111"})).await.status, 202);
    t.run_pending_jobs().await;
    let code = last_code(&peer);
    assert_eq!(code.len(), 6);
    assert_eq!(
        agent.post(&path, json!({"phone": "13900001111"})).await.status,
        429,
        "one code a minute"
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = agent.post(&format!("{path}/confirm"), json!({"code": wrong})).await;
    assert_eq!(r.status, 400);
    let r = agent.post(&format!("{path}/confirm"), json!({"code": code})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (s(&r.body["customer_id"]), s(&r.body["merged_from"])),
        (email_customer.clone(), wx_customer.clone())
    );

    // One customer, one history: both conversations, and the next WeChat message, are theirs.
    let convs = items(
        &agent.get(&format!("/api/v1/conversations?customer_id={email_customer}")).await.body,
    );
    let channels: Vec<String> = convs.iter().map(|c| s(&c["channel"])).collect();
    assert_eq!(convs.len(), 2, "{channels:?}");
    assert!(channels.contains(&"social".into()) && channels.contains(&"email".into()));
    let (st, _) = wechat_post(&t, &wx, "wxtoken", &wx_text("oLi", 8, "还有一个问题")).await;
    assert_eq!(st, 200);
    let convs = items(
        &agent.get(&format!("/api/v1/conversations?customer_id={email_customer}")).await.body,
    );
    assert_eq!(convs.len(), 2);
    let cu = agent.get(&format!("/api/v1/customers/{email_customer}")).await.body;
    let ids = cu["identities"].to_string();
    assert!(ids.contains("wechat:oLi") && ids.contains("li.lei@example.com"), "{ids}");
    let phone =
        cu["identities"].as_array().unwrap().iter().find(|i| i["kind"] == "phone").unwrap().clone();
    assert_eq!(phone["verified"], true, "{phone}");

    // First-contact verification in the widget: code by SMS, expiring, rate-limited.
    let (visitor, _) = t.visitor("网页访客", "你好").await;
    assert_eq!(
        visitor.post("/api/v1/public/verifications", json!({"phone": "13700002222"})).await.status,
        202
    );
    t.run_pending_jobs().await;
    let code = last_code(&peer);
    t.advance(Duration::from_secs(11 * 60));
    let r = visitor.post("/api/v1/public/verifications/confirm", json!({"code": code})).await;
    assert_eq!(r.status, 409, "expired: {:?}", r.body);
    assert_eq!(
        visitor.post("/api/v1/public/verifications", json!({"phone": "13700002222"})).await.status,
        202
    );
    t.run_pending_jobs().await;
    let r = visitor
        .post("/api/v1/public/verifications/confirm", json!({"code": last_code(&peer)}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["merged_from"], Value::Null);
}
on_backends!(wechat_then_email_is_one_customer_after_phone_verification, identity_flow);

/// One mail from `from` (raw RFC 5322), through the email channel's inbound path.
async fn mail_in(t: &TestApp, from: &str, id: &str, subject: &str, text: &str) -> String {
    let raw = format!(
        "From: 李雷 <{from}>\r\nTo: support@acme.test\r\nMessage-ID: <{id}@example.com>\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    );
    match t.app.receive_email(t.ws.id, raw.as_bytes()).await.unwrap() {
        app::channels::email::Received::Stored { conversation, .. } => conversation.to_string(),
        other => panic!("{other:?}"),
    }
}

/// "A customer who writes by WeChat and then by email is one customer with one history"
/// (issue 8, IN-2), both ways: the email identity linked by staff before the mail arrives,
/// and the merge tool for a mail that arrived first as a new customer.
async fn wechat_then_email_one_history(t: TestApp) {
    let (_peer, base) = peer().await;
    let admin = t.as_role("admin@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let sup = t.as_role("super@acme.test").await;
    let r = admin
        .put("/api/v1/channels/email", json!({"enabled": true, "address": "support@acme.test"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let wx = make_channel(
        &admin,
        "wechat",
        json!({"app_id": "wx123", "app_secret": "appsecret", "token": "wxtoken", "api_base": base, "allow_hosts": ["127.0.0.1"]}),
    )
    .await;
    let history = |cu: String| {
        let agent = &agent;
        async move {
            let convs =
                items(&agent.get(&format!("/api/v1/conversations?customer_id={cu}")).await.body);
            let mut bodies = Vec::new();
            for c in &convs {
                for m in messages(agent, &s(&c["id"])).await {
                    bodies.push((s(&c["channel"]), s(&m["body"])));
                }
            }
            bodies.sort();
            bodies
        }
    };

    // Linked first: WeChat in, staff add the email the customer gave, then the mail.
    let (st, _) = wechat_post(&t, &wx, "wxtoken", &wx_text("oHan", 11, "发票开错了")).await;
    assert_eq!(st, 200);
    let han =
        s(&items(&agent.get("/api/v1/conversations?channel=social").await.body)[0]["customer_id"]);
    let r = agent
        .post(
            &format!("/api/v1/customers/{han}/identities"),
            json!({"kind": "email", "value": "Han.Meimei@Example.com"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let conv = mail_in(&t, "han.meimei@example.com", "h1", "发票", "附上正确的抬头").await;
    let c = agent.get(&format!("/api/v1/conversations/{conv}")).await.body;
    assert_eq!(s(&c["customer_id"]), han);
    assert_eq!(
        history(han.clone()).await,
        [
            ("email".to_string(), "附上正确的抬头".to_string()),
            ("social".into(), "发票开错了".into())
        ]
    );

    // Mail first as a stranger, then the merge tool (supervisors) makes one customer.
    let (st, _) = wechat_post(&t, &wx, "wxtoken", &wx_text("oLei", 12, "空调不制冷")).await;
    assert_eq!(st, 200);
    let convs = items(&agent.get("/api/v1/conversations?channel=social").await.body);
    let lei = convs
        .iter()
        .map(|c| s(&c["customer_id"]))
        .find(|c| *c != han)
        .expect("the second WeChat customer");
    let conv = mail_in(&t, "li.lei@example.com", "l1", "空调维修", "师傅什么时候上门？").await;
    let stranger =
        s(&agent.get(&format!("/api/v1/conversations/{conv}")).await.body["customer_id"]);
    assert_ne!(stranger, lei);
    let path = format!("/api/v1/customers/{lei}/merge");
    assert_eq!(agent.post(&path, json!({"from": stranger})).await.status, 403);
    let r = sup.post(&path, json!({"from": stranger})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let gone = agent.get(&format!("/api/v1/customers/{stranger}")).await.body;
    assert_eq!(s(&gone["merged_into"]), lei);

    // One customer: both identities; one history: both conversations, and later messages
    // on either channel continue it.
    let cu = agent.get(&format!("/api/v1/customers/{lei}")).await.body;
    let ids = cu["identities"].to_string();
    assert!(ids.contains("wechat:oLei") && ids.contains("li.lei@example.com"), "{ids}");
    mail_in(&t, "li.lei@example.com", "l2", "还在等", "今天能来吗").await;
    let (st, _) = wechat_post(&t, &wx, "wxtoken", &wx_text("oLei", 13, "收到")).await;
    assert_eq!(st, 200);
    let convs = items(&agent.get(&format!("/api/v1/conversations?customer_id={lei}")).await.body);
    assert_eq!(convs.len(), 3, "social, and two email threads: {convs:?}");
    assert_eq!(
        history(lei.clone()).await,
        [
            ("email".to_string(), "今天能来吗".to_string()),
            ("email".into(), "师傅什么时候上门？".into()),
            ("social".into(), "收到".into()),
            ("social".into(), "空调不制冷".into()),
        ]
    );
    assert!(
        items(&agent.get(&format!("/api/v1/conversations?customer_id={stranger}")).await.body)
            .is_empty()
    );
}
on_backends!(wechat_then_email_is_one_customer_linked_or_merged, wechat_then_email_one_history);

/// Editing a channel with the settings as shown back (secrets as `***`) or with the secrets
/// left out keeps the stored secrets: the channel still verifies signatures with its secret.
async fn edit_keeps_secrets(t: TestApp) {
    let admin = t.as_role("admin@acme.test").await;
    let secret = "douyin-secret-42";
    let ch = make_channel(&admin, "webhook", json!({"platform": "douyin", "secret": secret})).await;
    let shown = admin.get(&format!("/api/v1/channels/{ch}")).await;
    assert_eq!(shown.body["settings"]["secret"], "***");
    let mut settings = shown.body["settings"].clone();
    settings["platform"] = json!("douyin_cn");
    let r = admin
        .patch(&format!("/api/v1/channels/{ch}"), json!({"name": "抖音", "settings": settings}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["settings"]["platform"], "douyin_cn");
    let r = admin
        .patch(&format!("/api/v1/channels/{ch}"), json!({"settings": {"platform": "douyin_cn"}}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let path = format!("/api/v1/channels/{ch}/webhook");
    let msg = json!({"id": "dy-1", "user": {"id": "u-1"}, "text": "还在吗"});
    let r = signed_post(&t, &path, secret, now_secs(&t), &msg).await;
    assert_eq!(r.status, 200, "the stored secret still signs: {:?}", r.body);
    // A too-short new secret is refused with the field named, and nothing changes.
    let r = admin
        .patch(
            &format!("/api/v1/channels/{ch}"),
            json!({"settings": {"platform": "x", "secret": "short"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(s(&r.body["message"]).contains("settings.secret"), "{:?}", r.body);
    let again = admin.get(&format!("/api/v1/channels/{ch}")).await;
    assert_eq!(again.body["settings"]["platform"], "douyin_cn");
}
on_backends!(channel_edit_keeps_write_only_secrets, edit_keeps_secrets);

/// Retrying a webhook delivery (issue 6): a delivery whose attempts ran out against a failing
/// receiver is sent again by an admin, signed like the first, and delivered once the receiver
/// recovers; a pending or delivered one is refused with 409; a pending one whose job died can
/// be retried; the SSRF guard still applies to a retry.
async fn webhook_retry(t: TestApp) {
    let (peer, base) = peer().await;
    t.bot_off().await;
    let admin = t.as_role("admin@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let hook = admin
        .post("/api/v1/webhooks", json!({"url": format!("{base}/hooks"), "events": ["ticket.created"], "allow_hosts": ["127.0.0.1"]}))
        .await;
    assert_eq!(hook.status, 201, "{:?}", hook.body);
    let (hook_id, hook_secret) = (s(&hook.body["id"]), s(&hook.body["secret"]));
    let guarded = admin
        .post(
            "/api/v1/webhooks",
            json!({"url": format!("{base}/hooks"), "events": ["ticket.created"]}),
        )
        .await;
    let guarded_id = s(&guarded.body["id"]);
    let (_v, conv) = t.visitor("王芳", "屏幕有划痕").await;
    let customer =
        s(&agent.get(&format!("/api/v1/conversations/{conv}")).await.body["customer_id"]);
    let new_ticket = |subject: &str| json!({"subject": subject, "customer_id": customer});

    // The receiver fails every call: ten attempts on the queue's backoff, then `failed`.
    *peer.fail_hooks.lock().unwrap() = 1_000;
    assert_eq!(agent.post("/api/v1/tickets", new_ticket("屏幕划痕")).await.status, 201);
    for _ in 0..12 {
        t.run_pending_jobs().await;
        t.advance(Duration::from_secs(2 * 3600));
    }
    // A day has passed: new sessions.
    let admin = t.as_role("admin@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let sup = t.as_role("super@acme.test").await;
    let log = |id: String| {
        let admin = admin.clone();
        async move { admin.get(&format!("/api/v1/webhooks/{id}/deliveries")).await.body }
    };
    let d = log(hook_id.clone()).await;
    let first = d.as_array().unwrap()[0].clone();
    assert_eq!(
        (s(&first["state"]), first["attempts"].as_i64(), first["response_status"].as_i64()),
        ("failed".into(), Some(10), Some(500)),
        "{d}"
    );
    let del = s(&first["id"]);
    assert_eq!(peer.calls("/hooks").len(), 10);
    let retry = |hook: &str, del: &str| format!("/api/v1/webhooks/{hook}/deliveries/{del}/retry");

    // Admins only; unknown ids are 404; the delivery must belong to the subscription.
    assert_eq!(agent.post(&retry(&hook_id, &del), json!({})).await.status, 403);
    assert_eq!(sup.post(&retry(&hook_id, &del), json!({})).await.status, 403);
    assert_eq!(admin.post(&retry(&guarded_id, &del), json!({})).await.status, 404);
    assert_eq!(admin.post(&retry(&hook_id, "nope"), json!({})).await.status, 404);

    // The retry: back to pending with a new job; a second retry now is refused.
    *peer.fail_hooks.lock().unwrap() = 1;
    let r = admin.post(&retry(&hook_id, &del), json!({})).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!((s(&r.body["state"]), r.body["attempts"].as_i64()), ("pending".into(), Some(10)));
    let r = admin.post(&retry(&hook_id, &del), json!({})).await;
    assert_eq!((r.status, s(&r.body["code"])), (409, "delivery_pending".into()), "{:?}", r.body);
    // It fails once more (logged), then the receiver recovers and the backoff retry succeeds.
    t.run_pending_jobs().await;
    let d = log(hook_id.clone()).await;
    assert_eq!(
        (s(&d[0]["state"]), d[0]["attempts"].as_i64(), d[0]["response_status"].as_i64()),
        ("pending".into(), Some(11), Some(500)),
        "{d}"
    );
    t.advance(Duration::from_secs(6));
    t.run_pending_jobs().await;
    let d = log(hook_id.clone()).await;
    assert_eq!(
        (s(&d[0]["state"]), d[0]["attempts"].as_i64(), d[0]["response_status"].as_i64()),
        ("delivered".into(), Some(12), Some(204)),
        "{d}"
    );
    assert!(d[0]["last_error"].is_null(), "{d}");
    let calls = peer.calls("/hooks");
    assert_eq!(calls.len(), 12);
    let (h, body) = calls.last().unwrap();
    assert_eq!(header(h, "x-huiting-delivery"), del);
    assert_eq!(body, &s(&first["payload"]), "the same body as the first attempt");
    let ts = header(h, "x-huiting-timestamp");
    assert!(
        ::channels::sign::verify(
            hook_secret.as_bytes(),
            Some(&ts),
            Some(&header(h, "x-huiting-signature")),
            body.as_bytes(),
            ts.parse().unwrap()
        )
        .is_ok(),
        "signed with the subscription's secret"
    );
    let r = admin.post(&retry(&hook_id, &del), json!({})).await;
    assert_eq!((r.status, s(&r.body["code"])), (409, "delivery_succeeded".into()), "{:?}", r.body);

    // The retry is audited.
    let a = admin.get(&format!("/api/v1/audit?object_type=webhook&object_id={hook_id}")).await;
    assert!(a.body.to_string().contains("webhook.delivery_retry"), "{:?}", a.body);

    // The guarded subscription's delivery failed on the SSRF guard; a retry is refused by the
    // same guard and never reaches loopback.
    let g = log(guarded_id.clone()).await;
    let gd = s(&g[0]["id"]);
    assert_eq!(s(&g[0]["state"]), "failed", "{g}");
    let r = admin.post(&retry(&guarded_id, &gd), json!({})).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    t.run_pending_jobs().await;
    let g = log(guarded_id.clone()).await;
    assert_eq!(g[0]["attempts"], 11, "{g}");
    assert!(s(&g[0]["last_error"]).contains("internal address"), "{g}");
    assert_eq!(peer.calls("/hooks").len(), 12);

    // A pending delivery whose job died (failed outside the attempt bookkeeping) can be retried.
    *peer.fail_hooks.lock().unwrap() = 1;
    assert_eq!(agent.post("/api/v1/tickets", new_ticket("无法开机")).await.status, 201);
    t.run_pending_jobs().await;
    let d = log(hook_id.clone()).await;
    let second = s(&d[0]["id"]);
    assert_ne!(second, del);
    assert_eq!(s(&d[0]["state"]), "pending", "{d}");
    let r = admin.post(&retry(&hook_id, &second), json!({})).await;
    assert_eq!((r.status, s(&r.body["code"])), (409, "delivery_pending".into()), "{:?}", r.body);
    {
        let mut c = t.app.db().bookkeeping().await.unwrap();
        sqlx::query(
            "UPDATE jobs SET state = 'failed' WHERE kind = 'deliver_webhook' AND state = 'pending'",
        )
        .execute(&mut *c)
        .await
        .unwrap();
    }
    let r = admin.post(&retry(&hook_id, &second), json!({})).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    t.run_pending_jobs().await;
    let d = log(hook_id).await;
    assert_eq!(
        (s(&d[0]["state"]), d[0]["attempts"].as_i64()),
        ("delivered".into(), Some(2)),
        "{d}"
    );
}
on_backends!(webhook_delivery_retry, webhook_retry);
