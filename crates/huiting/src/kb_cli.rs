//! `huiting kb …`: import an FAQ spreadsheet into a workspace from the command line, rebuild a
//! workspace's similar-solved-tickets rows, and tune the matcher's thresholds on an FAQ file's
//! held-out variants (no database).

use std::{path::PathBuf, sync::Arc};

use anyhow::Context as _;
use app::{
    auth::{BotEditor, Capability, Principal},
    bot::kb_io::{self, SheetFormat},
};
use clap::Subcommand;
use domain::{Actor, KbStatus, Role};
use search::{
    Doc, DocKind, KbIndex, Matcher,
    matching::{Case, Entry, TuneReport, tune},
};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Imports a CSV or XLSX FAQ spreadsheet (问题, 相似问法, 答案, 分类, 标签…) into a
    /// workspace; bad rows are reported and not stored.
    Import {
        file: PathBuf,
        /// The workspace's slug.
        #[arg(long)]
        workspace: String,
        /// Check and report without storing.
        #[arg(long)]
        dry_run: bool,
        /// Status of rows without a 状态 column: draft or published.
        #[arg(long, default_value = "published")]
        status: String,
    },
    /// Rebuilds a workspace's similar-solved-tickets rows (agent assist) from its solved and
    /// closed tickets and their messages; running servers catch up at their next suggestion.
    ReindexSimilar {
        /// The workspace's slug.
        #[arg(long)]
        workspace: String,
    },
    /// Chooses the matcher's blend and thresholds on an FAQ file: one variant of each entry
    /// is held out and asked, plus out-of-scope messages that must not match.
    Tune {
        /// The FAQ spreadsheet (default: the demo FAQ).
        #[arg(long)]
        faq: Option<PathBuf>,
        /// Out-of-scope messages, one per line (default: the demo's).
        #[arg(long)]
        negatives: Option<PathBuf>,
    },
}

pub const DEMO_FAQ: &[u8] = include_bytes!("../data/demo_faq.csv");
pub const DEMO_NEGATIVES: &str = include_str!("../data/kb_tune_negatives.txt");

fn format_of(path: &std::path::Path, bytes: &[u8]) -> SheetFormat {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("xlsx") => SheetFormat::Xlsx,
        Some("csv") => SheetFormat::Csv,
        _ => SheetFormat::sniff(bytes),
    }
}

