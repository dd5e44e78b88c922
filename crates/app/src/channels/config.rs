//! Configured channels: an admin adds a WeChat official account, a signed-webhook platform,
//! an SMS provider or a call center, with the kind's settings (checked by
//! `channels::config::Settings::parse`). Each channel has a public endpoint by its id.

use ::channels::config::Settings;
use domain::{ChannelId, customer::parse_name};

use crate::{App, Error, Result, auth::Admin, error::OrNotFound};

/// A configured channel with its parsed settings.
#[derive(Debug, Clone)]
pub struct ChannelView {
    pub row: db::channels::ChannelRow,
    pub settings: Settings,
}

/// The outbox consumer that relays events to channels and event webhooks.
pub(crate) const CONSUMER: &str = "channels";

pub(crate) fn view(row: db::channels::ChannelRow) -> Result<ChannelView> {
    let settings = Settings::parse(&row.kind, &row.settings)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored channel settings: {e}")))?;
    Ok(ChannelView { row, settings })
}

fn parse_settings(kind: &str, json: &str) -> Result<Settings> {
    Settings::parse(kind, json).map_err(|e| {
        let field: &'static str = if e.field == "kind" { "kind" } else { "settings" };
        domain::ParseError::new(field, e.to_string()).into()
    })
}

impl App {
    pub async fn create_channel(
        &self,
        a: &Admin,
        kind: &str,
        name: &str,
        settings_json: &str,
    ) -> Result<ChannelView> {
        let name = parse_name("name", name)?;
        let settings = parse_settings(kind, settings_json)?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let row = db::channels::ChannelRow {
            id: self.ids.next(now, ChannelId::new),
            workspace: a.workspace,
            kind: settings.kind().to_string(),
            name,
            settings: settings.to_json(),
            active: true,
            created_at: now,
            updated_at: now,
        };
        db::channels::insert_channel(&mut tx, &row).await?;
        db::channels::init_cursor(&mut tx, a.workspace, CONSUMER).await?;
        let id = row.id.to_string();
        let after = domain::Snapshot::default()
            .with("kind", row.kind.as_str())
            .with("name", row.name.as_str());
        tx.audit(now, a.actor, "channel.create", "channel", &id, None, Some(&after)).await?;
        self.commit(tx).await?;
        Ok(ChannelView { row, settings })
    }

    pub async fn list_channels(&self, a: &Admin) -> Result<Vec<ChannelView>> {
        let mut c = self.db.read().await?;
        db::channels::list_channels(&mut c, a.workspace).await?.into_iter().map(view).collect()
    }

    pub async fn get_channel(&self, a: &Admin, id: ChannelId) -> Result<ChannelView> {
        let mut c = self.db.read().await?;
        view(db::channels::get_channel(&mut c, a.workspace, id).await?.or_not_found("channel")?)
    }

    /// Changes a channel's name, settings (a whole new document, whose missing, empty or
    /// `***` secrets keep the stored ones) or active flag.
    pub async fn update_channel(
        &self,
        a: &Admin,
        id: ChannelId,
        name: Option<&str>,
        settings_json: Option<&str>,
        active: Option<bool>,
    ) -> Result<ChannelView> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let mut row =
            db::channels::get_channel(&mut tx, a.workspace, id).await?.or_not_found("channel")?;
        if let Some(n) = name {
            row.name = parse_name("name", n)?;
        }
        if let Some(s) = settings_json {
            // Secrets are write-only: one left out (or sent back as `***`) stays as stored.
            let merged = Settings::keep_secrets(s, &row.settings);
            row.settings = parse_settings(&row.kind, &merged)?.to_json();
        }
        if let Some(on) = active {
            row.active = on;
        }
        row.updated_at = now;
        db::channels::update_channel(&mut tx, &row).await?;
        let snap = domain::Snapshot::default()
            .with("name", row.name.as_str())
            .with("active", if row.active { "true" } else { "false" });
        tx.audit(now, a.actor, "channel.update", "channel", &id.to_string(), None, Some(&snap))
            .await?;
        self.commit(tx).await?;
        view(row)
    }

    /// An active channel by id, for its public endpoint (the workspace comes from the row).
    pub(crate) async fn active_channel(&self, id: ChannelId, kind: &str) -> Result<ChannelView> {
        let mut c = self.db.read().await?;
        let row = db::channels::channel_by_id(&mut c, id).await?.or_not_found("channel")?;
        if !row.active || row.kind != kind {
            return Err(Error::NotFound("channel"));
        }
        view(row)
    }
}
