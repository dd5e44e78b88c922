//! The authorization matrix: every endpoint × every role × an outsider from another
//! workspace × another customer × nobody. A forbidden read or write never succeeds, an
//! allowed one always gets past authorization, and a route added without a row fails.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use test_support::{Client, TestApp};

use crate::{on_backends, s};

const ADMIN: &str = "admin";
const HEAD: &str = "cs_head";
const SUPER: &str = "supervisor";
const AGENT: &str = "agent";
const DEPT: &str = "dept_member";
const AUDITOR: &str = "auditor";
const OUTSIDER: &str = "outsider";
const OWNER: &str = "owner_visitor";
const VISITOR: &str = "other_visitor";
const NOBODY: &str = "anonymous";

const ALL_STAFF: &[&str] = &[ADMIN, HEAD, SUPER, AGENT, DEPT, AUDITOR];
const READ_ALL: &[&str] = &[ADMIN, HEAD, SUPER, AGENT, AUDITOR];
const WRITE: &[&str] = &[ADMIN, HEAD, SUPER, AGENT];
const SUPERVISE: &[&str] = &[ADMIN, HEAD, SUPER];
const CATALOG: &[&str] = &[ADMIN, HEAD];
const USERS: &[&str] = &[ADMIN];
const AUDIT: &[&str] = &[ADMIN, HEAD, AUDITOR];
const BOT: &[&str] = &[ADMIN, HEAD, SUPER];
const COMPENSATE: &[&str] = &[HEAD, SUPER, AGENT];
const APPROVE: &[&str] = &[HEAD, SUPER];
const NOTES: &[&str] = &[ADMIN, HEAD, SUPER, AGENT, DEPT];
const VISITORS: &[&str] = &[OWNER, VISITOR];
/// Staff acting on their own account (`/me/…`), in any workspace.
const SELF: &[&str] = &[ADMIN, HEAD, SUPER, AGENT, DEPT, AUDITOR, OUTSIDER];
const OWNER_ONLY: &[&str] = &[OWNER];
const EVERYONE: &[&str] =
    &[ADMIN, HEAD, SUPER, AGENT, DEPT, AUDITOR, OUTSIDER, OWNER, VISITOR, NOBODY];

/// The objects of workspace `acme` that requests point at.
struct Fx {
    customer: String,
    ticket: String,
    conversation: String,
    /// The ticket's first message (its description), for the split row.
    ticket_message: String,
    user: String,
    team: String,
    token: String,
    visitor_conversation: String,
    tracking: String,
    spares: Vec<String>,
    public_key: String,
    intent: String,
    /// One intent and one example per principal, for the DELETE rows.
    spare_intents: Vec<String>,
    spare_examples: Vec<String>,
    model: String,
    /// Compensations on `ticket`: two pending at supervisor level, one granted by the agent.
    comp_approve: String,
    comp_reject: String,
    comp_granted: String,
    /// A collaboration request on `ticket` to the tech department (the DEPT principal's).
    collab: String,
    trigger: String,
    /// One trigger per principal, for the DELETE row.
    spare_triggers: Vec<String>,
    kb: KbFx,
    /// A phone channel, a webhook subscription and spare subscriptions (channels, issue 8).
    ch: ChFx,
    /// An inbound email's attachment id (`/files/email/{id}`).
    email_file: String,
    /// An image the owner visitor uploaded into their conversation (`/files/chat/{id}`).
    chat_file: String,
    fb: FbFx,
    /// A problem-code spike alert, a weekly report schedule and one rendered report.
    alert: String,
    schedule: String,
    report: String,
}

struct ChFx {
    channel: String,
    webhook: String,
    /// A failed delivery of `webhook`, for the retry row.
    delivery: String,
    spare_webhooks: Vec<String>,
    /// An inactive proactive rule, and one spare per principal for the DELETE row.
    rule: String,
    spare_rules: Vec<String>,
}

/// Feedback-loop objects: a feedback item with an image, an open survey link, and one open
/// survey link per principal for the answer row.
struct FbFx {
    feedback: String,
    attachment: String,
    survey: String,
    spare_surveys: Vec<String>,
}

/// Knowledge-base objects: one of each kind, and spares per principal for the DELETE rows.
struct KbFx {
    faq: String,
    article: String,
    template: String,
    spare_faqs: Vec<String>,
    spare_articles: Vec<String>,
    spare_templates: Vec<String>,
    /// An open FAQ candidate, and the visitor's first message (for the intent correction).
    candidate: String,
    message: String,
    /// A second ticket to link to, and merged into `ticket` by the first allowed caller.
    spare_ticket: String,
    /// Tickets related to the fixture's ticket, one per principal, for the DELETE row.
    spare_links: Vec<String>,
}

type Body = fn(&Fx, usize) -> Value;

struct Row {
    method: &'static str,
    path: &'static str,
    allowed: &'static [&'static str],
    body: Option<Body>,
}

const fn row(
    method: &'static str,
    path: &'static str,
    allowed: &'static [&'static str],
    body: Option<Body>,
) -> Row {
    Row { method, path, allowed, body }
}

