//! A small SMTP / LMTP receiver (RFC 5321, RFC 2033) for mail delivered straight to Huiting,
//! e.g. by Postfix's `lmtp:` transport or a relay's smarthost. It speaks HELO/EHLO/LHLO, MAIL,
//! RCPT, DATA (dot-unstuffed, size-capped), RSET, NOOP, VRFY and QUIT; each accepted message
//! goes to a handler with its envelope. With LMTP the handler runs per recipient and each gets
//! its own reply after DATA. No relaying: the handler decides which recipients are ours.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Smtp,
    Lmtp,
}

/// One delivery: the envelope sender (empty for bounces), the recipients, the message.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

/// How a handler refuses a delivery.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// 4xx: try again later.
    Temporary(String),
    /// 5xx: do not retry.
    Permanent(String),
}

pub type Handler = Arc<
    dyn Fn(Delivery) -> Pin<Box<dyn Future<Output = Result<(), Refusal>> + Send>> + Send + Sync,
>;
/// Whether a recipient address is accepted at RCPT time.
pub type Accepts = Arc<dyn Fn(&str) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

#[derive(Clone)]
pub struct Receiver {
    pub protocol: Protocol,
    pub max_bytes: usize,
    pub accepts: Accepts,
    pub handler: Handler,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").field("protocol", &self.protocol).finish_non_exhaustive()
    }
}

const MAX_LINE: usize = 4096;
const MAX_RCPT: usize = 100;
const IDLE: Duration = Duration::from_secs(300);

