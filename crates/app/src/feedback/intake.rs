//! Feedback intake (FB-2) and third-party reviews (IN-5). A submission carries text and up to
//! five images or voice notes; each upload's type is read from its bytes (never from what the
//! client says), checked against its size limit and stored in the database. A submission is
//! stored whole or refused with the reason. Reviews come as CSV or JSON (platform, rating,
//! text, time, order, SKU); a review already imported — the same platform and review id, or
//! without an id the same platform, time, text and order — is skipped, so re-importing a file
//! adds nothing twice. Bad rows are reported by row number; the good ones are stored.

use domain::{
    Actor, AuditValue, CustomerId, FeedbackId, ParseError, Snapshot, Timestamp, UserId,
    WorkspaceId,
    feedback::{
        FeedbackAttachment, FeedbackItem, FeedbackSource, FeedbackStatus, MAX_FEEDBACK_CHARS,
        MAX_IMAGE_BYTES, MAX_UPLOADS, MAX_VOICE_BYTES, SignalSource, sniff_media,
    },
};
use sha2::Digest;

use crate::{
    App, Error, Result,
    auth::{Agent, Staff, Visitor},
    error::OrNotFound,
};

/// The most rows one review import takes.
pub const MAX_REVIEW_ROWS: usize = 5000;

/// One uploaded file.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: Option<String>,
    pub bytes: Vec<u8>,
}

/// A feedback submission.
#[derive(Debug, Clone, Default)]
pub struct NewFeedback {
    pub body: String,
    pub rating: Option<i64>,
    pub order_no: Option<String>,
    pub sku: Option<String>,
    pub contact: Option<String>,
    pub customer: Option<CustomerId>,
    pub uploads: Vec<Upload>,
}

/// A change to a feedback item's handling.
#[derive(Debug, Clone, Default)]
pub struct FeedbackPatch {
    pub status: Option<FeedbackStatus>,
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<UserId>>,
}

/// What a review import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewImport {
    pub rows: usize,
    pub created: usize,
    /// Rows already imported before (or twice in the file).
    pub duplicates: usize,
    /// Bad rows: row number (the header is row 1 in CSV; JSON counts items from 1) and why.
    pub errors: Vec<(usize, String)>,
}

fn opt_field(
    v: &Option<String>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, ParseError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > max => {
            Err(ParseError::new(field, format!("at most {max} characters")))
        }
        Some(s) => Ok(Some(s.to_string())),
    }
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

/// Checks the uploads: count, type by magic bytes, size by type.
fn check_uploads(uploads: &[Upload]) -> Result<Vec<(FeedbackAttachment, &[u8])>> {
    if uploads.len() > MAX_UPLOADS {
        return Err(ParseError::new("files", format!("at most {MAX_UPLOADS} files")).into());
    }
    let mut out = Vec::new();
    for (i, u) in uploads.iter().enumerate() {
        let label = u.name.clone().unwrap_or_else(|| format!("file {}", i + 1));
        if u.bytes.is_empty() {
            return Err(ParseError::new("files", format!("{label} is empty")).into());
        }
        let (kind, ct) = sniff_media(&u.bytes).ok_or_else(|| {
            Error::UnsupportedMedia(format!(
                "{label}: not an accepted image (JPEG, PNG, GIF, WebP) or voice recording (MP3, M4A, WAV, OGG, AMR, WebM)"
            ))
        })?;
        let max = if kind == "image" { MAX_IMAGE_BYTES } else { MAX_VOICE_BYTES };
        if u.bytes.len() > max {
            return Err(Error::TooLarge(format!(
                "{label}: {} bytes; a {kind} may be at most {} MiB",
                u.bytes.len(),
                max / (1024 * 1024)
            )));
        }
        let name = u
            .name
            .as_deref()
            .map(|n| n.chars().filter(|c| !c.is_control()).take(200).collect::<String>())
            .filter(|n| !n.trim().is_empty());
        out.push((
            FeedbackAttachment {
                id: String::new(),
                kind: kind.to_string(),
                content_type: ct.to_string(),
                size: u.bytes.len() as i64,
                sha256: sha256_hex(&u.bytes),
                name,
            },
            u.bytes.as_slice(),
        ));
    }
    Ok(out)
}

fn feedback_snapshot(f: &FeedbackItem) -> Snapshot {
    Snapshot::default()
        .with("source", f.source.as_str())
        .with("platform", f.platform.clone())
        .with("customer", f.customer.map(|c| c.to_string()))
        .with("rating", f.rating.map_or(AuditValue::Null, AuditValue::Int))
        .with("chars", AuditValue::Int(f.body.chars().count() as i64))
        .with("attachments", AuditValue::Int(f.attachments.len() as i64))
        .with("status", f.status.as_str())
        .with("assignee", f.assignee.map(|a| a.to_string()))
}

