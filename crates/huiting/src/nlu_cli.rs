//! `huiting nlu …`: train, evaluate and try the language engine on TSV files, without a
//! database. The benchmark scripts read `eval --json` and `sentiment-eval --json`.
//!
//! Latency is the full analysis of one message (`nlu::analyze`: language, intents, sentiment,
//! entities), measured here with `Instant` because `nlu` reads no clock.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use domain::Clock as _;
use indicatif::{ProgressBar, ProgressStyle};
use nlu::{
    classifier::{Classifier, Embedder, Stage, TrainConfig},
    entities::{EntityConfig, Extractor},
    sentiment::{Polarity, SentimentModel},
    text::Segmenter,
};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum NluCommand {
    /// Trains an intent classifier on one TSV file (`text<TAB>label`) and scores it on another.
    /// Label `oos` marks out-of-scope messages.
    Eval(EvalArgs),
    /// Trains a sentiment model on one TSV file and scores it on another (labels 0/1,
    /// negative/neutral/positive or 负面/中性/正面).
    SentimentEval(EvalArgs),
    /// Trains a model and writes it to a file.
    Train(TrainArgs),
    /// Analyses one message: language, intents, sentiment, entities.
    Try(TryArgs),
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Training examples, `text<TAB>label` per line.
    #[arg(long)]
    train: PathBuf,
    /// Test examples, same format.
    #[arg(long)]
    test: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// A sentence-encoder directory (config.json, tokenizer.json, model.safetensors) whose
    /// vectors join the features; needs a build with `--features embeddings`.
    #[arg(long, value_name = "DIR")]
    encoder: Option<PathBuf>,
    /// Weight of the encoder's vector beside the n-gram features (default: the classifier's).
    #[arg(long, requires = "encoder")]
    embed_weight: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Intent,
    Sentiment,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training examples, `text<TAB>label` per line.
    #[arg(long)]
    train: PathBuf,
    /// Where to write the model.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "intent")]
    kind: Kind,
    /// A sentence-encoder directory (intent models; `--features embeddings`). Pass the same
    /// `--encoder` to `nlu try` with the written model.
    #[arg(long, value_name = "DIR")]
    encoder: Option<PathBuf>,
    /// Weight of the encoder's vector beside the n-gram features (default: the classifier's).
    #[arg(long, requires = "encoder")]
    embed_weight: Option<f32>,
}

#[derive(Debug, Args)]
pub struct TryArgs {
    /// The message to analyse.
    text: String,
    /// An intent model written by `huiting nlu train`.
    #[arg(long)]
    model: Option<PathBuf>,
    /// A sentiment model written by `huiting nlu train --kind sentiment` (default: built-in).
    #[arg(long)]
    sentiment_model: Option<PathBuf>,
    #[arg(long)]
    json: bool,
    /// The sentence-encoder directory the intent model was trained with (`--features
    /// embeddings`).
    #[arg(long, value_name = "DIR")]
    encoder: Option<PathBuf>,
}

const OOS: &str = "oos";

#[allow(clippy::print_stdout)] // The subcommands report on stdout.
pub fn run(command: NluCommand) -> anyhow::Result<()> {
    let today = app::bot::nlu::today(app::SystemClock.now());
    match command {
        NluCommand::Eval(a) => {
            let report = eval_intents(&a, today)?;
            print_report(&report, a.json);
        }
        NluCommand::SentimentEval(a) => {
            if a.encoder.is_some() {
                bail!(
                    "--encoder applies to intent models (`nlu eval`, `nlu train`), not sentiment"
                );
            }
            let report = eval_sentiment(&a, today)?;
            print_report(&report, a.json);
        }
        NluCommand::Train(a) => train(&a)?,
        NluCommand::Try(a) => {
            let seg = Segmenter::default();
            let intents = match &a.model {
                Some(p) => Some(
                    Classifier::from_bytes(&read_bytes(p)?)
                        .with_context(|| format!("{}: not an intent model", p.display()))?,
                ),
                None => None,
            };
            let sentiment = match &a.sentiment_model {
                Some(p) => SentimentModel::from_bytes(&read_bytes(p)?)
                    .with_context(|| format!("{}: not a sentiment model", p.display()))?,
                None => SentimentModel::builtin(),
            };
            let encoder = encoder::load(a.encoder.as_deref())?;
            let encoder = encoder.as_ref().map(|e| e as &dyn Embedder);
            check_encoder(intents.as_ref(), encoder)?;
            let entities = Extractor::new(&EntityConfig::default())?;
            let models = nlu::Models {
                segmenter: &seg,
                intents: intents.as_ref(),
                encoder,
                sentiment: &sentiment,
                entities: &entities,
            };
            let analysis = nlu::analyze(&models, &a.text, today);
            let dto = http_api::dto::AnalysisDto::from(&analysis);
            if a.json {
                println!("{}", serde_json::to_string_pretty(&dto)?);
            } else {
                print!("{}", describe(&dto));
            }
        }
    }
    Ok(())
}

