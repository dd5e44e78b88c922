//! The email channel against real peers: Dovecot (IMAP, started per test from a config in a
//! temp dir), aiosmtpd (the SMTP server our replies go to, from the venv that
//! `scripts/test-peers.sh` makes) and Python's smtplib as the SMTP/LMTP client of our
//! receiver. Inbound mail becomes a threaded email conversation of a customer found by address;
//! an agent's reply goes out by the `SendEmail` job with the threading headers; loops are cut.
//! Without a peer the test is skipped with a warning, except under CI=true.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use app::channels::email::Received;
use serde_json::{Value, json};
use test_support::TestApp;

use crate::{items, on_backends, s};

pub(crate) fn required() -> bool {
    #[allow(clippy::disallowed_methods)] // CI decides whether a missing peer fails the test.
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    ci
}

/// Skips (returns None) or, under CI, fails when a peer is missing.
pub(crate) fn peer<T>(what: &str, found: Option<T>) -> Option<T> {
    if found.is_none() {
        assert!(!required(), "{what} is missing and CI=true: run scripts/test-peers.sh");
        eprintln!("warning: {what} is missing; skipping (run scripts/test-peers.sh)");
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_port(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on port {port}");
}

/// A child process killed (by its own id) when dropped.
struct Peer {
    child: Child,
    _dir: tempfile::TempDir,
    port: u16,
    path: PathBuf,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Dovecot serving IMAP on a free loopback port; any user logs in with password `secret`.
async fn dovecot() -> Option<Peer> {
    let bin = peer(
        "dovecot (Debian dovecot-imapd)",
        Some(PathBuf::from("/usr/sbin/dovecot")).filter(|p| p.exists()),
    )?;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mail = d.join("mail");
    std::fs::create_dir_all(d.join("run")).unwrap();
    std::fs::create_dir_all(&mail).unwrap();
    let port = free_port();
    // Dovecot refuses root as a mail user: as root, mail belongs to nobody.
    let out = Command::new("id").arg("-u").output().unwrap();
    let me: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let (uid, gid) = if me == 0 { (65534, 65534) } else { (me, me) };
    if me == 0 {
        Command::new("chown").arg(format!("{uid}:{gid}")).arg(&mail).status().unwrap();
        Command::new("chmod").arg("755").arg(d).status().unwrap();
    }
    let conf = format!(
        "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\nprotocols = imap\n\
         listen = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n\
         first_valid_uid = 1\nmail_location = maildir:{m}/%u\n\
         passdb {{\n  driver = static\n  args = password=secret\n}}\n\
         userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={m}/%u\n}}\n\
         service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n",
        d = d.display(),
        m = mail.display(),
    );
    let path = d.join("dovecot.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new(bin)
        .arg("-F")
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port).await;
    Some(Peer { child, _dir: dir, port, path: mail })
}

/// aiosmtpd writing every message it receives into a Maildir.
async fn aiosmtpd() -> Option<Peer> {
    aiosmtpd_on(free_port()).await
}

/// aiosmtpd on a given port (a test first lets a send to it fail, then starts the peer).
async fn aiosmtpd_on(port: u16) -> Option<Peer> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/peers/venv/bin/python");
    let py = peer("aiosmtpd (scripts/test-peers.sh venv)", Some(root).filter(|p| p.exists()))?;
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let child = Command::new(py)
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port).await;
    Some(Peer { child, _dir: dir, port, path: maildir })
}

/// Messages the SMTP peer received, oldest first.
async fn received(smtp: &Peer, at_least: usize) -> Vec<Vec<u8>> {
    for _ in 0..100 {
        let mut files: Vec<_> = std::fs::read_dir(smtp.path.join("new"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        if files.len() >= at_least {
            return files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the SMTP peer received fewer than {at_least} messages");
}

async fn append(imap: &Peer, raw: &str) {
    let cfg = channels::email::imap::ImapConfig {
        host: "127.0.0.1".into(),
        port: imap.port,
        security: channels::email::Security::None,
        username: "support".into(),
        password: "secret".into(),
        mailbox: "INBOX".into(),
    };
    let mut sess = channels::email::imap::connect(&cfg).await.unwrap();
    sess.append("INBOX", None, None, raw.replace('\n', "\r\n").as_bytes()).await.unwrap();
    sess.logout().await.unwrap();
}

async fn configure(t: &TestApp, imap: Option<&Peer>, smtp: Option<&Peer>, idle: bool) -> Value {
    let admin = t.as_role("admin@acme.test").await;
    let mut body =
        json!({"enabled": true, "address": "support@acme.test", "display_name": "慧听客服"});
    if let Some(i) = imap {
        body["imap"] = json!({"host": "127.0.0.1", "port": i.port, "security": "none",
            "username": "support", "password": "secret", "idle": idle, "poll_seconds": 5});
    }
    if let Some(m) = smtp {
        body["smtp"] = json!({"host": "127.0.0.1", "port": m.port, "security": "none"});
    }
    let r = admin.put("/api/v1/channels/email", body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

const FIRST: &str = "From: =?UTF-8?B?5byg5LiJ?= <ZhangSan@Example.com>
To: support@acme.test
Subject: =?UTF-8?B?6YCA6LSn6Zeu6aKY?=
Message-ID: <first-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"b1\"

--b1
Content-Type: text/html; charset=utf-8

<div>我买的冰箱坏了，想退货。<script>alert(1)</script></div><blockquote>旧的引用</blockquote>
--b1
Content-Type: image/png; name=\"fridge.png\"
Content-Disposition: attachment; filename=\"fridge.png\"
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--b1--
";

async fn conversation_of(t: &TestApp, email: &str) -> (String, Value) {
    let agent = t.as_role("agent@acme.test").await;
    let cust = agent.get(&format!("/api/v1/customers?q={email}")).await;
    let c = items(&cust.body);
    assert_eq!(c.len(), 1, "one customer for {email}: {:?}", cust.body);
    let id = s(&c[0]["id"]);
    let convs = items(
        &agent.get(&format!("/api/v1/conversations?customer_id={id}&channel=email")).await.body,
    );
    assert_eq!(convs.len(), 1, "{convs:?}");
    (id, convs[0].clone())
}

async fn imap_in_smtp_out_threaded_(t: TestApp) {
    let (Some(imap), Some(smtp)) = (dovecot().await, aiosmtpd().await) else { return };
    let saved = configure(&t, Some(&imap), Some(&smtp), false).await;
    assert_eq!(saved["imap"]["password_set"], json!(true));
    assert!(!saved.to_string().contains("secret"), "passwords are write-only: {saved}");

    // A new customer's HTML mail with an attachment: sanitised, quote dropped, file kept.
    append(&imap, FIRST).await;
    assert_eq!(t.app.poll_email_once(t.ws.id).await.unwrap(), 1);
    assert_eq!(t.app.poll_email_once(t.ws.id).await.unwrap(), 0, "read mail is marked seen");
    let (_, conv) = conversation_of(&t, "zhangsan@example.com").await;
    assert_eq!(s(&conv["subject"]), "退货问题");
    let agent = t.as_role("agent@acme.test").await;
    let cid = s(&conv["id"]);
    let msgs = items(&agent.get(&format!("/api/v1/conversations/{cid}/messages")).await.body);
    assert_eq!(msgs.len(), 1);
    assert_eq!(s(&msgs[0]["body"]), "我买的冰箱坏了，想退货。");
    assert_eq!(s(&msgs[0]["sender"]), "customer");
    let att = &msgs[0]["attachments"][0];
    assert_eq!(s(&att["name"]), "fridge.png");
    let url = s(&att["url"]);
    let file = agent
        .http
        .get(format!("{}/api/v1{url}", agent.base))
        .header("cookie", agent.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"\x89PNG\r\n\x1a\n");

    // The agent's reply goes out by SMTP, threaded, with the ticket number in the subject.
    let tk = agent
        .post("/api/v1/tickets", json!({"subject": "冰箱退货", "customer_id": conv["customer_id"], "conversation_id": cid}))
        .await;
    assert_eq!(tk.status, 201, "{:?}", tk.body);
    let number = s(&tk.body["number"]);
    let r = agent
        .post(
            &format!("/api/v1/conversations/{cid}/messages"),
            json!({"body": "您好，已为您安排退货。"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let note = agent
        .post(
            &format!("/api/v1/conversations/{cid}/messages"),
            json!({"body": "内部备注", "internal": true}),
        )
        .await;
    assert_eq!(note.status, 201);
    t.app.run_jobs_once("test", t.app.now()).await.unwrap();
    let out = received(&smtp, 1).await;
    let out: Vec<_> = out.iter().map(|raw| channels::email::parse(raw, None).unwrap()).collect();
    assert_eq!(out.len(), 1, "the internal note is never mailed");
    let sent = out[0].clone();
    assert_eq!(sent.text, "您好，已为您安排退货。");
    assert_eq!(sent.parents, vec!["first-1@example.com"]);
    assert_eq!(sent.subject, format!("Re: 退货问题 [{number}]"));
    let ours = sent.message_id.clone().unwrap();
    assert!(ours.ends_with("@acme.test"), "{ours}");
    // The job does not send twice.
    t.app.run_jobs_once("test", t.app.now()).await.unwrap();

    // The customer answers our mail (Outlook-style quote): same conversation.
    let reply = format!(
        "From: ZhangSan@example.com\nTo: support@acme.test\nSubject: RE: {}\nMessage-ID: <first-2@example.com>\nIn-Reply-To: <{ours}>\nReferences: <first-1@example.com> <{ours}>\n\n好的，谢谢！\n\n-----原始邮件-----\n发件人: 慧听客服\n您好，已为您安排退货。\n",
        sent.subject
    );
    append(&imap, &reply).await;
    // A client that drops the headers still threads by the ticket number in the subject.
    let bare = format!(
        "From: zhangsan@example.com\nSubject: 还有一个问题 [{number}]\nMessage-ID: <first-3@example.com>\n\n发票呢？\n"
    );
    append(&imap, &bare).await;
    // Machine mail is never stored or answered.
    append(&imap, "From: zhangsan@example.com\nAuto-Submitted: auto-replied\nSubject: 自动回复\nMessage-ID: <ooo@example.com>\n\n我在休假\n").await;
    append(&imap, "From: MAILER-DAEMON@example.com\nSubject: Undelivered Mail\nContent-Type: multipart/report; report-type=delivery-status; boundary=z\n\n--z\nContent-Type: text/plain\n\nfailed\n--z\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--z--\n").await;
    assert_eq!(t.app.poll_email_once(t.ws.id).await.unwrap(), 4);
    let (_, again) = conversation_of(&t, "zhangsan@example.com").await;
    assert_eq!(s(&again["id"]), cid);
    let msgs = items(&agent.get(&format!("/api/v1/conversations/{cid}/messages")).await.body);
    let bodies: Vec<String> =
        msgs.iter().filter(|m| s(&m["sender"]) == "customer").map(|m| s(&m["body"])).collect();
    assert_eq!(bodies, vec!["我买的冰箱坏了，想退货。", "好的，谢谢！", "发票呢？"]);
    let cust = agent.get("/api/v1/customers?q=mailer-daemon@example.com").await;
    assert!(items(&cust.body).is_empty(), "a bounce creates no customer");

    // The same mail delivered twice is stored once.
    let dup = t.app.receive_email(t.ws.id, FIRST.replace('\n', "\r\n").as_bytes()).await.unwrap();
    assert_eq!(
        dup,
        Received::Duplicate { conversation: domain::ConversationId::parse(&cid).unwrap() }
    );
}
on_backends!(imap_in_smtp_out_threaded, imap_in_smtp_out_threaded_);

async fn idle_reader_picks_up_new_mail_(t: TestApp) {
    let Some(imap) = dovecot().await else { return };
    configure(&t, Some(&imap), None, true).await;
    let readers = tokio::spawn(t.app.clone().run_email_pollers(Duration::from_millis(200)));
    // Wait until the reader is in IDLE (it has read the empty mailbox), then deliver.
    tokio::time::sleep(Duration::from_millis(800)).await;
    append(&imap, "From: Li Si <lisi@example.cn>\nSubject: Hello\nMessage-ID: <idle-1@example.cn>\n\nIs anyone there?\n\nOn Mon, 1 Dec 2026 at 10:00, Support <support@acme.test> wrote:\n> hi\n").await;
    let agent = t.as_role("agent@acme.test").await;
    let mut found = Vec::new();
    for _ in 0..200 {
        found = items(&agent.get("/api/v1/customers?q=lisi@example.cn").await.body);
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    readers.abort();
    assert_eq!(found.len(), 1, "the IDLE reader stored the new mail");
    let (_, conv) = conversation_of(&t, "lisi@example.cn").await;
    let msgs =
        items(&agent.get(&format!("/api/v1/conversations/{}/messages", s(&conv["id"]))).await.body);
    assert_eq!(s(&msgs[0]["body"]), "Is anyone there?");
}
on_backends!(idle_reader_picks_up_new_mail, idle_reader_picks_up_new_mail_);

async fn python_send(protocol: &str, port: u16, rcpts: &[&str], raw: &str) -> String {
    let script = format!(
        "import smtplib,sys\nc=smtplib.{protocol}('127.0.0.1',{port})\ntry:\n  r=c.sendmail('sender@example.org',{rcpts:?},sys.stdin.buffer.read())\n  print('refused',sorted(r))\nexcept smtplib.SMTPRecipientsRefused as e:\n  print('all refused')\nexcept smtplib.SMTPDataError as e:\n  print('data error',e.smtp_code)\nc.quit()\n",
    );
    let mut child = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(raw.replace('\n', "\r\n").as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn smtp_and_lmtp_receivers_(t: TestApp) {
    if peer("python3 (smtplib)", Command::new("python3").arg("-V").output().ok()).is_none() {
        return;
    }
    configure(&t, None, None, false).await;
    let mut tasks = Vec::new();
    let mut ports = Vec::new();
    for p in [channels::email::receiver::Protocol::Lmtp, channels::email::receiver::Protocol::Smtp]
    {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        ports.push(l.local_addr().unwrap().port());
        tasks.push(tokio::spawn(t.app.clone().serve_email_receiver(l, p)));
    }
    let mail = "From: Wang Wu <wangwu@example.net>\nTo: support@acme.test\nSubject: LMTP\nMessage-ID: <lmtp-1@example.net>\n\n..dot-stuffed line\nsecond line\n";
    let r = python_send("LMTP", ports[0], &["support@acme.test", "nobody@acme.test"], mail).await;
    assert_eq!(r, "refused ['nobody@acme.test']");
    let mail2 = "From: Wang Wu <wangwu@example.net>\nTo: support@acme.test\nSubject: Re: LMTP\nMessage-ID: <smtp-2@example.net>\nIn-Reply-To: <lmtp-1@example.net>\n\nby SMTP\n";
    let r = python_send("SMTP", ports[1], &["Support@Acme.test"], mail2).await;
    assert_eq!(r, "refused []");
    let r = python_send("SMTP", ports[1], &["other@acme.test"], mail2).await;
    assert_eq!(r, "all refused");
    for task in tasks {
        task.abort();
    }
    let (_, conv) = conversation_of(&t, "wangwu@example.net").await;
    let agent = t.as_role("agent@acme.test").await;
    let msgs =
        items(&agent.get(&format!("/api/v1/conversations/{}/messages", s(&conv["id"]))).await.body);
    let bodies: Vec<String> = msgs.iter().map(|m| s(&m["body"])).collect();
    // smtplib dot-stuffs on the wire and our receiver unstuffs: the text arrives unchanged.
    assert_eq!(bodies, vec!["..dot-stuffed line\nsecond line", "by SMTP"]);
}
on_backends!(smtp_and_lmtp_receivers, smtp_and_lmtp_receivers_);

async fn loop_guard_and_settings_(t: TestApp) {
    let admin = t.as_role("admin@acme.test").await;
    let bad = admin
        .put("/api/v1/channels/email", json!({"enabled": true, "address": "not an address"}))
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    assert_eq!(s(&bad.body["field"]), "address");
    let agent = t.as_role("agent@acme.test").await;
    assert_eq!(agent.get("/api/v1/channels/email").await.status, 403);
    let empty = admin.get("/api/v1/channels/email").await;
    assert_eq!(empty.body["configured"], json!(false));
    let r = admin
        .put("/api/v1/channels/email", json!({"enabled": true, "address": "support@acme.test", "rate_per_hour": 2,
            "smtp": {"host": "127.0.0.1", "port": 25, "security": "none", "username": "u", "password": "p1"}}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Saving again without the password keeps it.
    let r = admin
        .put(
            "/api/v1/channels/email",
            json!({"enabled": true, "address": "support@acme.test", "rate_per_hour": 2,
            "smtp": {"host": "127.0.0.1", "port": 25, "security": "none", "username": "u"}}),
        )
        .await;
    assert_eq!(r.body["smtp"]["password_set"], json!(true));

    let mk = |i: u32| {
        format!(
            "From: bot@example.org\r\nSubject: ping {i}\r\nMessage-ID: <p{i}@example.org>\r\n\r\nping\r\n"
        )
    };
    let a = t.app.receive_email(t.ws.id, mk(1).as_bytes()).await.unwrap();
    assert!(matches!(a, Received::Stored { new_conversation: true, .. }), "{a:?}");
    assert!(matches!(
        t.app.receive_email(t.ws.id, mk(2).as_bytes()).await.unwrap(),
        Received::Stored { .. }
    ));
    assert_eq!(
        t.app.receive_email(t.ws.id, mk(3).as_bytes()).await.unwrap(),
        Received::Ignored("rate")
    );
    // Our own reply coming back (a forwarding loop) is not stored.
    let own = "From: someone@example.org\r\nMessage-ID: <abc@acme.test>\r\n\r\nhi\r\n";
    assert_eq!(
        t.app.receive_email(t.ws.id, own.as_bytes()).await.unwrap(),
        Received::Ignored("own")
    );
    let bulk = "From: news@example.org\r\nPrecedence: bulk\r\nMessage-ID: <n1@example.org>\r\n\r\nsale\r\n";
    assert_eq!(
        t.app.receive_email(t.ws.id, bulk.as_bytes()).await.unwrap(),
        Received::Ignored("bulk")
    );
}
on_backends!(loop_guard_and_settings, loop_guard_and_settings_);

/// AN-7: a schedule's report is mailed to each recipient as an attachment through the email
/// channel's SMTP server; a send that fails (nothing listening yet) is recorded on the report
/// and retried with the queue's backoff.
async fn reports_are_mailed_to_recipients_(t: TestApp) {
    let port = free_port();
    // Skip early (before any send) when the peer is not installed.
    let Some(probe) = aiosmtpd_on(port).await else { return };
    drop(probe);
    let admin = t.as_role("admin@acme.test").await;
    let r = admin
        .put(
            "/api/v1/channels/email",
            json!({"enabled": true, "address": "support@acme.test",
                "smtp": {"host": "127.0.0.1", "port": port, "security": "none"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = admin
        .post(
            "/api/v1/reports/schedules",
            json!({"name": "周报", "period": "weekly", "recipients": ["boss@acme.test", "boss@"]}),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["field"], "recipients");
    let r = admin
        .post(
            "/api/v1/reports/schedules",
            json!({"name": "周报", "period": "weekly", "recipients": ["boss@acme.test", "cfo@acme.test"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r =
        admin.post(&format!("/api/v1/reports/schedules/{}/run", s(&r.body["id"])), json!({})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["delivery"], "pending");
    assert_eq!(r.body["deliveries"][1]["recipient"], "cfo@acme.test");
    let id = s(&r.body["id"]);

    // Nothing listens: both recipients stay pending with the error; the job waits its backoff.
    t.run_pending_jobs().await;
    let rep = items(&admin.get("/api/v1/reports").await.body)[0].clone();
    assert_eq!(rep["delivery"], "pending", "{rep}");
    for d in rep["deliveries"].as_array().unwrap() {
        assert_eq!(d["status"], "pending", "{rep}");
        assert_eq!(d["attempts"], 1, "{rep}");
        assert!(d["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{rep}");
    }
    assert!(rep["delivery_error"].as_str().is_some(), "{rep}");

    // The peer comes up; the retry after the backoff (5 s) delivers both.
    let Some(smtp) = aiosmtpd_on(port).await else { return };
    t.run_pending_jobs().await;
    assert_eq!(items(&admin.get("/api/v1/reports").await.body)[0]["delivery"], "pending");
    t.advance(Duration::from_secs(6));
    t.run_pending_jobs().await;
    let rep = items(&admin.get("/api/v1/reports").await.body)[0].clone();
    assert_eq!(rep["delivery"], "sent", "{rep}");
    assert!(rep["delivery_error"].is_null(), "{rep}");
    for d in rep["deliveries"].as_array().unwrap() {
        assert_eq!(d["status"], "sent", "{rep}");
        assert_eq!(d["attempts"], 2, "{rep}");
        assert!(d["last_error"].is_null() && d["sent_at"].is_string(), "{rep}");
    }

    let (st, file) =
        crate::alerts::download(&admin, &format!("/api/v1/reports/{id}/download")).await;
    assert_eq!(st, 200);
    let mail = received(&smtp, 2).await;
    assert_eq!(mail.len(), 2);
    let mut to = Vec::new();
    for raw in &mail {
        let m = channels::email::parse(raw, None).unwrap();
        assert_eq!(m.from_address, "support@acme.test");
        assert!(m.subject.starts_with("周报 周报 "), "{}", m.subject);
        assert!(m.text.contains("附件是「周报」周报"), "{}", m.text);
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].name, s(&rep["filename"]));
        assert!(m.attachments[0].content_type.starts_with("text/csv"));
        assert_eq!(m.attachments[0].bytes, file, "the attachment is the stored report");
        to.extend(m.to);
    }
    to.sort();
    assert_eq!(to, ["boss@acme.test", "cfo@acme.test"]);
    // Nothing more is sent.
    t.advance(Duration::from_secs(3600));
    t.run_pending_jobs().await;
    assert_eq!(received(&smtp, 2).await.len(), 2);
}
on_backends!(reports_are_mailed_to_recipients, reports_are_mailed_to_recipients_);