impl Receiver {
    /// Accepts connections until the listener fails; each connection runs in its own task.
    pub async fn serve(self, listener: TcpListener) {
        loop {
            match listener.accept().await {
                Ok((s, _)) => {
                    let r = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = r.session(s).await {
                            tracing_debug(&e);
                        }
                    });
                }
                Err(e) => {
                    tracing_debug(&e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn session(&self, s: TcpStream) -> std::io::Result<()> {
        let (r, mut w) = s.into_split();
        let mut r = BufReader::new(r);
        let name = match self.protocol {
            Protocol::Smtp => "ESMTP",
            Protocol::Lmtp => "LMTP",
        };
        w.write_all(format!("220 huiting {name} ready\r\n").as_bytes()).await?;
        let mut greeted = false;
        let mut from: Option<String> = None;
        let mut rcpts: Vec<String> = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = read_line(&mut r, &mut line).await?;
            if n == 0 {
                return Ok(());
            }
            if line.len() > MAX_LINE {
                w.write_all(b"500 5.5.2 line too long\r\n").await?;
                continue;
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
            let verb = verb.to_ascii_uppercase();
            let reply: String = match (verb.as_str(), self.protocol) {
                ("EHLO", Protocol::Smtp) | ("LHLO", Protocol::Lmtp) => {
                    greeted = true;
                    format!(
                        "250-huiting\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE {}\r\n",
                        self.max_bytes
                    )
                }
                ("HELO", Protocol::Smtp) => {
                    greeted = true;
                    "250 huiting\r\n".into()
                }
                ("MAIL", _) if !greeted => "503 5.5.1 say hello first\r\n".into(),
                ("MAIL", _) => match path_arg(arg, "FROM:") {
                    Some(p) => {
                        from = Some(p);
                        rcpts.clear();
                        "250 2.1.0 ok\r\n".into()
                    }
                    None => "501 5.5.4 syntax: MAIL FROM:<address>\r\n".into(),
                },
                ("RCPT", _) if from.is_none() => "503 5.5.1 need MAIL first\r\n".into(),
                ("RCPT", _) => match path_arg(arg, "TO:") {
                    Some(p) if rcpts.len() >= MAX_RCPT => {
                        let _ = p;
                        "452 4.5.3 too many recipients\r\n".into()
                    }
                    Some(p) if (self.accepts)(&p.to_lowercase()).await => {
                        rcpts.push(p.to_lowercase());
                        "250 2.1.5 ok\r\n".into()
                    }
                    Some(_) => "550 5.1.1 no such mailbox here\r\n".into(),
                    None => "501 5.5.4 syntax: RCPT TO:<address>\r\n".into(),
                },
                ("DATA", _) if rcpts.is_empty() => "503 5.5.1 need RCPT first\r\n".into(),
                ("DATA", _) => {
                    w.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n").await?;
                    let data = read_data(&mut r, self.max_bytes).await?;
                    let mail_from = from.take().unwrap_or_default();
                    let to = std::mem::take(&mut rcpts);
                    let Some(data) = data else {
                        w.write_all(b"552 5.3.4 message too large\r\n").await?;
                        continue;
                    };
                    let mut out = String::new();
                    match self.protocol {
                        Protocol::Smtp => {
                            let d = Delivery { mail_from, rcpt_to: to, data };
                            out.push_str(&answer((self.handler)(d).await));
                        }
                        Protocol::Lmtp => {
                            for rcpt in to {
                                let d = Delivery {
                                    mail_from: mail_from.clone(),
                                    rcpt_to: vec![rcpt],
                                    data: data.clone(),
                                };
                                out.push_str(&answer((self.handler)(d).await));
                            }
                        }
                    }
                    out
                }
                ("RSET", _) => {
                    from = None;
                    rcpts.clear();
                    "250 2.0.0 ok\r\n".into()
                }
                ("NOOP", _) => "250 2.0.0 ok\r\n".into(),
                ("VRFY", _) => "252 2.5.2 cannot verify\r\n".into(),
                ("QUIT", _) => {
                    w.write_all(b"221 2.0.0 bye\r\n").await?;
                    return Ok(());
                }
                _ => "502 5.5.2 command not recognised\r\n".into(),
            };
            w.write_all(reply.as_bytes()).await?;
        }
    }
}

fn answer(r: Result<(), Refusal>) -> String {
    match r {
        Ok(()) => "250 2.0.0 delivered\r\n".into(),
        Err(Refusal::Temporary(m)) => format!("451 4.3.0 {}\r\n", one_line(&m)),
        Err(Refusal::Permanent(m)) => format!("554 5.6.0 {}\r\n", one_line(&m)),
    }
}

fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect()
}

/// `FROM:<a@b> SIZE=1` → `a@b` (the null path `<>` gives an empty string).
fn path_arg(arg: &str, key: &str) -> Option<String> {
    let a = arg.trim();
    let rest =
        a.get(..key.len()).filter(|h| h.eq_ignore_ascii_case(key)).map(|_| &a[key.len()..])?;
    let rest = rest.trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    let p = inner[..end].trim();
    (!p.chars().any(|c| c.is_control() || c == ' ')).then(|| p.to_string())
}

async fn read_line<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<usize> {
    match tokio::time::timeout(IDLE, r.read_until(b'\n', buf)).await {
        Ok(res) => res,
        Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "idle")),
    }
}

/// The message up to the lone dot, unstuffed; `None` (after draining it) when too large.
async fn read_data<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    max: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    let mut over = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if read_line(r, &mut line).await? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "eof in DATA"));
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok((!over).then_some(data));
        }
        let l = if line.first() == Some(&b'.') { &line[1..] } else { &line[..] };
        if data.len() + l.len() > max {
            over = true;
            data.clear();
        } else if !over {
            data.extend_from_slice(l);
        }
    }
}

fn tracing_debug(e: &dyn std::fmt::Display) {
    // The channels crate has no logger of its own; connection errors are the peer's business.
    let _ = e;
}

#[cfg(test)]
mod tests {
    use super::path_arg;

    #[test]
    fn paths() {
        assert_eq!(path_arg("FROM:<a@b> SIZE=10", "FROM:").as_deref(), Some("a@b"));
        assert_eq!(path_arg("from: <>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_arg("TO:a@b", "TO:"), None);
        assert_eq!(path_arg("", "TO:"), None);
    }
}