/// Reads a review time: RFC 3339, `YYYY-MM-DD[ HH:MM[:SS]]` (China time, as the platforms'
/// exports write it), or Unix seconds / milliseconds.
pub(crate) fn parse_review_time(s: &str) -> Result<Timestamp, ParseError> {
    use time::{
        OffsetDateTime, PrimitiveDateTime, UtcOffset, format_description::well_known::Rfc3339,
        macros::format_description,
    };
    let s = s.trim();
    let bad = || {
        ParseError::new("time", format!("{s:?}: use 2026-11-30 14:05, RFC 3339 or Unix seconds"))
    };
    if let Ok(n) = s.parse::<i64>() {
        return Ok(Timestamp::from_millis(if n < 100_000_000_000 { n * 1000 } else { n }));
    }
    if let Ok(d) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(Timestamp::from_millis((d.unix_timestamp_nanos() / 1_000_000) as i64));
    }
    let cst = UtcOffset::from_hms(8, 0, 0).map_err(|_| bad())?;
    let s2 = s.replace('/', "-").replace('T', " ");
    for f in [
        format_description!(
            "[year]-[month padding:none]-[day padding:none] [hour padding:none]:[minute]:[second]"
        ),
        format_description!(
            "[year]-[month padding:none]-[day padding:none] [hour padding:none]:[minute]"
        ),
    ] {
        if let Ok(p) = PrimitiveDateTime::parse(&s2, f) {
            return Ok(Timestamp::from_millis(p.assume_offset(cst).unix_timestamp() * 1000));
        }
    }
    if let Ok(d) = time::Date::parse(
        &s2,
        format_description!("[year]-[month padding:none]-[day padding:none]"),
    ) {
        return Ok(Timestamp::from_millis(d.midnight().assume_offset(cst).unix_timestamp() * 1000));
    }
    Err(bad())
}

/// One review row, as read from a file.
#[derive(Debug, Clone, Default)]
struct ReviewRow {
    platform: Option<String>,
    external_id: Option<String>,
    rating: Option<String>,
    text: Option<String>,
    time: Option<String>,
    order_no: Option<String>,
    sku: Option<String>,
}

fn column(h: &str) -> Option<&'static str> {
    let h = h.trim().trim_start_matches('\u{feff}').to_lowercase();
    Some(match h.as_str() {
        "platform" | "平台" | "来源" | "渠道" => "platform",
        "id" | "external_id" | "review_id" | "评价id" | "评论id" => "external_id",
        "rating" | "stars" | "score" | "评分" | "星级" => "rating",
        "text" | "content" | "body" | "review" | "评价" | "内容" | "评价内容" => "text",
        "time" | "date" | "created_at" | "时间" | "评价时间" | "日期" => "time",
        "order" | "order_no" | "order_id" | "订单" | "订单号" => "order_no",
        "sku" | "product" | "商品" | "商品编号" => "sku",
        _ => return None,
    })
}

fn set(row: &mut ReviewRow, col: &str, v: String) {
    let v = Some(v).filter(|s| !s.trim().is_empty());
    match col {
        "platform" => row.platform = v,
        "external_id" => row.external_id = v,
        "rating" => row.rating = v,
        "text" => row.text = v,
        "time" => row.time = v,
        "order_no" => row.order_no = v,
        _ => row.sku = v,
    }
}