fn rows() -> Vec<Row> {
    vec![
        row("GET", "/healthz", EVERYONE, None),
        row("GET", "/readyz", EVERYONE, None),
        row(
            "POST",
            "/api/v1/auth/login",
            EVERYONE,
            Some(
                |_, _| json!({"workspace": "acme", "email": "agent2@acme.test", "password": test_support::PASSWORD}),
            ),
        ),
        row("GET", "/api/v1/me", ALL_STAFF, None),
        // Two-factor login: the login steps need a live challenge, which no role gives.
        row(
            "POST",
            "/api/v1/auth/2fa",
            &[],
            Some(|_, _| json!({"challenge": "hc_forged", "code": "123456"})),
        ),
        row("POST", "/api/v1/auth/2fa/enroll", &[], Some(|_, _| json!({"challenge": "hc_forged"}))),
        row("GET", "/api/v1/me/2fa", SELF, None),
        row("POST", "/api/v1/me/2fa/totp", SELF, Some(|_, _| json!({}))),
        // A wrong code (400 on `code`) shows the caller got past authorization.
        row("POST", "/api/v1/me/2fa/totp/confirm", SELF, Some(|_, _| json!({"code": "12345x"}))),
        // Two-factor is not on for anyone here: 409 past authorization.
        row(
            "DELETE",
            "/api/v1/me/2fa/totp",
            SELF,
            Some(|_, _| json!({"password": "x", "code": "123456"})),
        ),
        row("GET", "/api/v1/security/settings", USERS, None),
        row("PUT", "/api/v1/security/settings", USERS, Some(|_, _| json!({"require_2fa": false}))),
        // Single sign-on: whether it is offered is public; with no provider configured here the
        // start and the callback are 404 `sso_disabled` for everyone (the flow: `it::oidc`).
        row("GET", "/api/v1/auth/oidc/{workspace}", EVERYONE, None),
        row("GET", "/api/v1/auth/oidc/{workspace}/start", &[], None),
        row("GET", "/api/v1/auth/oidc/{workspace}/callback?state=forged&code=x", &[], None),
        row("GET", "/api/v1/security/sso", USERS, None),
        row(
            "PUT",
            "/api/v1/security/sso",
            USERS,
            Some(
                |_, _| json!({"issuer": "https://login.example.com", "client_id": "huiting", "client_secret": "s3cret", "enabled": false}),
            ),
        ),
        row("GET", "/api/v1/users", ALL_STAFF, None),
        row(
            "POST",
            "/api/v1/users",
            USERS,
            Some(
                |_, i| json!({"email": format!("new{i}@acme.test"), "name": "新人", "role": "agent", "password": "a-long-password"}),
            ),
        ),
        row("GET", "/api/v1/users/{id}", ALL_STAFF, None),
        row(
            "PATCH",
            "/api/v1/users/{id}",
            USERS,
            Some(|_, i| json!({"name": format!("改名 {i}")})),
        ),
        row("GET", "/api/v1/teams", ALL_STAFF, None),
        row(
            "POST",
            "/api/v1/teams",
            CATALOG,
            Some(|_, i| json!({"name": format!("团队 {i}"), "skills": ["PQ"]})),
        ),
        row("GET", "/api/v1/teams/{id}", ALL_STAFF, None),
        row(
            "PATCH",
            "/api/v1/teams/{id}",
            CATALOG,
            Some(|_, i| json!({"skills": ["PQ", format!("lang:x{i}")]})),
        ),
        row("GET", "/api/v1/problem-codes", ALL_STAFF, None),
        row(
            "PUT",
            "/api/v1/problem-codes/{code}",
            CATALOG,
            Some(|_, i| json!({"name_zh": format!("屏幕问题 {i}"), "name_en": "Screen"})),
        ),
        row("GET", "/api/v1/stages", ALL_STAFF, None),
        row("GET", "/api/v1/tokens", USERS, None),
        row("POST", "/api/v1/tokens", USERS, Some(|_, _| json!({"name": "CRM", "role": "agent"}))),
        row("DELETE", "/api/v1/tokens/{id}", USERS, None),
        row("GET", "/api/v1/customers", READ_ALL, None),
        row("POST", "/api/v1/customers", WRITE, Some(|_, i| json!({"name": format!("客户 {i}")}))),
        row("GET", "/api/v1/customers/{id}", READ_ALL, None),
        row(
            "PATCH",
            "/api/v1/customers/{id}",
            WRITE,
            Some(|_, i| json!({"attributes": {"note": format!("n{i}")}})),
        ),
        row(
            "POST",
            "/api/v1/customers/{id}/identities",
            WRITE,
            Some(|_, i| json!({"kind": "external", "value": format!("shop:{i}")})),
        ),
        row(
            "POST",
            "/api/v1/customers/{id}/merge",
            SUPERVISE,
            Some(|f, i| json!({"from": f.spares[i]})),
        ),
        row("GET", "/api/v1/conversations", READ_ALL, None),
        row(
            "POST",
            "/api/v1/conversations",
            WRITE,
            Some(|f, _| json!({"customer_id": f.customer, "channel": "phone"})),
        ),
        row("GET", "/api/v1/conversations/{id}", READ_ALL, None),
        row(
            "PATCH",
            "/api/v1/conversations/{id}",
            WRITE,
            Some(|_, i| json!({"status": if i % 2 == 0 { "pending" } else { "open" }})),
        ),
        row("GET", "/api/v1/conversations/{id}/messages", READ_ALL, None),
        row(
            "POST",
            "/api/v1/conversations/{id}/messages",
            WRITE,
            Some(|_, _| json!({"body": "您好"})),
        ),
        row("GET", "/api/v1/tickets", ALL_STAFF, None),
        row(
            "POST",
            "/api/v1/tickets",
            WRITE,
            Some(|f, _| json!({"subject": "新工单", "customer_id": f.customer})),
        ),
        row("GET", "/api/v1/tickets/{id}", READ_ALL, None),
        row(
            "PATCH",
            "/api/v1/tickets/{id}",
            WRITE,
            Some(|_, i| json!({"tags": [format!("t{i}")]})),
        ),
        row(
            "POST",
            "/api/v1/tickets/{id}/status",
            WRITE,
            Some(|_, i| json!({"status": if i % 2 == 0 { "pending" } else { "open" }})),
        ),
        row(
            "POST",
            "/api/v1/tickets/{id}/assign",
            WRITE,
            Some(|_, _| json!({"assignee_id": null})),
        ),
        row("POST", "/api/v1/tickets/{id}/replies", WRITE, Some(|_, _| json!({"body": "处理中"}))),
        row("POST", "/api/v1/tickets/{id}/notes", WRITE, Some(|_, _| json!({"body": "备注"}))),
        row("GET", "/api/v1/tickets/{id}/messages", READ_ALL, None),
        row("GET", "/api/v1/tickets/{id}/history", READ_ALL, None),
        row(
            "POST",
            "/api/v1/tickets/{id}/compensations",
            COMPENSATE,
            Some(|_, _| json!({"type": "voucher", "amount_fen": 5000, "basis": "配送延误补偿"})),
        ),
        row("GET", "/api/v1/tickets/{id}/compensations", READ_ALL, None),
        row("GET", "/api/v1/compensations", READ_ALL, None),
        row("POST", "/api/v1/compensations/{id}/approve", APPROVE, Some(|_, _| json!({}))),
        row(
            "POST",
            "/api/v1/compensations/{id}/reject",
            APPROVE,
            Some(|_, _| json!({"reason": "依据不足"})),
        ),
        row(
            "POST",
            "/api/v1/compensations/{id}/report",
            &[AGENT],
            Some(|_, _| json!({"report": "已发放代金券，客户确认"})),
        ),
        row("GET", "/api/v1/settings/compensation-limits", ALL_STAFF, None),
        row(
            "PUT",
            "/api/v1/settings/compensation-limits",
            USERS,
            Some(
                |_, _| json!({"agent_fen": 200000, "supervisor_fen": 500000, "cs_head_fen": null, "report_hours": 48}),
            ),
        ),
        row(
            "POST",
            "/api/v1/tickets/{id}/collaborations",
            WRITE,
            Some(|_, _| json!({"department": "tech", "question": "请诊断", "due_in_hours": 24})),
        ),
        row("GET", "/api/v1/collaborations", ALL_STAFF, None),
        row("GET", "/api/v1/collaborations/{id}", ALL_STAFF, None),
        row(
            "POST",
            "/api/v1/collaborations/{id}/updates",
            NOTES,
            Some(|_, i| json!({"body": format!("进展 {i}")})),
        ),
        row(
            "POST",
            "/api/v1/collaborations/{id}/complete",
            &[ADMIN, HEAD, SUPER, DEPT],
            Some(|_, _| json!({"answer": "已更换主板"})),
        ),
        row(
            "PUT",
            "/api/v1/stages/{key}",
            CATALOG,
            Some(
                |_, i| json!({"label_zh": format!("方案制定 {i}"), "label_en": "Planning", "position": 5}),
            ),
        ),
        row("GET", "/api/v1/settings/stage-notifications", ALL_STAFF, None),
        row(
            "PUT",
            "/api/v1/settings/stage-notifications",
            CATALOG,
            Some(
                |_, i| json!({"enabled": true, "template_zh": format!("工单 {{ticket_no}}：{{stage}} {i}"), "template_en": "Ticket {ticket_no}: {stage}"}),
            ),
        ),
        row("GET", "/api/v1/tickets/{id}/sla", READ_ALL, None),
        row("GET", "/api/v1/sla/policies", ALL_STAFF, None),
        row(
            "PUT",
            "/api/v1/sla/policies",
            CATALOG,
            Some(
                |_, i| json!({"policies": [{"name": format!("all {i}"), "targets": [{"metric": "first_response", "duration": "4h", "mode": "business:default", "warn": "80%"}]}]}),
            ),
        ),
        row("GET", "/api/v1/sla/calendars", ALL_STAFF, None),
        row(
            "PUT",
            "/api/v1/sla/calendars",
            CATALOG,
            Some(
                |_, _| json!({"calendars": [{"id": "default", "time_zone": "Asia/Shanghai", "week": ["09:00-18:00", "09:00-18:00", "09:00-18:00", "09:00-18:00", "09:00-18:00", "closed", "closed"]}]}),
            ),
        ),
        row("GET", "/api/v1/notifications", ALL_STAFF, None),
        row("GET", "/api/v1/nlu/intents", ALL_STAFF, None),
        row(
            "POST",
            "/api/v1/nlu/intents",
            BOT,
            Some(|_, i| json!({"name": format!("matrix.x{i}"), "examples": ["我要开发票"]})),
        ),
        row("GET", "/api/v1/nlu/intents/{id}", ALL_STAFF, None),
        row(
            "PATCH",
            "/api/v1/nlu/intents/{id}",
            BOT,
            Some(|_, i| json!({"description": format!("说明 {i}")})),
        ),
        row(
            "POST",
            "/api/v1/nlu/intents/{id}/examples",
            BOT,
            Some(|_, i| json!({"examples": [format!("东西坏了 {i}")]})),
        ),
        row("DELETE", "/api/v1/nlu/intents/{id}/examples/{example_id}", BOT, None),
        row("DELETE", "/api/v1/nlu/intents/{id}", BOT, None),
        row("GET", "/api/v1/nlu/models", ALL_STAFF, None),
        row("POST", "/api/v1/nlu/models", BOT, Some(|_, _| json!({"kind": "intent"}))),
        row("POST", "/api/v1/nlu/models/{id}/activate", BOT, None),
        row(
            "POST",
            "/api/v1/nlu/analyze",
            ALL_STAFF,
            Some(|_, _| json!({"text": "我的订单DD20261102001还没到"})),
        ),
        row("GET", "/api/v1/bot/settings", ALL_STAFF, None),
        row(
            "PUT",
            "/api/v1/bot/settings",
            USERS,
            Some(|_, i| json!({"handoff": {"unmatched_in_a_row": 2 + i % 3}})),
        ),
        row("GET", "/api/v1/bot/metrics", ALL_STAFF, None),
        // The email channel (issue 8).
        row("GET", "/api/v1/channels/email", USERS, None),
        row(
            "PUT",
            "/api/v1/channels/email",
            USERS,
            Some(
                |_, i| json!({"enabled": true, "address": "support@acme.test", "rate_per_hour": 10 + i}),
            ),
        ),
        row("GET", "/api/v1/files/email/{id}", READ_ALL, None),
        // Images in chat (issue 6): uploads into the owner's conversation; the rows' bodies
        // are replaced by a PNG (see `upload_png`).
        row("POST", "/api/v1/public/uploads", OWNER_ONLY, None),
        // Department members add notes too, but only to conversations of their tickets: not this one.
        row("POST", "/api/v1/uploads", WRITE, None),
        row("GET", "/api/v1/files/chat/{id}", &[ADMIN, HEAD, SUPER, AGENT, AUDITOR, OWNER], None),
        row("GET", "/api/v1/analytics/kpis", SUPERVISE, None),
        row("GET", "/api/v1/analytics/trends", SUPERVISE, None),
        row("GET", "/api/v1/analytics/pareto", SUPERVISE, None),
        row("GET", "/api/v1/analytics/heatmap", SUPERVISE, None),
        row("GET", "/api/v1/analytics/cases", SUPERVISE, None),
        // Agents get their own row only (checked in agent_kpis.rs).
        row("GET", "/api/v1/analytics/agents", WRITE, None),
        row("GET", "/api/v1/analytics/sentiment", SUPERVISE, None),
        row("GET", "/api/v1/kb/faqs", ALL_STAFF, None),
        row(
            "POST",
            "/api/v1/kb/faqs",
            BOT,
            Some(|_, i| json!({"question": format!("矩阵问题 {i}"), "answer": "答案"})),
        ),
        row("GET", "/api/v1/kb/faqs/{id}", ALL_STAFF, None),
        row(
            "PATCH",
            "/api/v1/kb/faqs/{id}",
            BOT,
            Some(|_, i| json!({"answer": format!("答案 {i}")})),
        ),
        row("POST", "/api/v1/kb/faqs/{id}/publish", BOT, None),
        row("POST", "/api/v1/kb/faqs/{id}/unpublish", BOT, None),
        row("GET", "/api/v1/kb/faqs/{id}/versions", ALL_STAFF, None),
        row("DELETE", "/api/v1/kb/faqs/{id}", BOT, None),
        row("GET", "/api/v1/kb/articles", ALL_STAFF, None),
        row(
            "POST",
            "/api/v1/kb/articles",
            BOT,
            Some(|_, i| json!({"title": format!("矩阵文章 {i}"), "body": "正文"})),
        ),
        row("GET", "/api/v1/kb/articles/{id}", ALL_STAFF, None),
        row(
            "PATCH",
            "/api/v1/kb/articles/{id}",
            BOT,
            Some(|_, i| json!({"body": format!("正文 {i}")})),
        ),
        row("POST", "/api/v1/kb/articles/{id}/publish", BOT, None),
        row("POST", "/api/v1/kb/articles/{id}/unpublish", BOT, None),
        row("GET", "/api/v1/kb/articles/{id}/versions", ALL_STAFF, None),
        row("DELETE", "/api/v1/kb/articles/{id}", BOT, None),
        row(
            "POST",
            "/api/v1/kb/import",
            BOT,
            Some(|_, i| json!({"content": format!("问题,答案\n导入问题 {i},答案")})),
        ),
        row("GET", "/api/v1/kb/export", ALL_STAFF, None),
        row("GET", "/api/v1/kb/search?q=%E9%80%80%E8%B4%A7", ALL_STAFF, None),
        row("POST", "/api/v1/kb/reindex", BOT, None),
        row("POST", "/api/v1/kb/match", ALL_STAFF, Some(|_, _| json!({"text": "怎么退货"}))),
        row("GET", "/api/v1/kb/settings", ALL_STAFF, None),
        row(
            "PUT",
            "/api/v1/kb/settings",
            BOT,
            Some(|_, _| json!({"answer_threshold": 0.6, "confirm_threshold": 0.3})),
        ),
        row("GET", "/api/v1/kb/templates", ALL_STAFF, None),
        row(
            "POST",
            "/api/v1/kb/templates",
            BOT,
            Some(|_, i| json!({"name": format!("矩阵话术 {i}"), "body": "{{customer.name}}您好"})),
        ),
        row(
            "PATCH",
            "/api/v1/kb/templates/{id}",
            BOT,
            Some(|_, i| json!({"body": format!("您好 {i}")})),
        ),
        row("DELETE", "/api/v1/kb/templates/{id}", BOT, None),
        row("POST", "/api/v1/kb/templates/{id}/render", ALL_STAFF, Some(|_, _| json!({}))),
        row("GET", "/api/v1/conversations/{id}/suggestions", READ_ALL, None),
        row("GET", "/api/v1/events", ALL_STAFF, None),
        row("GET", "/api/v1/ws", ALL_STAFF, None),
        row("POST", "/api/v1/conversations/{id}/typing", WRITE, None),
        row("GET", "/api/v1/audit", AUDIT, None),
        row("GET", "/api/v1/audit/verify", AUDIT, None),
        row(
            "POST",
            "/api/v1/public/conversations",
            EVERYONE,
            Some(|f, _| json!({"public_key": f.public_key, "message": "你好"})),
        ),
        row("GET", "/api/v1/public/conversations", VISITORS, None),
        row("GET", "/api/v1/public/conversations/{id}", OWNER_ONLY, None),
        row("GET", "/api/v1/public/conversations/{id}/messages", OWNER_ONLY, None),
        row(
            "POST",
            "/api/v1/public/conversations/{id}/messages",
            OWNER_ONLY,
            Some(|_, _| json!({"body": "还在吗"})),
        ),
        row(
            "POST",
            "/api/v1/public/conversations/{id}/bot/pick",
            OWNER_ONLY,
            Some(|_, _| json!({"payload": "rate:5"})),
        ),
        row("GET", "/api/v1/public/tickets", VISITORS, None),
        row("GET", "/api/v1/public/track/{token}", EVERYONE, None),
        row("GET", "/api/v1/public/track/{token}/queue", EVERYONE, None),
        row("GET", "/api/v1/me/presence", WRITE, None),
        row("PUT", "/api/v1/me/presence", WRITE, Some(|_, _| json!({"presence": "online"}))),
        row(
            "PUT",
            "/api/v1/users/{id}/routing",
            SUPERVISE,
            Some(|_, _| json!({"max_chats": 4, "max_tickets": 12, "senior": false})),
        ),
        row(
            "PUT",
            "/api/v1/teams/{id}/routing",
            CATALOG,
            Some(|_, _| json!({"strategy": "round_robin"})),
        ),
        // channels (issue 8): the vendor endpoints take no login, only the channel's
        // signature, so every unsigned call is refused.
        row("GET", "/api/v1/channels", USERS, None),
        row(
            "POST",
            "/api/v1/channels",
            USERS,
            Some(
                |_, i| json!({"kind": "phone", "name": format!("呼叫中心 {i}"), "settings": {"secret": "0123456789"}}),
            ),
        ),
        row("GET", "/api/v1/channels/{id}", USERS, None),
        row(
            "PATCH",
            "/api/v1/channels/{id}",
            USERS,
            Some(|_, i| json!({"name": format!("呼叫中心改名 {i}")})),
        ),
        row(
            "GET",
            "/api/v1/channels/{id}/wechat?signature=a&timestamp=1&nonce=n&echostr=e",
            &[],
            None,
        ),
        row(
            "POST",
            "/api/v1/channels/{id}/wechat?signature=a&timestamp=1&nonce=n",
            &[],
            Some(|_, _| json!({})),
        ),
        row("POST", "/api/v1/channels/{id}/webhook", &[], Some(|_, _| json!({}))),
        row("POST", "/api/v1/channels/{id}/sms", &[], Some(|_, _| json!({}))),
        row("POST", "/api/v1/channels/{id}/calls", &[], Some(|_, _| json!({}))),
        row("GET", "/api/v1/webhooks", USERS, None),
        row(
            "POST",
            "/api/v1/webhooks",
            USERS,
            Some(|_, _| json!({"url": "https://hooks.example.com/h", "events": ["never.fired"]})),
        ),
        row("DELETE", "/api/v1/webhooks/{id}", USERS, None),
        row("GET", "/api/v1/webhooks/{id}/deliveries", USERS, None),
        row("POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", USERS, None),
        // Proactive service (issue 8 item 6): admins manage rules; staff who work cases set
        // a customer's opt-out.
        row("GET", "/api/v1/proactive/rules", USERS, None),
        row("POST", "/api/v1/proactive/rules", USERS, Some(|_, i| proactive_rule_body(i))),
        row("GET", "/api/v1/proactive/rules/{id}", USERS, None),
        row("PUT", "/api/v1/proactive/rules/{id}", USERS, Some(|_, i| proactive_rule_body(i))),
        row("DELETE", "/api/v1/proactive/rules/{id}", USERS, None),
        row("GET", "/api/v1/proactive/rules/{id}/preview", USERS, None),
        row("POST", "/api/v1/proactive/rules/{id}/run", USERS, Some(|_, _| json!({}))),
        row("GET", "/api/v1/proactive/sends", USERS, None),
        row("GET", "/api/v1/proactive/settings", USERS, None),
        row(
            "PUT",
            "/api/v1/proactive/settings",
            USERS,
            Some(
                |_, _| json!({"time_zone": "Asia/Shanghai", "quiet_hours": "21:00-08:00", "cap_count": 2, "cap_days": 7}),
            ),
        ),
        row("GET", "/api/v1/customers/{id}/proactive-opt-out", READ_ALL, None),
        row(
            "PUT",
            "/api/v1/customers/{id}/proactive-opt-out",
            WRITE,
            Some(|_, _| json!({"opted_out": false})),
        ),
        row(
            "POST",
            "/api/v1/customers/{id}/verifications",
            WRITE,
            Some(|_, _| json!({"phone": "13700001111"})),
        ),
        row(
            "POST",
            "/api/v1/customers/{id}/verifications/confirm",
            WRITE,
            Some(|_, _| json!({"code": "000000"})),
        ),
        row(
            "POST",
            "/api/v1/public/verifications",
            VISITORS,
            Some(|_, _| json!({"phone": "13700001111"})),
        ),
        row(
            "POST",
            "/api/v1/public/verifications/confirm",
            VISITORS,
            Some(|_, _| json!({"code": "000000"})),
        ),
        row("GET", "/api/v1/triggers", ALL_STAFF, None),
        row("POST", "/api/v1/triggers", CATALOG, Some(|_, i| trigger_body(i))),
        row("GET", "/api/v1/triggers/{id}", ALL_STAFF, None),
        row("PUT", "/api/v1/triggers/{id}", CATALOG, Some(|_, i| trigger_body(i))),
        row("DELETE", "/api/v1/triggers/{id}", CATALOG, None),
        row("GET", "/api/v1/kb/candidates", ALL_STAFF, None),
        row("GET", "/api/v1/kb/candidates/{id}", ALL_STAFF, None),
        row("POST", "/api/v1/kb/candidates/refresh", BOT, None),
        row(
            "POST",
            "/api/v1/kb/candidates/{id}/accept",
            BOT,
            Some(|_, _| json!({"answer": "在「我的-发票」里修改。"})),
        ),
        row("POST", "/api/v1/kb/candidates/{id}/dismiss", BOT, None),
        row(
            "PUT",
            "/api/v1/conversations/{id}/messages/{message_id}/intent",
            WRITE,
            Some(|_, _| json!({"intent": "refund"})),
        ),
        row("GET", "/api/v1/tickets/{id}/links", READ_ALL, None),
        row(
            "POST",
            "/api/v1/tickets/{id}/links",
            WRITE,
            Some(|f, _| json!({"ticket_id": f.kb.spare_ticket})),
        ),
        row("DELETE", "/api/v1/tickets/{id}/links/{other_id}", WRITE, None),
        row("POST", "/api/v1/tickets/{id}/merge", WRITE, Some(|f, _| json!({"into": f.ticket}))),
        row(
            "POST",
            "/api/v1/tickets/{id}/split",
            WRITE,
            Some(|f, _| json!({"subject": "拆出的问题", "message_ids": [f.ticket_message]})),
        ),
        row("GET", "/api/v1/translation/settings", ALL_STAFF, None),
        row("PUT", "/api/v1/translation/settings", USERS, Some(|_, _| json!({"enabled": false}))),
        row(
            "POST",
            "/api/v1/conversations/{id}/messages/{message_id}/translate",
            READ_ALL,
            Some(|_, _| json!({"target": "en"})),
        ),
        row(
            "POST",
            "/api/v1/conversations/{id}/translate-draft",
            WRITE,
            Some(|_, _| json!({"text": "您好", "target": "en"})),
        ),
        row("GET", "/api/v1/public/events", VISITORS, None),
        row("GET", "/api/v1/public/ws", VISITORS, None),
        // Alerts, quality inspection, scheduled reports (AN-2, AN-5…AN-7).
        row("GET", "/api/v1/alerts", SUPERVISE, None),
        row("GET", "/api/v1/alerts/settings", SUPERVISE, None),
        row("PUT", "/api/v1/alerts/settings", CATALOG, Some(|_, _| json!({"spike_min_count": 5}))),
        row("POST", "/api/v1/alerts/evaluate", CATALOG, Some(|_, _| json!({}))),
        row("GET", "/api/v1/alerts/{id}", SUPERVISE, None),
        row("POST", "/api/v1/alerts/{id}/ack", SUPERVISE, Some(|_, _| json!({}))),
        row("POST", "/api/v1/alerts/{id}/resolve", SUPERVISE, Some(|_, _| json!({}))),
        row("GET", "/api/v1/quality/rules", SUPERVISE, None),
        row(
            "PUT",
            "/api/v1/quality/rules",
            CATALOG,
            Some(
                |_, _| json!({"greetings": ["您好"], "closings": [], "forbidden": [], "promise_words": [], "slow_reply_secs": 0}),
            ),
        ),
        row("POST", "/api/v1/quality/inspect", CATALOG, Some(|_, _| json!({}))),
        row("GET", "/api/v1/quality/findings", SUPERVISE, None),
        row("GET", "/api/v1/quality/index", SUPERVISE, None),
        row("GET", "/api/v1/reports/schedules", SUPERVISE, None),
        row(
            "POST",
            "/api/v1/reports/schedules",
            CATALOG,
            Some(|_, i| json!({"name": format!("周报 {i}"), "period": "weekly"})),
        ),
        row(
            "PUT",
            "/api/v1/reports/schedules/{id}",
            CATALOG,
            Some(|_, _| json!({"name": "周报", "period": "weekly", "format": "xlsx"})),
        ),
        row("POST", "/api/v1/reports/schedules/{id}/run", CATALOG, Some(|_, _| json!({}))),
        row("GET", "/api/v1/reports", SUPERVISE, None),
        row("GET", "/api/v1/reports/{id}/download", SUPERVISE, None),
        row("GET", "/api/v1/surveys/settings", ALL_STAFF, None),
        row(
            "PUT",
            "/api/v1/surveys/settings",
            CATALOG,
            Some(
                |_, i| json!({"enabled": true, "kinds": ["csat"], "delay_minutes": 5 + i, "expiry_hours": 72, "reminder_hours": 24, "csat_low": 2, "nps_low": 6, "ces_low": 3}),
            ),
        ),
        row("GET", "/api/v1/surveys", READ_ALL, None),
        row("GET", "/api/v1/public/surveys/{token}", EVERYONE, None),
        row(
            "POST",
            "/api/v1/public/surveys/{token}",
            EVERYONE,
            Some(|_, _| json!({"scores": {"csat": 5}})),
        ),
        row("GET", "/api/v1/feedback", READ_ALL, None),
        row("POST", "/api/v1/feedback", WRITE, Some(|_, i| json!({"body": format!("反馈 {i}")}))),
        row("GET", "/api/v1/feedback/{id}", READ_ALL, None),
        row("PATCH", "/api/v1/feedback/{id}", WRITE, Some(|_, _| json!({"status": "handled"}))),
        row("GET", "/api/v1/feedback/{id}/attachments/{attachment}", READ_ALL, None),
        row(
            "POST",
            "/api/v1/feedback/import",
            WRITE,
            Some(
                |_, i| json!([{"platform": "tmall", "id": format!("m{i}"), "rating": 4, "text": "不错"}]),
            ),
        ),
        row(
            "POST",
            "/api/v1/public/feedback",
            EVERYONE,
            Some(|f, i| json!({"public_key": f.public_key, "body": format!("表单反馈 {i}")})),
        ),
        row("GET", "/api/v1/signals", READ_ALL, None),
        row("GET", "/api/v1/customers/{id}/churn", READ_ALL, None),
        row("GET", "/api/v1/churn", SUPERVISE, None),
        // Personal data (PL-4), near the end: an allowed erasure of the fixture's customer (whose
        // ticket is open, so 409 until something solves it) must not disturb earlier rows.
        row("GET", "/api/v1/customers/{id}/personal-data", USERS, None),
        row("GET", "/api/v1/privacy/settings", USERS, None),
        row("PUT", "/api/v1/privacy/settings", USERS, Some(|_, _| json!({"retention_days": 1095}))),
        row(
            "POST",
            "/api/v1/customers/{id}/erase",
            USERS,
            Some(|_, _| json!({"reason": "matrix"})),
        ),
        // Last: it ends the sessions the other rows use.
        row("POST", "/api/v1/auth/logout", ALL_STAFF, None),
    ]
}

