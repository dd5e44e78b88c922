//! Import and export of FAQ spreadsheets, CSV and XLSX (BOT-2).
//!
//! The first row names the columns (问题, 相似问法, 答案, 分类, 标签, optionally 语言, 状态,
//! 意图, or the English names), in any order. Each data row is checked on its own
//! (`domain::knowledge::parse_import_row`); bad rows are reported with their row number (as the
//! spreadsheet shows it: the header is row 1), column and reason, and the good rows are stored
//! together in one transaction, each whole or not at all. CSV may be UTF-8 (with or without a
//! BOM) or GBK/GB18030, as Excel writes it on Chinese Windows. Export writes the same columns,
//! so an exported file imports again unchanged.

use std::io::Cursor;

use anyhow::Context as _;
use domain::{
    Faq, KbStatus, ParseError,
    knowledge::{EXPORT_HEADERS, ImportColumns, RowError, parse_import_row},
};

use crate::{
    App, Error, Result,
    auth::{BotEditor, Staff},
};

/// The most data rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 5000;

/// A spreadsheet format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    Csv,
    Xlsx,
}

impl SheetFormat {
    pub fn parse(s: &str) -> Result<SheetFormat, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(SheetFormat::Csv),
            "xlsx" => Ok(SheetFormat::Xlsx),
            other => Err(ParseError::new("format", format!("{other:?}: csv or xlsx"))),
        }
    }

    /// The format of uploaded bytes: XLSX files are ZIP archives.
    pub fn sniff(bytes: &[u8]) -> SheetFormat {
        if bytes.starts_with(b"PK\x03\x04") { SheetFormat::Xlsx } else { SheetFormat::Csv }
    }
}

/// What an import did, or would do (`dry_run`).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read (blank rows are skipped and not counted).
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    /// Good rows identical to the stored entry.
    pub unchanged: usize,
    /// Bad rows: the spreadsheet row number and what is wrong.
    pub errors: Vec<(usize, Vec<RowError>)>,
}

/// Reads the rows of a CSV or XLSX file, header first.
pub fn read_sheet(bytes: &[u8], format: SheetFormat) -> Result<Vec<Vec<String>>> {
    match format {
        SheetFormat::Csv => read_csv(bytes),
        SheetFormat::Xlsx => read_xlsx(bytes),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_owned(),
        Err(_) => {
            let (t, _, bad) = encoding_rs::GB18030.decode(bytes);
            if bad {
                return Err(ParseError::new(
                    "file",
                    "the CSV is neither UTF-8 nor GBK/GB18030; save it as \"CSV UTF-8\"",
                )
                .into());
            }
            t.into_owned()
        }
    };
    let mut r =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec
            .map_err(|e| ParseError::new("file", format!("row {}: not valid CSV ({e})", i + 1)))?;
        // The reader skips blank lines, and a record's position is where it began reading,
        // before them: keep each as an empty row, so that a row's number is the spreadsheet's
        // (a quoted cell spanning lines is still one row).
        let bytes = text.as_bytes();
        let mut at = rec.position().map_or(0, |p| p.byte() as usize).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            if bytes[at] == b'\n' && !rows.is_empty() {
                rows.push(Vec::new());
            }
            at += 1;
        }
        rows.push(rec.iter().map(str::to_owned).collect());
    }
    Ok(rows)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>> {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec()))
        .map_err(|e| ParseError::new("file", format!("not a readable XLSX workbook ({e})")))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| ParseError::new("file", "the workbook has no sheet"))?
        .map_err(|e| ParseError::new("file", format!("the first sheet is unreadable ({e})")))?;
    // Rows are numbered from the sheet's first row, so leading empty rows keep their numbers.
    let first = range.start().map_or(0, |(r, _)| r as usize);
    let mut rows: Vec<Vec<String>> = vec![Vec::new(); first];
    for row in range.rows() {
        rows.push(row.iter().map(|c| c.to_string()).collect());
    }
    Ok(rows)
}

fn blank(row: &[String]) -> bool {
    row.iter().all(|c| c.trim().is_empty())
}

