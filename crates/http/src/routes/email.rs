//! The email channel's settings (admins; passwords are write-only) and inbound attachments.

use app::auth::{Admin, Staff};
use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
};
use channels::email::settings::{EmailSettings, ImapSettings, SmtpSettings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    error::ApiResult,
    extract::{Cap, Json},
    routes::Errors,
};

use axum::Json as J;

/// The workspace's email channel as written. A missing password keeps the stored one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailSettingsIn {
    pub enabled: bool,
    /// The support address customers write to; replies come from it.
    pub address: String,
    pub display_name: Option<String>,
    pub imap: Option<ImapIn>,
    pub smtp: Option<SmtpIn>,
    /// Messages accepted per sender per hour (loop guard); default 30.
    pub rate_per_hour: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapIn {
    pub host: String,
    pub port: u16,
    /// `none` or `tls`.
    pub security: String,
    pub username: String,
    /// Write-only.
    pub password: Option<String>,
    /// Default `INBOX`.
    pub mailbox: Option<String>,
    /// Wait in IDLE for new mail (default true); else poll every `poll_seconds` (default 60).
    pub idle: Option<bool>,
    pub poll_seconds: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpIn {
    pub host: String,
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub security: String,
    pub username: Option<String>,
    /// Write-only.
    pub password: Option<String>,
}

/// The workspace's email channel as read back: passwords never leave, only whether one is set.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailSettingsOut {
    pub configured: bool,
    pub enabled: bool,
    pub address: Option<String>,
    pub display_name: Option<String>,
    pub imap: Option<ImapOut>,
    pub smtp: Option<SmtpOut>,
    pub rate_per_hour: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImapOut {
    pub host: String,
    pub port: u16,
    pub security: String,
    pub username: String,
    pub password_set: bool,
    pub mailbox: String,
    pub idle: bool,
    pub poll_seconds: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SmtpOut {
    pub host: String,
    pub port: u16,
    pub security: String,
    pub username: Option<String>,
    pub password_set: bool,
}

fn out(s: Option<EmailSettings>) -> EmailSettingsOut {
    match s {
        None => EmailSettingsOut {
            configured: false,
            enabled: false,
            address: None,
            display_name: None,
            imap: None,
            smtp: None,
            rate_per_hour: 30,
        },
        Some(s) => EmailSettingsOut {
            configured: true,
            enabled: s.enabled,
            address: Some(s.address),
            display_name: s.display_name,
            imap: s.imap.map(|i| ImapOut {
                host: i.host,
                port: i.port,
                security: i.security,
                username: i.username,
                password_set: i.password.is_some(),
                mailbox: i.mailbox,
                idle: i.idle,
                poll_seconds: i.poll_seconds,
            }),
            smtp: s.smtp.map(|m| SmtpOut {
                host: m.host,
                port: m.port,
                security: m.security,
                username: m.username,
                password_set: m.password.is_some(),
            }),
            rate_per_hour: s.rate_per_hour,
        },
    }
}

/// The workspace's email channel settings (admins).
#[utoipa::path(get, path = "/api/v1/channels/email", tag = "channels", responses((status = 200, body = EmailSettingsOut), Errors))]
pub async fn get_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
) -> ApiResult<J<EmailSettingsOut>> {
    Ok(J(out(s.app.email_settings(&who).await?)))
}

/// Replaces the email channel settings (admins). Checked field by field (422 names it).
#[utoipa::path(put, path = "/api/v1/channels/email", tag = "channels", request_body = EmailSettingsIn, responses((status = 200, body = EmailSettingsOut), Errors))]
pub async fn put_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Json(b): Json<EmailSettingsIn>,
) -> ApiResult<J<EmailSettingsOut>> {
    let settings = EmailSettings {
        enabled: b.enabled,
        address: b.address,
        display_name: b.display_name,
        imap: b.imap.map(|i| ImapSettings {
            host: i.host,
            port: i.port,
            security: i.security,
            username: i.username,
            password: i.password,
            mailbox: i.mailbox.unwrap_or_else(|| "INBOX".into()),
            idle: i.idle.unwrap_or(true),
            poll_seconds: i.poll_seconds.unwrap_or(60),
        }),
        smtp: b.smtp.map(|m| SmtpSettings {
            host: m.host,
            port: m.port,
            security: m.security,
            username: m.username,
            password: m.password,
        }),
        rate_per_hour: b.rate_per_hour.unwrap_or(30),
    };
    Ok(J(out(Some(s.app.set_email_settings(&who, settings).await?))))
}

/// An attachment of an inbound email (staff of the workspace), as `/files/email/{id}` in a
/// message's attachments.
#[utoipa::path(get, path = "/api/v1/files/email/{id}", tag = "channels", params(("id" = String, Path)), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), Errors))]
pub async fn file(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (name, ct, bytes) = s.app.email_file(&who, &id).await?;
    let safe: String =
        name.chars().filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\').collect();
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe}\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}