/// An inactive proactive rule.
fn proactive_rule_body(i: usize) -> Value {
    json!({
        "name": format!("会员到期提醒 {i}"),
        "active": false,
        "tier": "vip",
        "moment": {"kind": "days_before", "attribute": "membership_expires", "days": 7},
        "text": "{{name}}，会员将于 {{date}} 到期"
    })
}

/// A harmless rule: tag VIP customers' new tickets.
fn trigger_body(i: usize) -> Value {
    json!({
        "name": format!("规则 {i}"),
        "active": false,
        "when": {"events": ["ticket.created"]},
        "if": {"field": "customer.tier", "op": "eq", "value": "vip"},
        "then": [{"type": "add_tag", "value": "vip"}]
    })
}

/// The path with its placeholders filled in; `principal` picks the object a DELETE removes.
fn concrete(method: &str, path: &str, f: &Fx, principal: usize) -> String {
    if path.starts_with("/api/v1/auth/oidc/") {
        return path.replace("{workspace}", "acme");
    }
    if method == "DELETE" && path == "/api/v1/nlu/intents/{id}" {
        return path.replace("{id}", &f.spare_intents[principal]);
    }
    if method == "DELETE" && path == "/api/v1/webhooks/{id}" {
        return path.replace("{id}", &f.ch.spare_webhooks[principal]);
    }
    if method == "DELETE" && path == "/api/v1/proactive/rules/{id}" {
        return path.replace("{id}", &f.ch.spare_rules[principal]);
    }
    if path.starts_with("/api/v1/proactive/rules/") {
        return path.replace("{id}", &f.ch.rule);
    }
    if path.starts_with("/api/v1/channels/") {
        return path.replace("{id}", &f.ch.channel);
    }
    if path.starts_with("/api/v1/webhooks/") {
        return path.replace("{id}", &f.ch.webhook).replace("{delivery_id}", &f.ch.delivery);
    }
    if method == "DELETE" && path == "/api/v1/triggers/{id}" {
        return path.replace("{id}", &f.spare_triggers[principal]);
    }
    if path.starts_with("/api/v1/public/surveys/") {
        let token = if method == "POST" { &f.fb.spare_surveys[principal] } else { &f.fb.survey };
        return path.replace("{token}", token);
    }
    if path.starts_with("/api/v1/feedback/{id}") {
        return path.replace("{id}", &f.fb.feedback).replace("{attachment}", &f.fb.attachment);
    }
    let kb = &f.kb;
    if path.starts_with("/api/v1/kb/candidates/") {
        return path.replace("{id}", &kb.candidate);
    }
    if path == "/api/v1/tickets/{id}/merge" {
        return path.replace("{id}", &kb.spare_ticket);
    }
    if path.contains("{other_id}") {
        return path.replace("{id}", &f.ticket).replace("{other_id}", &kb.spare_links[principal]);
    }
    if path.contains("{message_id}") {
        return path.replace("{id}", &f.visitor_conversation).replace("{message_id}", &kb.message);
    }
    match (method, path) {
        ("DELETE", "/api/v1/kb/faqs/{id}") => {
            return path.replace("{id}", &kb.spare_faqs[principal]);
        }
        ("DELETE", "/api/v1/kb/articles/{id}") => {
            return path.replace("{id}", &kb.spare_articles[principal]);
        }
        ("DELETE", "/api/v1/kb/templates/{id}") => {
            return path.replace("{id}", &kb.spare_templates[principal]);
        }
        _ => {}
    }
    if path.starts_with("/api/v1/files/email/") {
        return path.replace("{id}", &f.email_file);
    }
    if path.starts_with("/api/v1/files/chat/") {
        return path.replace("{id}", &f.chat_file);
    }
    if path.ends_with("/uploads") {
        return format!("{path}?conversation_id={}&name=m.png", f.visitor_conversation);
    }
    let id = if path.starts_with("/api/v1/alerts/") {
        &f.alert
    } else if path.starts_with("/api/v1/reports/schedules/") {
        &f.schedule
    } else if path.starts_with("/api/v1/reports/") {
        &f.report
    } else if path.starts_with("/api/v1/triggers/") {
        &f.trigger
    } else if path.starts_with("/api/v1/kb/faqs/") {
        &kb.faq
    } else if path.starts_with("/api/v1/kb/articles/") {
        &kb.article
    } else if path.starts_with("/api/v1/kb/templates/") {
        &kb.template
    } else if path.starts_with("/api/v1/nlu/intents/") {
        &f.intent
    } else if path.starts_with("/api/v1/nlu/models/") {
        &f.model
    } else if path.starts_with("/api/v1/users/") {
        &f.user
    } else if path.starts_with("/api/v1/teams/") {
        &f.team
    } else if path.starts_with("/api/v1/tokens/") {
        &f.token
    } else if path.starts_with("/api/v1/customers/") {
        &f.customer
    } else if path.starts_with("/api/v1/conversations/") {
        &f.conversation
    } else if path.ends_with("/approve") {
        &f.comp_approve
    } else if path.ends_with("/reject") {
        &f.comp_reject
    } else if path.ends_with("/report") {
        &f.comp_granted
    } else if path.starts_with("/api/v1/collaborations/") {
        &f.collab
    } else if path.starts_with("/api/v1/tickets/") {
        &f.ticket
    } else {
        &f.visitor_conversation
    };
    path.replace("{id}", id)
        .replace("{example_id}", &f.spare_examples[principal])
        .replace("{code}", "PQ-09")
        .replace("{token}", &f.tracking)
        .replace("{key}", "planning")
}