/// Rows of a CSV (header first) or JSON (a list of objects, or `{"reviews": [...]}`) file,
/// with their row numbers.
fn read_reviews(bytes: &[u8], json: bool) -> Result<Vec<(usize, ReviewRow)>> {
    if json {
        let v: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ParseError::new("file", format!("not valid JSON ({e})")))?;
        let list = match &v {
            serde_json::Value::Array(a) => a.clone(),
            serde_json::Value::Object(o) => {
                o.get("reviews").and_then(|r| r.as_array()).cloned().ok_or_else(|| {
                    ParseError::new("file", "a JSON list of reviews, or {\"reviews\": [...]}")
                })?
            }
            _ => return Err(ParseError::new("file", "a JSON list of reviews").into()),
        };
        return Ok(list
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let mut row = ReviewRow::default();
                if let Some(o) = item.as_object() {
                    for (k, v) in o {
                        if let Some(col) = column(k) {
                            let s = match v {
                                serde_json::Value::String(s) => s.clone(),
                                serde_json::Value::Null => String::new(),
                                other => other.to_string(),
                            };
                            set(&mut row, col, s);
                        }
                    }
                }
                (i + 1, row)
            })
            .collect());
    }
    let rows = crate::bot::kb_io::read_sheet(bytes, crate::bot::kb_io::SheetFormat::Csv)?;
    let mut it = rows.into_iter();
    let header = it.next().ok_or_else(|| ParseError::new("file", "the file is empty"))?;
    let cols: Vec<Option<&'static str>> = header.iter().map(|h| column(h)).collect();
    if !cols.contains(&Some("platform")) || !cols.contains(&Some("text")) {
        return Err(ParseError::new(
            "file",
            "the header must name at least platform (平台) and text (评价内容); also rating, time, order_no, sku, id",
        )
        .into());
    }
    Ok(it
        .enumerate()
        .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
        .map(|(i, r)| {
            let mut row = ReviewRow::default();
            for (c, v) in cols.iter().zip(r) {
                if let Some(col) = c {
                    set(&mut row, col, v);
                }
            }
            (i + 2, row)
        })
        .collect())
}

impl App {
    /// Feedback from staff or an integration (source `api`).
    pub async fn submit_feedback(&self, a: &Agent, f: NewFeedback) -> Result<FeedbackItem> {
        if let Some(c) = f.customer {
            let mut r = self.db.read().await?;
            db::customers::get(&mut r, a.workspace, c).await?.or_not_found("customer")?;
        }
        self.store_feedback(a.workspace, a.actor, FeedbackSource::Api, f).await
    }

    /// Feedback from the public form or widget (source `form`), with the workspace's public
    /// key; a visitor token ties it to the visitor's customer.
    pub async fn submit_public_feedback(
        &self,
        public_key: &str,
        visitor: Option<Visitor>,
        mut f: NewFeedback,
    ) -> Result<FeedbackItem> {
        let ws = self.workspace_by_public_key(public_key).await?;
        f.customer = None;
        if let Some(v) = visitor {
            if v.workspace() != ws.id {
                return Err(Error::Unauthenticated(
                    "this visitor token belongs to another workspace",
                ));
            }
            f.customer = Some(v.customer());
        }
        let actor = f.customer.map_or(Actor::System, Actor::Customer);
        self.store_feedback(ws.id, actor, FeedbackSource::Form, f).await
    }

    async fn store_feedback(
        &self,
        ws: WorkspaceId,
        actor: Actor,
        source: FeedbackSource,
        f: NewFeedback,
    ) -> Result<FeedbackItem> {
        let body = f.body.trim().to_string();
        if body.chars().count() > MAX_FEEDBACK_CHARS {
            return Err(ParseError::new(
                "body",
                format!("at most {MAX_FEEDBACK_CHARS} characters"),
            )
            .into());
        }
        if body.is_empty() && f.uploads.is_empty() {
            return Err(ParseError::new(
                "body",
                "write something or attach an image or voice note",
            )
            .into());
        }
        if let Some(r) = f.rating
            && !(1..=5).contains(&r)
        {
            return Err(ParseError::new("rating", "1 to 5 stars").into());
        }
        let files = check_uploads(&f.uploads)?;
        let order_no = opt_field(&f.order_no, "order_no", 64)?;
        let sku = opt_field(&f.sku, "sku", 64)?;
        let contact = opt_field(&f.contact, "contact", 200)?;
        // Classified before the write lock is taken: the analysis is the slow part.
        let classified = self.classify_text(ws, &body, f.rating).await?;
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        let id = self.ids.next(now, FeedbackId::new);
        // Attachment ids are unique across the workspace (the table's key).
        let files: Vec<(FeedbackAttachment, &[u8])> = files
            .into_iter()
            .map(|(mut a, b)| {
                a.id = self.ids.next(now, FeedbackId::new).to_string();
                (a, b)
            })
            .collect();
        let mut signal = self.signal(ws, SignalSource::Feedback, id.to_string(), classified, now);
        signal.customer = f.customer;
        signal.channel =
            Some(if source == FeedbackSource::Form { "web_form" } else { "api" }.into());
        if signal.product.is_none() {
            signal.product = sku.clone();
        }
        let item = FeedbackItem {
            id,
            workspace: ws,
            customer: f.customer,
            source,
            platform: None,
            external_id: None,
            rating: f.rating,
            body,
            order_no,
            sku,
            contact,
            ticket: None,
            assignee: None,
            attachments: files.iter().map(|(a, _)| a.clone()).collect(),
            occurred_at: now,
            created_at: now,
            status: FeedbackStatus::Open,
            due_at: Some(signal.due_at),
        };
        db::feedback::insert_feedback(&mut tx, &item).await?;
        for (a, bytes) in &files {
            db::feedback::insert_attachment(&mut tx, ws, id, a, bytes, now).await?;
        }
        self.store_signals(&mut tx, std::slice::from_ref(&signal), now).await?;
        tx.audit(
            now,
            actor,
            "feedback.create",
            "feedback",
            &id.to_string(),
            None,
            Some(&feedback_snapshot(&item)),
        )
        .await?;
        self.commit(tx).await?;
        Ok(item)
    }