/// A good row and its number in the spreadsheet.
pub type NumberedRow = (usize, domain::knowledge::ImportRow);
/// A bad row's number and what is wrong with it.
pub type RowReport = (usize, Vec<RowError>);

/// Checks every row; the good ones (with their row numbers) and the report of the bad ones.
pub fn check_rows(
    rows: &[Vec<String>],
    default_status: KbStatus,
) -> Result<(Vec<NumberedRow>, Vec<RowReport>)> {
    let Some(header_at) = rows.iter().position(|r| !blank(r)) else {
        return Err(ParseError::new("file", "the file is empty").into());
    };
    let cols = ImportColumns::from_headers(&rows[header_at])?;
    let data: Vec<(usize, &Vec<String>)> = rows
        .iter()
        .enumerate()
        .skip(header_at + 1)
        .filter(|(_, r)| !blank(r))
        .map(|(i, r)| (i + 1, r))
        .collect();
    if data.len() > MAX_IMPORT_ROWS {
        return Err(ParseError::new(
            "file",
            format!("at most {MAX_IMPORT_ROWS} rows per import (this file has {})", data.len()),
        )
        .into());
    }
    let mut good: Vec<NumberedRow> = Vec::new();
    let mut bad = Vec::new();
    for (n, cells) in data {
        match parse_import_row(&cols, cells, default_status) {
            Ok(r) => {
                let dup = good.iter().find(|(_, g)| {
                    g.content.question == r.content.question && g.content.lang == r.content.lang
                });
                match dup {
                    Some((first, _)) => bad.push((
                        n,
                        vec![RowError {
                            column: "问题",
                            message: format!("the same question as row {first}"),
                        }],
                    )),
                    None => good.push((n, r)),
                }
            }
            Err(e) => bad.push((n, e)),
        }
    }
    Ok((good, bad))
}

/// The cells of an entry in export order.
pub fn export_row(f: &Faq) -> Vec<String> {
    let c = &f.content;
    vec![
        c.question.clone(),
        c.variants.join("\n"),
        c.answer.clone(),
        c.category.clone(),
        c.tags.join(","),
        c.lang.as_str().to_owned(),
        f.status.as_str().to_owned(),
        c.intent.clone().unwrap_or_default(),
    ]
}

/// Writes entries as CSV (UTF-8 with a BOM, so Excel shows Chinese) or XLSX.
pub fn write_sheet(faqs: &[Faq], format: SheetFormat) -> Result<Vec<u8>> {
    match format {
        SheetFormat::Csv => {
            let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
            w.write_record(EXPORT_HEADERS).context("writing CSV")?;
            for f in faqs {
                w.write_record(export_row(f)).context("writing CSV")?;
            }
            w.into_inner().map_err(|e| Error::Internal(anyhow::anyhow!("writing CSV: {e}")))
        }
        SheetFormat::Xlsx => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            ws.set_name("FAQ").context("naming the sheet")?;
            let wrap = rust_xlsxwriter::Format::new().set_text_wrap();
            for (c, h) in EXPORT_HEADERS.iter().enumerate() {
                ws.write_string(0, c as u16, *h).context("writing XLSX")?;
            }
            for (r, f) in faqs.iter().enumerate() {
                for (c, v) in export_row(f).iter().enumerate() {
                    ws.write_string_with_format(r as u32 + 1, c as u16, v, &wrap)
                        .context("writing XLSX")?;
                }
            }
            ws.set_column_width(0, 30).context("writing XLSX")?;
            ws.set_column_width(1, 40).context("writing XLSX")?;
            ws.set_column_width(2, 60).context("writing XLSX")?;
            Ok(wb.save_to_buffer().context("writing XLSX")?)
        }
    }
}