/// Two trained intents (the model is ready and active), a spare intent and a spare example per
/// principal; the other workspace gets two intents of its own, so its admin can train there.
async fn nlu_fixture(t: &TestApp) -> (String, Vec<String>, Vec<String>, String) {
    let admin = t.as_role("admin@acme.test").await;
    let refund = admin
        .post("/api/v1/nlu/intents", json!({"name": "refund", "examples": ["我要退款", "退钱"]}))
        .await;
    assert_eq!(refund.status, 201, "{:?}", refund.body);
    let track = admin
        .post("/api/v1/nlu/intents", json!({"name": "track", "examples": ["快递到哪了", "物流"]}))
        .await;
    assert_eq!(track.status, 201, "{:?}", track.body);
    let intent = s(&refund.body["id"]);
    let (mut spare_intents, mut spare_examples) = (Vec::new(), Vec::new());
    for i in 0..EVERYONE.len() {
        let r = admin.post("/api/v1/nlu/intents", json!({"name": format!("spare.{i}")})).await;
        spare_intents.push(s(&r.body["id"]));
        let e = admin
            .post(
                &format!("/api/v1/nlu/intents/{intent}/examples"),
                json!({"examples": [format!("备用例句 {i}")]}),
            )
            .await;
        spare_examples.push(s(&e.body[0]["id"]));
    }
    let m = admin.post("/api/v1/nlu/models", json!({})).await;
    assert_eq!(m.status, 202, "{:?}", m.body);
    t.run_pending_jobs().await;
    let other = t.login("other", "admin@other.test").await;
    for name in ["other.a", "other.b"] {
        other.post("/api/v1/nlu/intents", json!({"name": name, "examples": ["别的例句"]})).await;
    }
    (intent, spare_intents, spare_examples, s(&m.body["id"]))
}