/// Reads `text<TAB>label` lines: blank lines are skipped; the label follows the last TAB.
pub fn read_tsv(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8(raw)
        .map_err(|e| anyhow::anyhow!("{}: not UTF-8 ({e})", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let Some((t, label)) = line.rsplit_once('\t') else {
            bail!("{}:{}: no TAB; each line is text<TAB>label", path.display(), i + 1);
        };
        let label = label.trim();
        if label.is_empty() {
            bail!("{}:{}: empty label after the TAB", path.display(), i + 1);
        }
        out.push((t.to_owned(), label.to_owned()));
    }
    if out.is_empty() {
        bail!("{}: no examples; expected lines of text<TAB>label", path.display());
    }
    Ok(out)
}

fn read_bytes(p: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
}

fn pairs(rows: &[(String, String)]) -> Vec<(&str, &str)> {
    rows.iter().map(|(t, l)| (t.as_str(), l.as_str())).collect()
}

/// A progress bar on stderr for training; indicatif hides it when stderr is not a terminal.
fn training_bar(hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>18} [{bar:40}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn show_stage(bar: &ProgressBar, stage: Stage) {
    let (msg, done, total) = match stage {
        Stage::Embed { done, total } => ("encoding", done, total),
        Stage::Select { done, total } => ("choosing features", done, total),
        Stage::Features { done, total } => ("features", done, total),
        Stage::Fold { done, total } => ("cross-validation", done, total),
        Stage::Final => ("final fit", 1, 1),
    };
    bar.set_message(msg);
    bar.set_length(total as u64);
    bar.set_position(done as u64);
}

/// The outcome of an evaluation, printed as a table or as one JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub in_scope_accuracy: Option<f64>,
    pub oos_recall: Option<f64>,
    pub train_seconds: f64,
    pub latency_p50_us: f64,
    pub latency_p99_us: f64,
    pub train_examples: usize,
    pub test_examples: usize,
    pub labels: usize,
    pub cv_accuracy: f64,
    pub threshold: Option<f64>,
    pub model_bytes: usize,
    pub load_ms: f64,
    /// With a sentence encoder (`--encoder`): its weight beside the n-grams.
    pub embed_weight: Option<f32>,
}

fn eval_intents(a: &EvalArgs, today: time::Date) -> anyhow::Result<Report> {
    let train_rows = read_tsv(&a.train)?;
    let test_rows = read_tsv(&a.test)?;
    let seg = Segmenter::default();
    let bar = training_bar(a.json);
    let started = Instant::now();
    let examples = pairs(&train_rows);
    let encoder = encoder::load(a.encoder.as_deref())?;
    let cfg = train_config(a.embed_weight);
    let embedder = encoder.as_ref().map(|e| e as &dyn Embedder);
    let model =
        Classifier::train_with(&seg, embedder, &examples, &cfg, &mut |s| show_stage(&bar, s))
            .with_context(|| format!("cannot train on {}", a.train.display()))?;
    let train_seconds = started.elapsed().as_secs_f64();
    let encoder = encoder.as_ref().map(|e| e as &dyn Embedder);
    bar.finish_and_clear();
    let bytes = model.to_bytes();
    let (model, load) = timed(|| Classifier::from_bytes(&bytes));
    let model = model.context("the model does not read back")?;

    let sentiment = SentimentModel::builtin();
    let entities = Extractor::new(&EntityConfig::default())?;
    let models = nlu::Models {
        segmenter: &seg,
        intents: Some(&model),
        encoder,
        sentiment: &sentiment,
        entities: &entities,
    };
    let with_oos = train_rows.iter().chain(&test_rows).any(|(_, l)| l == OOS);
    let mut predicted = Vec::with_capacity(test_rows.len());
    let mut in_scope = Vec::with_capacity(test_rows.len());
    let mut latencies = Vec::with_capacity(test_rows.len());
    for (text, _) in &test_rows {
        let (analysis, took) = timed(|| nlu::analyze(&models, text, today));
        latencies.push(took);
        let p = analysis.intent.context("analysis without the intent model's prediction")?;
        let top = p.top.first().map(|s| s.label.clone()).unwrap_or_default();
        predicted.push(if with_oos && !p.in_scope { OOS.to_owned() } else { top });
        in_scope.push(p.in_scope);
    }
    let gold: Vec<&str> = test_rows.iter().map(|(_, l)| l.as_str()).collect();
    let predicted: Vec<&str> = predicted.iter().map(String::as_str).collect();
    let has_oos_rows = gold.contains(&OOS);
    let (in_scope_accuracy, oos_recall) = if has_oos_rows {
        let share = |want_oos: bool| {
            let rows: Vec<usize> =
                (0..gold.len()).filter(|&i| (gold[i] == OOS) == want_oos).collect();
            let hits = rows
                .iter()
                .filter(|&&i| {
                    if want_oos { !in_scope[i] } else { in_scope[i] && predicted[i] == gold[i] }
                })
                .count();
            ratio(hits, rows.len())
        };
        (Some(share(false)), Some(share(true)))
    } else {
        (None, None)
    };
    let report = model.report();
    Ok(Report {
        accuracy: accuracy(&gold, &predicted),
        macro_f1: macro_f1(&gold, &predicted),
        in_scope_accuracy,
        oos_recall,
        train_seconds,
        latency_p50_us: percentile_us(&mut latencies, 0.50),
        latency_p99_us: percentile_us(&mut latencies, 0.99),
        train_examples: train_rows.len(),
        test_examples: test_rows.len(),
        labels: model.labels().len(),
        cv_accuracy: f64::from(report.cv_accuracy),
        threshold: Some(f64::from(model.threshold())),
        model_bytes: bytes.len(),
        load_ms: load.as_secs_f64() * 1e3,
        embed_weight: encoder.map(|_| cfg.embed_weight),
    })
}

fn eval_sentiment(a: &EvalArgs, today: time::Date) -> anyhow::Result<Report> {
    let train_rows = read_tsv(&a.train)?;
    let test_rows = read_tsv(&a.test)?;
    let seg = Segmenter::default();
    let bar = training_bar(a.json);
    let started = Instant::now();
    let model =
        SentimentModel::train(&seg, &pairs(&train_rows), &TrainConfig::default(), &mut |s| {
            show_stage(&bar, s)
        })
        .with_context(|| format!("cannot train on {}", a.train.display()))?;
    let train_seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let bytes = model.to_bytes();
    let (model, load) = timed(|| SentimentModel::from_bytes(&bytes));
    let model = model.context("the model does not read back")?;

    // Compare polarities, so a model trained on 0/1 is scored against 负面/正面 correctly.
    let norm =
        |l: &str| Polarity::from_label(l).map_or_else(|| l.to_owned(), |p| p.as_str().to_owned());
    let gold: Vec<String> = test_rows.iter().map(|(_, l)| norm(l)).collect();
    let predicted: Vec<String> =
        test_rows.iter().map(|(t, _)| norm(model.label(&seg, t))).collect();
    let gold: Vec<&str> = gold.iter().map(String::as_str).collect();
    let predicted: Vec<&str> = predicted.iter().map(String::as_str).collect();

    let entities = Extractor::new(&EntityConfig::default())?;
    let models = nlu::Models {
        segmenter: &seg,
        intents: None,
        encoder: None,
        sentiment: &model,
        entities: &entities,
    };
    let mut latencies: Vec<Duration> =
        test_rows.iter().map(|(t, _)| timed(|| nlu::analyze(&models, t, today)).1).collect();
    Ok(Report {
        accuracy: accuracy(&gold, &predicted),
        macro_f1: macro_f1(&gold, &predicted),
        in_scope_accuracy: None,
        oos_recall: None,
        train_seconds,
        latency_p50_us: percentile_us(&mut latencies, 0.50),
        latency_p99_us: percentile_us(&mut latencies, 0.99),
        train_examples: train_rows.len(),
        test_examples: test_rows.len(),
        labels: model.classifier().labels().len(),
        cv_accuracy: f64::from(model.classifier().report().cv_accuracy),
        threshold: None,
        model_bytes: bytes.len(),
        load_ms: load.as_secs_f64() * 1e3,
        embed_weight: None,
    })
}

#[allow(clippy::print_stdout)]
fn train(a: &TrainArgs) -> anyhow::Result<()> {
    let rows = read_tsv(&a.train)?;
    let seg = Segmenter::default();
    let bar = training_bar(false);
    let started = Instant::now();
    let mut progress = |s| show_stage(&bar, s);
    let context = || format!("cannot train on {}", a.train.display());
    let encoder = encoder::load(a.encoder.as_deref())?;
    if encoder.is_some() && a.kind != Kind::Intent {
        bail!("--encoder applies to intent models, not --kind sentiment");
    }
    let (bytes, labels, report) = match a.kind {
        Kind::Intent => {
            let examples = pairs(&rows);
            let cfg = train_config(a.embed_weight);
            let embedder = encoder.as_ref().map(|e| e as &dyn Embedder);
            let m = Classifier::train_with(&seg, embedder, &examples, &cfg, &mut progress)
                .with_context(context)?;
            (m.to_bytes(), m.labels().to_vec(), m.report())
        }
        Kind::Sentiment => {
            let m =
                SentimentModel::train(&seg, &pairs(&rows), &TrainConfig::default(), &mut progress)
                    .with_context(context)?;
            (m.to_bytes(), m.classifier().labels().to_vec(), m.classifier().report())
        }
    };
    let took = started.elapsed();
    bar.finish_and_clear();
    std::fs::write(&a.out, &bytes).with_context(|| format!("cannot write {}", a.out.display()))?;
    let load = match a.kind {
        Kind::Intent => timed(|| Classifier::from_bytes(&bytes).map(drop)),
        Kind::Sentiment => timed(|| SentimentModel::from_bytes(&bytes).map(drop)),
    };
    load.0.context("the written model does not read back")?;
    println!("wrote {} ({} bytes)", a.out.display(), bytes.len());
    println!("labels      {} ({})", labels.len(), labels.join(", "));
    println!("examples    {}", report.examples);
    println!("cv accuracy {:.4}", report.cv_accuracy);
    if let Some(r) = report.cv_oos_recall {
        println!("cv oos rec. {r:.4}");
    }
    println!("trained in  {:.2} s", took.as_secs_f64());
    println!("loads in    {:.2} ms", load.1.as_secs_f64() * 1e3);
    Ok(())
}

/// The default training configuration, with `--embed-weight` if given.
fn train_config(embed_weight: Option<f32>) -> TrainConfig {
    let mut cfg = TrainConfig::default();
    if let Some(w) = embed_weight {
        cfg.embed_weight = w;
    }
    cfg
}

/// An intent model trained with an encoder needs that encoder (one of the same dimension).
fn check_encoder(model: Option<&Classifier>, encoder: Option<&dyn Embedder>) -> anyhow::Result<()> {
    let want = model.map_or(0, Classifier::embed_dim);
    match encoder {
        Some(_) if model.is_none() => bail!("--encoder needs an intent model (--model)"),
        Some(e) if e.dim() != want && want == 0 => {
            bail!("the intent model was trained without a sentence encoder; drop --encoder")
        }
        Some(e) if e.dim() != want => bail!(
            "the intent model was trained with a {want}-dimensional encoder, --encoder gives {}",
            e.dim()
        ),
        None if want > 0 => bail!(
            "the intent model was trained with a sentence encoder ({want} dimensions); pass the \
             same --encoder DIR"
        ),
        _ => Ok(()),
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed())
}

fn ratio(hits: usize, total: usize) -> f64 {
    if total == 0 { 0.0 } else { hits as f64 / total as f64 }
}

/// The share of rows whose prediction equals the gold label.
pub fn accuracy(gold: &[&str], predicted: &[&str]) -> f64 {
    ratio(gold.iter().zip(predicted).filter(|(g, p)| g == p).count(), gold.len())
}

/// The unweighted mean over the gold labels of each label's F1 (precision against every
/// prediction of that label, recall against its gold rows).
pub fn macro_f1(gold: &[&str], predicted: &[&str]) -> f64 {
    let labels: BTreeSet<&str> = gold.iter().copied().collect();
    if labels.is_empty() {
        return 0.0;
    }
    let mut tp: BTreeMap<&str, usize> = BTreeMap::new();
    let mut gold_n: BTreeMap<&str, usize> = BTreeMap::new();
    let mut pred_n: BTreeMap<&str, usize> = BTreeMap::new();
    for (g, p) in gold.iter().zip(predicted) {
        *gold_n.entry(g).or_default() += 1;
        *pred_n.entry(p).or_default() += 1;
        if g == p {
            *tp.entry(g).or_default() += 1;
        }
    }
    let f1_sum: f64 = labels
        .iter()
        .map(|l| {
            let tp = tp.get(l).copied().unwrap_or(0);
            let precision = ratio(tp, pred_n.get(l).copied().unwrap_or(0));
            let recall = ratio(tp, gold_n.get(l).copied().unwrap_or(0));
            if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            }
        })
        .sum();
    f1_sum / labels.len() as f64
}