impl App {
    /// Imports an FAQ spreadsheet: checks every row, stores the good ones in one transaction
    /// (unless `dry_run`) and reports the bad ones. Rows without a 状态 column get
    /// `default_status`.
    pub async fn import_faqs(
        &self,
        b: &BotEditor,
        bytes: &[u8],
        format: SheetFormat,
        default_status: KbStatus,
        dry_run: bool,
    ) -> Result<ImportReport> {
        let rows = read_sheet(bytes, format)?;
        let (good, errors) = check_rows(&rows, default_status)?;
        let n = good.len() + errors.len();
        let good: Vec<_> = good.into_iter().map(|(_, r)| r).collect();
        let n_good = good.len();
        let (created, updated) = if dry_run {
            let mut c = self.db.read().await?;
            let existing = db::knowledge::faq_list(&mut c, b.workspace).await?;
            let updated = good
                .iter()
                .filter(|r| {
                    existing.iter().any(|f| {
                        f.content.question == r.content.question && f.content.lang == r.content.lang
                    })
                })
                .count();
            (n_good - updated, updated)
        } else if good.is_empty() {
            (0, 0)
        } else {
            self.store_import(b, good).await?
        };
        Ok(ImportReport {
            dry_run,
            rows: n,
            created,
            updated,
            unchanged: n_good - created - updated,
            errors,
        })
    }

    /// Every FAQ entry of the workspace as a spreadsheet.
    pub async fn export_faqs(&self, s: &Staff, format: SheetFormat) -> Result<Vec<u8>> {
        let faqs = self.list_faqs(s, None).await?;
        write_sheet(&faqs, format)
    }
}

#[cfg(test)]
mod tests {
    use domain::{Actor, FaqContent, FaqId, KbLang, Timestamp, WorkspaceId};

    use super::*;

    fn faq(q: &str, variants: &[&str], answer: &str) -> Faq {
        Faq {
            id: FaqId::new(Timestamp::from_millis(1), 1),
            workspace: WorkspaceId::new(Timestamp::from_millis(1), 1),
            content: FaqContent {
                question: q.into(),
                variants: variants.iter().map(|s| s.to_string()).collect(),
                answer: answer.into(),
                category: "售后".into(),
                channels: vec![],
                valid_from: None,
                valid_to: None,
                tags: vec!["退货".into(), "政策".into()],
                lang: KbLang::Zh,
                intent: None,
            },
            status: KbStatus::Published,
            version: 1,
            created_at: Timestamp::from_millis(1),
            created_by: Actor::System,
            updated_at: Timestamp::from_millis(1),
            updated_by: Actor::System,
        }
    }

    #[test]
    fn csv_and_xlsx_round_trip() {
        let f = faq("怎么退货", &["退货流程", "如何退货, 急"], "第一行\n第二行，含\"引号\"");
        for format in [SheetFormat::Csv, SheetFormat::Xlsx] {
            let bytes = write_sheet(std::slice::from_ref(&f), format).unwrap();
            assert_eq!(SheetFormat::sniff(&bytes), format);
            let rows = read_sheet(&bytes, format).unwrap();
            let (good, bad) = check_rows(&rows, KbStatus::Draft).unwrap();
            assert!(bad.is_empty(), "{format:?}: {bad:?}");
            assert_eq!(good.len(), 1);
            assert_eq!(good[0].0, 2, "the first data row is row 2");
            assert_eq!(good[0].1.content, f.content, "{format:?}");
            assert_eq!(good[0].1.status, KbStatus::Published);
        }
    }

    #[test]
    fn gbk_csv_and_bad_rows() {
        let text = "问题,相似问法,答案,分类\n怎么开发票,开票|发票,在订单页申请,发票\n,x,没有问题,发票\n怎么开发票,,重复,发票\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let rows = read_sheet(&gbk, SheetFormat::Csv).unwrap();
        let (good, bad) = check_rows(&rows, KbStatus::Draft).unwrap();
        assert_eq!(good.len(), 1);
        assert_eq!(good[0].1.content.variants, ["开票", "发票"]);
        assert_eq!(good[0].1.status, KbStatus::Draft);
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert_eq!((bad[0].0, bad[0].1[0].column), (3, "问题"));
        // Blank lines in a CSV are skipped by the reader and not counted (known limitation).
        assert_eq!(bad[1].0, 4);
        assert!(bad[1].1[0].message.contains("row 2"), "{bad:?}");
        assert!(check_rows(&[vec!["a".into(), "b".into()]], KbStatus::Draft).is_err());
        assert!(read_sheet(b"PK\x03\x04garbage", SheetFormat::Xlsx).is_err());
    }
}