#[allow(clippy::print_stdout)] // The command's report is its output.
pub async fn run(command: KbCommand, config: &Config) -> anyhow::Result<std::process::ExitCode> {
    match command {
        KbCommand::Import { file, workspace, dry_run, status } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let format = format_of(&file, &bytes);
            let status = KbStatus::parse(&status).map_err(|e| anyhow::anyhow!("{e}"))?;
            let db = crate::connect(config).await?;
            let app = app::App::new(db, Arc::new(app::SystemClock), config.app_settings());
            let ws = app.workspace_by_slug(&workspace).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let editor = BotEditor::from_principal(Principal {
                workspace: ws.id,
                actor: Actor::System,
                role: Role::Admin,
                user: None,
                department: None,
                teams: Vec::new(),
                csrf_token: None,
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(format!("importing {} into {}", file.display(), ws.slug));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            let r = app
                .import_faqs(&editor, &bytes, format, status, dry_run)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            bar.finish_and_clear();
            println!(
                "{}{} rows: {} created, {} updated, {} unchanged, {} rejected",
                if r.dry_run { "dry run: " } else { "" },
                r.rows,
                r.created,
                r.updated,
                r.unchanged,
                r.errors.len()
            );
            for (row, errs) in &r.errors {
                for e in errs {
                    println!("  row {row}, {}: {}", e.column, e.message);
                }
            }
            return Ok(if r.errors.is_empty() {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(1)
            });
        }
        KbCommand::ReindexSimilar { workspace } => {
            let db = crate::connect(config).await?;
            let app = app::App::new(db, Arc::new(app::SystemClock), config.app_settings());
            let ws = app.workspace_by_slug(&workspace).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let t = std::time::Instant::now();
            let n = app.reindex_similar_in(ws.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}: {n} solved tickets indexed in {:.1} s",
                ws.slug,
                t.elapsed().as_secs_f64()
            );
        }
        KbCommand::Tune { faq, negatives } => {
            let bytes = match &faq {
                Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
                None => DEMO_FAQ.to_vec(),
            };
            let format = faq.as_deref().map_or(SheetFormat::Csv, |p| format_of(p, &bytes));
            let negatives = match &negatives {
                Some(p) => std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?,
                None => DEMO_NEGATIVES.to_owned(),
            };
            let r = tune_file(&bytes, format, &negatives)?;
            print_report(&r);
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)]
fn print_report(r: &TuneReport) {
    println!("held-out variants: {}, out-of-scope messages: {}", r.positives, r.negatives);
    println!("alpha (n-gram cosine weight): {:.2}", r.alpha);
    println!("answer threshold:  {:.3}", r.answer_threshold);
    println!("confirm threshold: {:.3}", r.confirm_threshold);
    println!("top-1 accuracy: {:.1} %   top-3: {:.1} %", r.top1 * 100.0, r.top3 * 100.0);
    println!(
        "answered directly: {:.1} % of held-out (precision {:.1} %)",
        r.answered * 100.0,
        r.answer_precision * 100.0
    );
    println!("answered or offered to confirm: {:.1} %", r.answered_or_confirmed * 100.0);
    println!("out-of-scope rejected: {:.1} %", r.negatives_rejected * 100.0);
}

/// Holds out the last variant of every entry with at least two, indexes the rest, and tunes on
/// the held-out variants plus the negatives.
pub fn tune_file(bytes: &[u8], format: SheetFormat, negatives: &str) -> anyhow::Result<TuneReport> {
    let rows = kb_io::read_sheet(bytes, format).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (good, bad) =
        kb_io::check_rows(&rows, KbStatus::Published).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some((row, e)) = bad.first() {
        anyhow::bail!("row {row}: {}: {}", e[0].column, e[0].message);
    }
    let index = KbIndex::new()?;
    let mut docs = Vec::new();
    let mut entries = Vec::new();
    let mut held = Vec::new();
    for (i, (_, r)) in good.iter().enumerate() {
        let id = format!("faq{i}");
        let mut variants = r.content.variants.clone();
        if variants.len() >= 2
            && let Some(v) = variants.pop()
        {
            held.push((id.clone(), v));
        }
        docs.push(Doc {
            id: id.clone(),
            kind: DocKind::Faq,
            version: 1,
            title: r.content.question.clone(),
            variants: variants.clone(),
            body: r.content.answer.clone(),
            category: r.content.category.clone(),
            tags: r.content.tags.clone(),
            lang: r.content.lang.as_str().to_owned(),
            published: true,
        });
        let mut questions = vec![r.content.question.clone()];
        questions.extend(variants);
        entries.push(Entry {
            id,
            questions,
            lang: r.content.lang.as_str().to_owned(),
            intent: None,
        });
    }
    index.rebuild(&docs)?;
    let matcher = Matcher::new(entries);
    let case = |q: &str, expected: Option<String>| -> anyhow::Result<Case> {
        let bm25 = index.question_scores(q, true, 30)?;
        let parts = matcher
            .parts(q, &bm25, None)
            .into_iter()
            .map(|p| (matcher.entries()[p.entry].id.clone(), p))
            .collect();
        Ok(Case { expected, parts })
    };
    let mut cases = Vec::new();
    for (id, q) in &held {
        cases.push(case(q, Some(id.clone()))?);
    }
    for line in negatives.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        cases.push(case(line, None)?);
    }
    Ok(tune(&cases, 0.0))
}