/// The nearest-rank percentile `q` (0 to 1) of the samples, in microseconds.
pub fn percentile_us(samples: &mut [Duration], q: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let rank = (q * samples.len() as f64).ceil() as usize;
    let i = rank.clamp(1, samples.len()) - 1;
    samples[i].as_secs_f64() * 1e6
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

pub fn report_json(r: &Report) -> serde_json::Value {
    json!({
        "accuracy": round(r.accuracy, 6),
        "macro_f1": round(r.macro_f1, 6),
        "in_scope_accuracy": r.in_scope_accuracy.map(|x| round(x, 6)),
        "oos_recall": r.oos_recall.map(|x| round(x, 6)),
        "train_seconds": round(r.train_seconds, 4),
        "latency_p50_us": round(r.latency_p50_us, 1),
        "latency_p99_us": round(r.latency_p99_us, 1),
        "train_examples": r.train_examples,
        "test_examples": r.test_examples,
        "labels": r.labels,
        "cv_accuracy": round(r.cv_accuracy, 6),
        "threshold": r.threshold.map(|x| round(x, 6)),
        "model_bytes": r.model_bytes,
        "load_ms": round(r.load_ms, 3),
        "encoder": r.embed_weight.is_some(),
        "embed_weight": r.embed_weight,
    })
}

#[allow(clippy::print_stdout)]
fn print_report(r: &Report, as_json: bool) {
    if as_json {
        println!("{}", report_json(r));
        return;
    }
    let pct = |x: f64| format!("{:.2} %", x * 100.0);
    let opt = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), pct);
    println!("{:<20} {}", "accuracy", pct(r.accuracy));
    println!("{:<20} {}", "macro F1", pct(r.macro_f1));
    println!("{:<20} {}", "in-scope accuracy", opt(r.in_scope_accuracy));
    println!("{:<20} {}", "out-of-scope recall", opt(r.oos_recall));
    println!("{:<20} {}", "CV accuracy (train)", pct(r.cv_accuracy));
    println!(
        "{:<20} {} train / {} test, {} labels",
        "examples", r.train_examples, r.test_examples, r.labels
    );
    println!("{:<20} {:.2} s", "training", r.train_seconds);
    println!(
        "{:<20} {:.0} µs p50, {:.0} µs p99",
        "analysis latency", r.latency_p50_us, r.latency_p99_us
    );
    println!("{:<20} {} bytes, loads in {:.2} ms", "model", r.model_bytes, r.load_ms);
}

/// A readable rendering of one analysis.
fn describe(a: &http_api::dto::AnalysisDto) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "language   {}", a.lang);
    match &a.intent {
        None => {
            let _ = writeln!(out, "intent     (no intent model; pass --model)");
        }
        Some(p) => {
            let verdict = p.intent.as_deref().unwrap_or("out of scope");
            let _ = writeln!(out, "intent     {verdict}");
            for s in &p.top {
                let _ = writeln!(out, "           {:<24} {:.3}", s.intent, s.confidence);
            }
        }
    }
    let s = &a.sentiment;
    let _ = write!(out, "sentiment  {} ({:+.2})", s.polarity, s.score);
    if s.strong_negative {
        let _ = write!(out, ", strong negative: {}", s.cues.join(", "));
    }
    out.push('\n');
    if a.entities.is_empty() {
        let _ = writeln!(out, "entities   none");
    }
    for e in &a.entities {
        let _ = writeln!(out, "entity     {:<9} {:<20} {}", e.kind, e.text, e.value);
    }
    out
}

mod encoder;
#[cfg(test)]
mod tests;
