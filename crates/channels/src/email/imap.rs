//! The IMAP side of inbound mail (async-imap on tokio): log in, fetch unseen messages without
//! marking them, mark each seen once it is stored, and wait in IDLE for new mail.

use std::{sync::Arc, time::Duration};

use futures::TryStreamExt;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
};

use super::{MailError, Security};

#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password: String,
    pub mailbox: String,
}

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

pub type Session = async_imap::Session<Box<dyn Io>>;

/// Connects, logs in and selects the mailbox.
pub async fn connect(cfg: &ImapConfig) -> Result<Session, MailError> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(20),
        TcpStream::connect((cfg.host.as_str(), cfg.port)),
    )
    .await
    .map_err(|_| MailError::new("imap connect", "timed out"))?
    .map_err(|e| MailError::new("imap connect", e))?;
    let stream: Box<dyn Io> = match cfg.security {
        Security::None => Box::new(tcp),
        Security::Tls | Security::StartTls => {
            let mut roots = tokio_rustls::rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
            let tls = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| MailError::new("imap tls", e))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from(cfg.host.clone())
                .map_err(|e| MailError::new("imap tls", e))?;
            let s = tokio_rustls::TlsConnector::from(Arc::new(tls))
                .connect(name, tcp)
                .await
                .map_err(|e| MailError::new("imap tls", e))?;
            Box::new(s)
        }
    };
    let mut client = async_imap::Client::new(stream);
    client
        .read_response()
        .await
        .map_err(|e| MailError::new("imap greeting", e))?
        .ok_or_else(|| MailError::new("imap greeting", "connection closed"))?;
    let mut session = client
        .login(&cfg.username, &cfg.password)
        .await
        .map_err(|(e, _)| MailError::new("imap login", e))?;
    session.select(&cfg.mailbox).await.map_err(|e| MailError::new("imap select", e))?;
    Ok(session)
}

/// The unseen messages (uid and raw bytes), oldest first, at most `limit`; not marked seen.
pub async fn fetch_unseen(s: &mut Session, limit: usize) -> Result<Vec<(u32, Vec<u8>)>, MailError> {
    let mut uids: Vec<u32> = s
        .uid_search("UNSEEN")
        .await
        .map_err(|e| MailError::new("imap search", e))?
        .into_iter()
        .collect();
    uids.sort_unstable();
    uids.truncate(limit);
    if uids.is_empty() {
        return Ok(Vec::new());
    }
    let set: Vec<String> = uids.iter().map(u32::to_string).collect();
    let fetches: Vec<_> = s
        .uid_fetch(set.join(","), "(UID BODY.PEEK[])")
        .await
        .map_err(|e| MailError::new("imap fetch", e))?
        .try_collect()
        .await
        .map_err(|e| MailError::new("imap fetch", e))?;
    let mut out: Vec<(u32, Vec<u8>)> =
        fetches.iter().filter_map(|f| Some((f.uid?, f.body()?.to_vec()))).collect();
    out.sort_by_key(|(u, _)| *u);
    Ok(out)
}

/// Marks one message seen.
pub async fn mark_seen(s: &mut Session, uid: u32) -> Result<(), MailError> {
    let _: Vec<_> = s
        .uid_store(uid.to_string(), "+FLAGS (\\Seen)")
        .await
        .map_err(|e| MailError::new("imap store", e))?
        .try_collect()
        .await
        .map_err(|e| MailError::new("imap store", e))?;
    Ok(())
}

/// Waits in IDLE until the server reports a change or `max` passes; gives the session back.
pub async fn idle(s: Session, max: Duration) -> Result<Session, MailError> {
    let mut h = s.idle();
    h.init().await.map_err(|e| MailError::new("imap idle", e))?;
    let (wait, _stop) = h.wait_with_timeout(max);
    wait.await.map_err(|e| MailError::new("imap idle", e))?;
    h.done().await.map_err(|e| MailError::new("imap idle done", e))
}

/// Logs out, ignoring errors (the connection is dropped either way).
pub async fn logout(mut s: Session) {
    let _ = s.logout().await;
}
