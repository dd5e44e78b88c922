//! Sends a built message through an SMTP server (lettre, rustls with ring).

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
    transport::smtp::authentication::Credentials,
};

use super::{MailError, Security};

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Sends `raw` to the envelope's recipients. An error is worth retrying unless the server
/// refused permanently (`permanent` is then true).
pub async fn send(
    cfg: &SmtpConfig,
    envelope: &lettre::address::Envelope,
    raw: &[u8],
) -> Result<(), SendError> {
    let builder = match cfg.security {
        Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
        Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
            .map_err(|e| SendError::new(false, e))?,
        Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host)
            .map_err(|e| SendError::new(false, e))?,
    };
    let mut builder = builder.port(cfg.port).timeout(Some(std::time::Duration::from_secs(30)));
    if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    let t = builder.build();
    t.send_raw(envelope, raw).await.map(|_| ()).map_err(|e| SendError::new(e.is_permanent(), e))
}

#[derive(Debug, thiserror::Error)]
#[error("{inner}")]
pub struct SendError {
    pub permanent: bool,
    pub inner: MailError,
}

impl SendError {
    fn new(permanent: bool, e: impl std::fmt::Display) -> SendError {
        SendError { permanent, inner: MailError::new("smtp", e) }
    }
}