/// Receives one email with an attachment; its file id.
async fn email_attachment(t: &TestApp, admin: &Client) -> String {
    let r = admin
        .put("/api/v1/channels/email", json!({"enabled": true, "address": "support@acme.test"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let raw = "From: m@example.org\r\nMessage-ID: <authz@example.org>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nfile\r\n--b--\r\n";
    let got = t.app.receive_email(t.ws.id, raw.as_bytes()).await.unwrap();
    let app::channels::email::Received::Stored { conversation, .. } = got else {
        panic!("{got:?}")
    };
    let msgs = admin.get(&format!("/api/v1/conversations/{conversation}/messages")).await;
    let url = s(&crate::items(&msgs.body)[0]["attachments"][0]["url"]);
    url.rsplit('/').next().unwrap().to_string()
}

async fn fixture(t: &TestApp, owner: &Client, owner_conv: &str) -> Fx {
    let agent = t.as_role("agent@acme.test").await;
    let admin = t.as_role("admin@acme.test").await;
    let c =
        agent.post("/api/v1/customers", json!({"name": "矩阵客户", "phone": "13912345678"})).await;
    let customer = s(&c.body["id"]);
    let tk = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": "矩阵工单", "customer_id": customer, "description": "原始问题"}),
        )
        .await;
    let team = admin.post("/api/v1/teams", json!({"name": "售后服务", "skills": ["PQ"]})).await;
    let token = admin.post("/api/v1/tokens", json!({"name": "ERP", "role": "agent"})).await;
    let mut spares = Vec::new();
    for i in 0..EVERYONE.len() {
        spares.push(s(&agent
            .post("/api/v1/customers", json!({"name": format!("重复客户 {i}")}))
            .await
            .body["id"]));
    }
    let _ = owner;
    let trigger = admin.post("/api/v1/triggers", trigger_body(100)).await;
    assert_eq!(trigger.status, 201, "{:?}", trigger.body);
    let mut spare_triggers = Vec::new();
    for i in 0..EVERYONE.len() {
        spare_triggers
            .push(s(&admin.post("/api/v1/triggers", trigger_body(200 + i)).await.body["id"]));
    }
    let (intent, spare_intents, spare_examples, model) = nlu_fixture(t).await;
    let ticket = s(&tk.body["id"]);
    let mut comps = Vec::new();
    for yuan in [3_000, 3_000, 500] {
        let r = agent
            .post(
                &format!("/api/v1/tickets/{ticket}/compensations"),
                json!({"type": "refund", "amount_fen": yuan * 100, "basis": "主板故障，按质保补偿"}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        comps.push(s(&r.body["compensation"]["id"]));
    }
    let collab = agent
        .post(
            &format!("/api/v1/tickets/{ticket}/collaborations"),
            json!({"department": "tech", "question": "请在 24 小时内诊断", "due_in_hours": 24}),
        )
        .await;
    assert_eq!(collab.status, 201, "{:?}", collab.body);
    let kb = kb_fixture(t, owner_conv, &s(&tk.body["id"])).await;
    let ch = ch_fixture(t).await;
    let email_file = email_attachment(t, &admin).await;
    let up = crate::uploads::raw_post(
        owner,
        &format!("/api/v1/public/uploads?conversation_id={owner_conv}&name=m.png"),
        "image/png",
        crate::uploads::PNG.to_vec(),
    )
    .await;
    assert_eq!(up.status, 201, "{:?}", up.body);
    let chat_file = s(&up.body["url"]).trim_start_matches("/files/chat/").to_string();
    for i in 0..5 {
        let r = agent
            .post("/api/v1/tickets", json!({"subject": format!("缺配件 {i}"), "customer_id": customer, "problem_code": "PQ-05"}))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let alerts = admin.post("/api/v1/alerts/evaluate", json!({})).await;
    assert_eq!(alerts.status, 200, "{:?}", alerts.body);
    let alert = s(&alerts.body[0]["id"]);
    let sc =
        admin.post("/api/v1/reports/schedules", json!({"name": "周报", "period": "weekly"})).await;
    assert_eq!(sc.status, 201, "{:?}", sc.body);
    let schedule = s(&sc.body["id"]);
    let rep = admin.post(&format!("/api/v1/reports/schedules/{schedule}/run"), json!({})).await;
    assert_eq!(rep.status, 201, "{:?}", rep.body);
    Fx {
        ch,
        email_file,
        chat_file,
        alert,
        schedule,
        report: s(&rep.body["id"]),
        customer,
        ticket,
        conversation: s(&tk.body["conversation_id"]),
        ticket_message: s(&agent
            .get(&format!("/api/v1/conversations/{}/messages", s(&tk.body["conversation_id"])))
            .await
            .body[0]["id"]),
        user: t.user("agent2@acme.test").id.to_string(),
        team: s(&team.body["id"]),
        token: s(&token.body["token"]["id"]),
        visitor_conversation: owner_conv.to_string(),
        tracking: s(&tk.body["tracking_path"]).rsplit('/').next().unwrap().to_string(),
        spares,
        public_key: t.ws.public_key.clone(),
        intent,
        spare_intents,
        spare_examples,
        model,
        comp_approve: comps[0].clone(),
        comp_reject: comps[1].clone(),
        comp_granted: comps[2].clone(),
        collab: s(&collab.body["id"]),
        trigger: s(&trigger.body["id"]),
        spare_triggers,
        kb,
        fb: fb_fixture(t, &customer_of_owner(t, owner_conv).await).await,
    }
}

async fn customer_of_owner(t: &TestApp, conv: &str) -> String {
    let agent = t.as_role("agent@acme.test").await;
    s(&agent.get(&format!("/api/v1/conversations/{conv}")).await.body["customer_id"])
}

/// Solves one ticket per survey link needed and sends the surveys.
async fn fb_fixture(t: &TestApp, customer: &str) -> FbFx {
    let agent = t.as_role("agent@acme.test").await;
    // A feedback item with one image, sent as multipart (the matrix client sends JSON only).
    let boundary = "matrix-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\n矩阵反馈\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"p.png\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(b"\x89PNG\r\n\x1a\n\0\0\0\0");
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = agent
        .http
        .post(format!("{}/api/v1/feedback", agent.base))
        .header("cookie", agent.cookie.clone().unwrap())
        .header("x-csrf-token", agent.csrf.clone().unwrap())
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let f: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let _ = customer;
    let mut tickets = Vec::new();
    for i in 0..=EVERYONE.len() {
        let tk = agent
            .post(
                "/api/v1/tickets",
                json!({"subject": format!("调查 {i}"), "customer_id": customer}),
            )
            .await;
        let id = s(&tk.body["id"]);
        let r =
            agent.post(&format!("/api/v1/tickets/{id}/status"), json!({"status": "solved"})).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        tickets.push(id);
    }
    t.advance(std::time::Duration::from_secs(600));
    t.run_pending_jobs().await;
    let mut links = Vec::new();
    for id in &tickets {
        let m = agent.get(&format!("/api/v1/tickets/{id}/messages")).await;
        let link = crate::items(&m.body)
            .iter()
            .find_map(|m| {
                let b = s(&m["body"]);
                b.find("/survey/")
                    .map(|i| b[i + 8..].split_whitespace().next().unwrap().to_string())
            })
            .expect("survey link");
        links.push(link);
    }
    let survey = links.remove(0);
    // An attachment, stored through the app (the matrix client sends JSON only).
    FbFx {
        feedback: s(&f["id"]),
        attachment: s(&f["attachments"][0]["id"]),
        survey,
        spare_surveys: links,
    }
}

async fn ch_fixture(t: &TestApp) -> ChFx {
    let admin = t.as_role("admin@acme.test").await;
    let c = admin
        .post(
            "/api/v1/channels",
            json!({"kind": "phone", "name": "呼叫中心", "settings": {"secret": "0123456789"}}),
        )
        .await;
    assert_eq!(c.status, 201, "{:?}", c.body);
    let hook = json!({"url": "https://hooks.example.com/h", "events": ["never.fired"]});
    let w = admin.post("/api/v1/webhooks", hook.clone()).await;
    assert_eq!(w.status, 201, "{:?}", w.body);
    let mut spare_webhooks = Vec::new();
    for _ in 0..EVERYONE.len() {
        spare_webhooks.push(s(&admin.post("/api/v1/webhooks", hook.clone()).await.body["id"]));
    }
    let r = admin.post("/api/v1/proactive/rules", proactive_rule_body(0)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let mut spare_rules = Vec::new();
    for i in 0..EVERYONE.len() {
        let r = admin.post("/api/v1/proactive/rules", proactive_rule_body(100 + i)).await;
        spare_rules.push(s(&r.body["id"]));
    }
    let webhook = s(&w.body["id"]);
    let now = t.app.now();
    let delivery = domain::DeliveryId::new(now, 1);
    let mut conn = t.app.db().bookkeeping().await.unwrap();
    app::db::channels::insert_delivery(
        &mut conn,
        &app::db::channels::DeliveryRow {
            id: delivery,
            workspace: t.ws.id,
            subscription: domain::WebhookId::parse(&webhook).unwrap(),
            event_seq: 1,
            event_kind: "never.fired".into(),
            payload: "{}".into(),
            state: "failed".into(),
            attempts: 10,
            response_status: Some(500),
            last_error: Some("HTTP 500".into()),
            created_at: now,
            updated_at: now,
        },
    )
    .await
    .unwrap();
    drop(conn);
    ChFx {
        channel: s(&c.body["id"]),
        webhook,
        delivery: delivery.to_string(),
        spare_webhooks,
        rule: s(&r.body["id"]),
        spare_rules,
    }
}

async fn kb_fixture(t: &TestApp, owner_conv: &str, ticket: &str) -> KbFx {
    let admin = t.as_role("admin@acme.test").await;
    let ids = |r: test_support::Resp| {
        assert_eq!(r.status, 201, "{:?}", r.body);
        s(&r.body["id"])
    };
    let faq = ids(admin
        .post("/api/v1/kb/faqs", json!({"question": "怎么退货", "answer": "申请售后"}))
        .await);
    let article =
        ids(admin.post("/api/v1/kb/articles", json!({"title": "退货须知", "body": "七天"})).await);
    let template =
        ids(admin.post("/api/v1/kb/templates", json!({"name": "问候", "body": "您好"})).await);
    let (mut spare_faqs, mut spare_articles, mut spare_templates) = (vec![], vec![], vec![]);
    for i in 0..EVERYONE.len() {
        let q = json!({"question": format!("备用问题 {i}"), "answer": "答"});
        spare_faqs.push(ids(admin.post("/api/v1/kb/faqs", q).await));
        let a = json!({"title": format!("备用文章 {i}"), "body": "文"});
        spare_articles.push(ids(admin.post("/api/v1/kb/articles", a).await));
        let tp = json!({"name": format!("备用话术 {i}"), "body": "您好"});
        spare_templates.push(ids(admin.post("/api/v1/kb/templates", tp).await));
    }
    let customer = admin.post("/api/v1/customers", json!({"name": "链接客户"})).await;
    let spare = admin
        .post(
            "/api/v1/tickets",
            json!({"subject": "重复工单", "customer_id": s(&customer.body["id"])}),
        )
        .await;
    assert_eq!(spare.status, 201, "{:?}", spare.body);
    let spare_ticket = s(&spare.body["id"]);
    let mut spare_links = Vec::new();
    for i in 0..EVERYONE.len() {
        let body =
            json!({"subject": format!("相关工单 {i}"), "customer_id": s(&customer.body["id"])});
        let r = admin.post("/api/v1/tickets", body).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let id = s(&r.body["id"]);
        let l =
            admin.post(&format!("/api/v1/tickets/{ticket}/links"), json!({"ticket_id": id})).await;
        assert_eq!(l.status, 200, "{:?}", l.body);
        spare_links.push(id);
    }
    // Two customers ask what the bot cannot answer: one FAQ candidate.
    t.visitor("学习一", "发票抬头怎么修改").await;
    t.visitor("学习二", "怎么修改发票抬头").await;
    let r = admin.post("/api/v1/kb/candidates/refresh", json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let candidate = r.body.as_array().unwrap().iter().find(|c| s(&c["question"]).contains("发票"));
    let candidate = s(&candidate.expect("an invoice candidate")["id"]);
    let msgs = admin.get(&format!("/api/v1/conversations/{owner_conv}/messages")).await;
    let message = msgs
        .body
        .get("items")
        .unwrap_or(&msgs.body)
        .as_array()
        .unwrap()
        .iter()
        .find(|m| s(&m["sender"]) == "customer")
        .map(|m| s(&m["id"]))
        .expect("the visitor's message");
    KbFx {
        faq,
        article,
        template,
        spare_faqs,
        spare_articles,
        spare_templates,
        candidate,
        message,
        spare_ticket,
        spare_links,
    }
}

async fn matrix(t: TestApp) {
    // Every documented route has a row, and every row a route.
    let doc: Value = serde_json::to_value(http_api::openapi()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let table: BTreeSet<String> = rows()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path.split('?').next().unwrap_or(r.path)))
        .collect();
    assert_eq!(
        documented, table,
        "every endpoint needs a row in the authorization matrix (and no stale rows)"
    );

    let (owner, owner_conv) = t.visitor("矩阵访客", "我的问题").await;
    let (other_visitor, _) = t.visitor("另一位访客", "别人的问题").await;
    let f = fixture(&t, &owner, &owner_conv).await;
    let mut principals: Vec<(&str, Client)> = Vec::new();
    for (name, email) in [
        (ADMIN, "admin@acme.test"),
        (HEAD, "head@acme.test"),
        (SUPER, "super@acme.test"),
        (AGENT, "agent@acme.test"),
        (DEPT, "tech@acme.test"),
        (AUDITOR, "audit@acme.test"),
    ] {
        principals.push((name, t.as_role(email).await));
    }
    principals.push((OUTSIDER, t.login("other", "admin@other.test").await));
    principals.push((OWNER, owner));
    principals.push((VISITOR, other_visitor));
    principals.push((NOBODY, t.anon()));
    let secrets =
        [&f.customer, &f.ticket, &f.conversation, &f.visitor_conversation, &f.team, &f.tracking];

    let mut failures = Vec::new();
    for r in rows() {
        let is_ws = r.path.ends_with("/ws");
        for (i, (name, client)) in principals.iter().enumerate() {
            let path = concrete(r.method, r.path, &f, i);
            let body = r.body.map(|b| b(&f, i));
            let resp = if r.path.ends_with("/uploads") {
                crate::uploads::raw_post(client, &path, "image/png", crate::uploads::PNG.to_vec())
                    .await
            } else {
                client.send(r.method, &path, body, &[]).await
            };
            let st = resp.status;
            let allowed = r.allowed.contains(name);
            let ok = if allowed {
                // Past authorization: success, a conflict from repeating a write, or (for the
                // WebSocket routes called without an upgrade) the handshake's complaint.
                (200..300).contains(&st)
                    || st == 409
                    || (is_ws && (st == 400 || st == 426))
                    || (r.path.ends_with("/2fa/totp/confirm")
                        && st == 400
                        && resp.body["field"] == "code")
            } else if [401, 403, 404].contains(&st) {
                true
            } else {
                // Outsiders and other visitors may use their own collections, as long as
                // nothing of this workspace's shows.
                // `{code}` names an entry of the caller's own code table, not an object of ours.
                let foreign =
                    [OUTSIDER, VISITOR, NOBODY].contains(name) && !r.path.contains("{id}");
                let text = resp.body.to_string();
                foreign
                    && (200..300).contains(&st)
                    && !secrets.iter().any(|s| text.contains(s.as_str()))
                    || (foreign && is_ws && (st == 400 || st == 426))
            };
            if !ok {
                failures.push(format!("{} {} as {name}: {} {}", r.method, r.path, st, resp.body));
            }
        }
    }
    assert!(failures.is_empty(), "authorization matrix violations:\n{}", failures.join("\n"));
}
on_backends!(authorization_matrix_covers_every_endpoint, matrix);