    /// Imports third-party reviews (IN-5); `json` picks the format (else CSV).
    pub async fn import_reviews(
        &self,
        a: &Agent,
        bytes: &[u8],
        json: bool,
    ) -> Result<ReviewImport> {
        let rows = read_reviews(bytes, json)?;
        if rows.len() > MAX_REVIEW_ROWS {
            return Err(ParseError::new(
                "file",
                format!("at most {MAX_REVIEW_ROWS} reviews per import"),
            )
            .into());
        }
        let ws = a.workspace;
        let now = self.now();
        let mut report = ReviewImport { rows: rows.len(), ..ReviewImport::default() };
        let mut good = Vec::new();
        for (n, r) in rows {
            let check = || -> Result<FeedbackItem, ParseError> {
                let platform = opt_field(&r.platform, "platform", 40)?
                    .ok_or_else(|| ParseError::new("platform", "required"))?
                    .to_lowercase();
                let text = r.text.as_deref().map(str::trim).unwrap_or_default().to_string();
                if text.is_empty() {
                    return Err(ParseError::new("text", "required"));
                }
                if text.chars().count() > MAX_FEEDBACK_CHARS {
                    return Err(ParseError::new(
                        "text",
                        format!("at most {MAX_FEEDBACK_CHARS} characters"),
                    ));
                }
                let rating = match r.rating.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(s) => Some(
                        s.parse::<f64>()
                            .ok()
                            .filter(|v| (1.0..=5.0).contains(v))
                            .map(|v| v.round() as i64)
                            .ok_or_else(|| ParseError::new("rating", format!("{s:?}: 1 to 5")))?,
                    ),
                };
                let occurred_at = match r.time.as_deref() {
                    Some(t) => parse_review_time(t)?,
                    None => now,
                };
                let order_no = opt_field(&r.order_no, "order_no", 64)?;
                let sku = opt_field(&r.sku, "sku", 64)?;
                let external_id = match opt_field(&r.external_id, "id", 128)? {
                    Some(id) => id,
                    None => {
                        let key = format!(
                            "{platform}\u{1f}{}\u{1f}{text}\u{1f}{}",
                            r.time.as_deref().map(str::trim).unwrap_or_default(),
                            order_no.as_deref().unwrap_or_default()
                        );
                        format!("h:{}", &sha256_hex(key.as_bytes())[..32])
                    }
                };
                Ok(FeedbackItem {
                    id: FeedbackId::new(now, 0),
                    workspace: ws,
                    customer: None,
                    source: FeedbackSource::Review,
                    platform: Some(platform),
                    external_id: Some(external_id),
                    rating,
                    body: text,
                    order_no,
                    sku,
                    contact: None,
                    ticket: None,
                    assignee: None,
                    attachments: Vec::new(),
                    occurred_at,
                    created_at: now,
                    status: FeedbackStatus::Open,
                    due_at: None,
                })
            };
            match check() {
                Ok(item) => good.push(item),
                Err(e) => report.errors.push((n, e.to_string())),
            }
        }
        let mut classified = Vec::with_capacity(good.len());
        for item in &good {
            classified.push(self.classify_text(ws, &item.body, item.rating).await?);
        }
        let mut tx = self.db.write(ws).await?;
        let mut signals = Vec::new();
        for (mut item, c) in good.into_iter().zip(classified) {
            item.id = self.ids.next(now, FeedbackId::new);
            let mut s = self.signal(ws, SignalSource::Review, item.id.to_string(), c, now);
            s.channel = item.platform.clone();
            if item.sku.is_some() {
                s.product = item.sku.clone();
            }
            item.due_at = Some(s.due_at);
            if db::feedback::insert_feedback(&mut tx, &item).await? {
                report.created += 1;
                signals.push(s);
            } else {
                report.duplicates += 1;
            }
        }
        self.store_signals(&mut tx, &signals, now).await?;
        tx.audit(
            now,
            a.actor,
            "feedback.import",
            "workspace",
            &ws.to_string(),
            None,
            Some(
                &Snapshot::default()
                    .with("rows", AuditValue::Int(report.rows as i64))
                    .with("created", AuditValue::Int(report.created as i64))
                    .with("duplicates", AuditValue::Int(report.duplicates as i64))
                    .with("errors", AuditValue::Int(report.errors.len() as i64)),
            ),
        )
        .await?;
        self.commit(tx).await?;
        Ok(report)
    }

    pub async fn list_feedback(
        &self,
        s: &Staff,
        f: &db::feedback::FeedbackFilter,
        page: &db::Page,
    ) -> Result<Vec<(FeedbackItem, Option<domain::feedback::ContentSignal>)>> {
        crate::feedback::read_all(s)?;
        let mut c = self.db.read().await?;
        let items = db::feedback::list_feedback(&mut c, s.workspace, f, page).await?;
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            let src = if it.source == FeedbackSource::Review {
                SignalSource::Review
            } else {
                SignalSource::Feedback
            };
            let sig = db::feedback::signal_of(&mut c, s.workspace, src, &it.id.to_string()).await?;
            out.push((it, sig));
        }
        Ok(out)
    }

    pub async fn get_feedback(
        &self,
        s: &Staff,
        id: FeedbackId,
    ) -> Result<(FeedbackItem, Option<domain::feedback::ContentSignal>)> {
        crate::feedback::read_all(s)?;
        let mut c = self.db.read().await?;
        let it =
            db::feedback::get_feedback(&mut c, s.workspace, id).await?.or_not_found("feedback")?;
        let src = if it.source == FeedbackSource::Review {
            SignalSource::Review
        } else {
            SignalSource::Feedback
        };
        let sig = db::feedback::signal_of(&mut c, s.workspace, src, &id.to_string()).await?;
        Ok((it, sig))
    }

    /// Marks a feedback item handled (or open again) and (un)assigns it.
    pub async fn patch_feedback(
        &self,
        a: &Agent,
        id: FeedbackId,
        p: FeedbackPatch,
    ) -> Result<FeedbackItem> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let before =
            db::feedback::get_feedback(&mut tx, a.workspace, id).await?.or_not_found("feedback")?;
        let mut after = before.clone();
        if let Some(s) = p.status {
            after.status = s;
        }
        if let Some(u) = p.assignee {
            if let Some(u) = u {
                let user = db::users::get_user(&mut tx, a.workspace, u).await?;
                if user.is_none_or(|u| !u.active) {
                    return Err(
                        ParseError::new("assignee_id", "no active user with this id").into()
                    );
                }
            }
            after.assignee = u;
        }
        if after == before {
            return Ok(after);
        }
        db::feedback::update_feedback(&mut tx, &after).await?;
        tx.audit(
            now,
            a.actor,
            "feedback.update",
            "feedback",
            &id.to_string(),
            Some(&feedback_snapshot(&before)),
            Some(&feedback_snapshot(&after)),
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// An upload's content type and bytes.
    pub async fn feedback_attachment(
        &self,
        s: &Staff,
        id: FeedbackId,
        att: &str,
    ) -> Result<(String, Vec<u8>)> {
        crate::feedback::read_all(s)?;
        let mut c = self.db.read().await?;
        db::feedback::attachment_data(&mut c, s.workspace, id, att)
            .await?
            .or_not_found("attachment")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_times() {
        let t = |s| parse_review_time(s).map(|t| t.millis());
        // 2026-11-30 14:05 China time = 06:05 UTC.
        assert_eq!(t("2026-11-30 14:05"), Ok(1_796_018_700_000));
        assert_eq!(t("2026/11/30 14:05:00"), Ok(1_796_018_700_000));
        assert_eq!(t("2026-11-30T06:05:00Z"), Ok(1_796_018_700_000));
        assert_eq!(t("1796018700"), Ok(1_796_018_700_000));
        assert_eq!(t("1796018700000"), Ok(1_796_018_700_000));
        assert_eq!(t("2026-11-30"), Ok(1_795_968_000_000));
        assert!(t("yesterday").is_err());
    }

    #[test]
    fn csv_rows_with_chinese_headers() {
        let csv = "平台,评分,评价内容,评价时间,订单号,SKU\n淘宝,1,坏了,2026-11-30 14:05,A1,S1\n\n京东,,好,,,\n";
        let rows = read_reviews(csv.as_bytes(), false).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.platform.as_deref(), Some("淘宝"));
        assert_eq!(rows[0].1.sku.as_deref(), Some("S1"));
        assert_eq!(rows[1].0, 4);
        assert!(read_reviews(b"foo,bar\n1,2\n", false).is_err());
    }
}
