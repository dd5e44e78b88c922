//! Customer-visible stages (TK-8): stage names as workspace data (editable), the timeline of
//! stages each ticket entered (for the tracking page), and the notice the customer gets in
//! their conversation on every stage change, from the workspace's zh / en templates by the
//! customer's language. All inside the transaction of the ticket change.

use domain::{Snapshot, Stage, Ticket, Timestamp, Visibility};

use crate::{
    App, Result,
    auth::{Manager, Staff},
    error::OrNotFound,
};

pub use db::stages::NoticeTemplates;

/// The built-in templates, used until a manager sets the workspace's own.
pub fn default_templates() -> NoticeTemplates {
    NoticeTemplates {
        enabled: true,
        zh: "【工单进度】您的工单 {ticket_no} 已进入新阶段：{stage}。查看进度：{tracking_path}".into(),
        en: "[Case update] Your ticket {ticket_no} has moved to a new stage: {stage}. Track it at {tracking_path}".into(),
    }
}

const VARIABLES: [&str; 3] = ["ticket_no", "stage", "tracking_path"];

/// A template: 1 to 1,000 characters whose `{…}` are known variables.
pub fn check_template(field: &'static str, s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 1000 {
        return Err(domain::ParseError::new(field, "must be 1 to 1000 characters").into());
    }
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| domain::ParseError::new(field, "a { without its closing }"))?;
        let name = &after[..close];
        if !VARIABLES.contains(&name) {
            return Err(domain::ParseError::new(
                field,
                format!(
                    "unknown variable {{{name}}}; use {{ticket_no}}, {{stage}} or {{tracking_path}}"
                ),
            )
            .into());
        }
        rest = &after[close + 1..];
    }
    Ok(t.to_string())
}

/// `{tracking_path}` becomes the tracking page's full address, so the link works in an email or
/// a text message as well as in the chat.
fn render(template: &str, t: &Ticket, stage: &str, public_url: &str) -> String {
    template
        .replace("{ticket_no}", &t.number.to_string())
        .replace("{stage}", stage)
        .replace("{tracking_path}", &format!("{public_url}/track/{}", t.tracking_token))
}

/// A stage key: 1 to 40 lowercase letters, digits or `_`.
fn check_key(k: &str) -> Result<String> {
    let k = k.trim();
    let ok = (1..=40).contains(&k.len())
        && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(k.to_string())
    } else {
        Err(domain::ParseError::new("key", "1 to 40 lowercase letters, digits or _").into())
    }
}

/// Whether the customer reads English: a `language` (or `lang`) attribute starting with `en`.
fn speaks_english(attributes: &[(String, String)]) -> bool {
    attributes.iter().any(|(k, v)| {
        (k == "language" || k == "lang") && v.trim().to_ascii_lowercase().starts_with("en")
    })
}

impl App {
    /// Records that `after` entered its stage; on a change (not a new ticket) tells the
    /// customer in the ticket's conversation, unless the workspace turned notices off.
    pub(crate) async fn stage_changed(
        &self,
        tx: &mut db::WriteTx,
        after: &Ticket,
        notify: bool,
        now: Timestamp,
    ) -> Result<()> {
        let ws = after.workspace;
        let key = after.stage_key();
        db::stages::log(tx, ws, after.id, key, now).await?;
        if !notify {
            return Ok(());
        }
        let tpl = db::stages::templates(tx, ws).await?.unwrap_or_else(default_templates);
        if !tpl.enabled {
            return Ok(());
        }
        let stages = db::workspaces::stages(tx, ws).await?;
        let stage = stages.iter().find(|s| s.key == key);
        let customer =
            db::customers::get(tx, ws, after.customer).await?.or_not_found("customer")?;
        let body = if speaks_english(&customer.attributes) {
            render(
                &tpl.en,
                after,
                stage.map_or(key, |s| s.label_en.as_str()),
                &self.settings.public_url,
            )
        } else {
            render(
                &tpl.zh,
                after,
                stage.map_or(key, |s| s.label_zh.as_str()),
                &self.settings.public_url,
            )
        };
        self.system_message(tx, after, Visibility::Public, body, now).await?;
        Ok(())
    }

    pub async fn stage_notice_templates(&self, s: &Staff) -> Result<NoticeTemplates> {
        let mut c = self.db.read().await?;
        Ok(db::stages::templates(&mut c, s.workspace).await?.unwrap_or_else(default_templates))
    }

    pub async fn set_stage_notice_templates(
        &self,
        m: &Manager,
        t: NoticeTemplates,
    ) -> Result<NoticeTemplates> {
        let t = NoticeTemplates {
            enabled: t.enabled,
            zh: check_template("template_zh", &t.zh)?,
            en: check_template("template_en", &t.en)?,
        };
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        db::stages::put_templates(&mut tx, m.workspace, &t, now).await?;
        let snap = Snapshot::default()
            .with("enabled", domain::AuditValue::Int(i64::from(t.enabled)))
            .with("template_zh", t.zh.as_str())
            .with("template_en", t.en.as_str());
        tx.audit(
            now,
            m.actor,
            "stage_notice.put",
            "workspace",
            &m.workspace.to_string(),
            None,
            Some(&snap),
        )
        .await?;
        self.commit(tx).await?;
        Ok(t)
    }

    /// Creates or renames a customer-visible stage (its labels and place in the line).
    pub async fn put_stage(&self, m: &Manager, s: Stage) -> Result<Stage> {
        let s = Stage {
            key: check_key(&s.key)?,
            label_zh: domain::customer::parse_name("label_zh", &s.label_zh)?,
            label_en: domain::customer::parse_name("label_en", &s.label_en)?,
            position: s.position,
        };
        if !(1..=1000).contains(&s.position) {
            return Err(domain::ParseError::new("position", "must be between 1 and 1000").into());
        }
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let before = db::workspaces::stages(&mut tx, m.workspace).await?;
        let old = before.iter().find(|x| x.key == s.key);
        if old == Some(&s) {
            return Ok(s);
        }
        db::workspaces::stage_put(&mut tx, m.workspace, &s).await?;
        let snap = |x: &Stage| {
            Snapshot::default()
                .with("label_zh", x.label_zh.as_str())
                .with("label_en", x.label_en.as_str())
                .with("position", domain::AuditValue::Int(x.position))
        };
        let b = old.map(snap);
        tx.audit(now, m.actor, "stage.put", "stage", &s.key, b.as_ref(), Some(&snap(&s))).await?;
        self.commit(tx).await?;
        Ok(s)
    }

    /// The stage timeline of a ticket, oldest first.
    pub(crate) async fn stage_timeline(
        &self,
        c: &mut db::Conn,
        t: &Ticket,
    ) -> Result<Vec<(String, Timestamp)>> {
        Ok(db::stages::timeline(c, t.workspace, t.id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_accept_only_known_variables() {
        assert!(check_template("t", "工单 {ticket_no} 进入 {stage}").is_ok());
        assert!(check_template("t", "{customer_name} 您好").is_err());
        assert!(check_template("t", "缺少 {stage").is_err());
        assert!(check_template("t", "  ").is_err());
        let d = default_templates();
        assert!(check_template("zh", &d.zh).is_ok() && check_template("en", &d.en).is_ok());
    }

    #[test]
    fn language_comes_from_the_customer_attributes() {
        assert!(speaks_english(&[("language".into(), "en-US".into())]));
        assert!(!speaks_english(&[("language".into(), "zh-CN".into())]));
        assert!(!speaks_english(&[]));
    }
}
