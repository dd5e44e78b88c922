//! Entities: order numbers, phones, emails, money, dates (absolute and relative), products.
//!
//! [`Extractor::new`] compiles a workspace's [`EntityConfig`] once (the only step that can fail,
//! on a bad order-number pattern); [`Extractor::extract`] then runs on every message and never
//! fails or panics. It works in three steps:
//!
//! 1. Normalise: full-width ASCII (`１３８`, `ＡＢＣ`, `＠`) becomes ASCII and the ideographic space a
//!    space, keeping a byte map back to the original text.
//! 2. Propose: every recogniser (a regex plus a function that reads its captures into a value, or
//!    the product catalogue's Aho-Corasick automaton) proposes candidates. A candidate that begins
//!    (ends) with an ASCII letter or digit must not be preceded (followed) by one, so "13800138000"
//!    is never found inside a longer digit run and "today" never inside "todays".
//! 3. Resolve: one span, one entity. The longest candidate wins; on equal spans the more specific
//!    kind wins (product > email > money > date > phone > order number), so an 11-digit mobile
//!    number is a phone even though the default order pattern also accepts 11 digits, unless
//!    "订单", "单号" or "order" comes just before it ("订单号13800138000" is an order number).
//!
//! **Invariant:** returned spans are byte offsets on char boundaries of the original text, sorted
//! and non-overlapping, and `text[start..end] == entity.text`.

mod dates;
mod money;
mod numbers;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::{Captures, Regex, RegexBuilder};
use time::Date;

/// Order-number patterns used by [`EntityConfig::default`]: a one-to-four letter prefix plus
/// 8–20 digits ("DD20261102001") and bare 10–20 digit numbers.
pub const DEFAULT_ORDER_PATTERNS: &[&str] = &[r"[A-Z]{1,4}[0-9]{8,20}", r"[0-9]{10,20}"];

/// What a workspace knows about its own entities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityConfig {
    /// Regexes for order numbers, matched case-insensitively on normalised text. `\b` means an
    /// ASCII word boundary, so `\b[A-Z]{2}\d{10}\b` still matches right after Chinese text.
    pub order_patterns: Vec<String>,
    /// The product catalogue.
    pub products: Vec<Product>,
}

impl Default for EntityConfig {
    fn default() -> Self {
        Self {
            order_patterns: DEFAULT_ORDER_PATTERNS.iter().map(|p| (*p).to_owned()).collect(),
            products: Vec::new(),
        }
    }
}

/// One catalogue entry. The SKU, the name and every alias are matched (case-insensitively for
/// Latin letters; "iPhone 15 Pro" also as "iphone15pro").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub sku: String,
    /// The display name, e.g. "iPhone 15 Pro" or "小米洗衣机".
    pub name: String,
    /// Other names customers use: "苹果15 Pro", "15pro".
    pub aliases: Vec<String>,
}

/// Why a configuration could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    OrderPattern { pattern: String, reason: String },
    Catalogue { reason: String },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::OrderPattern { pattern, reason } => {
                write!(f, "invalid order-number pattern `{pattern}`: {reason}")
            }
            ConfigError::Catalogue { reason } => write!(f, "invalid product catalogue: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// An entity found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub kind: EntityKind,
    /// Byte offset into the original text.
    pub start: usize,
    /// Byte offset into the original text (exclusive).
    pub end: usize,
    /// The original text of the span.
    pub text: String,
    pub value: EntityValue,
}

/// What an entity is; its [`EntityValue`] variant follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    OrderNo,
    Phone,
    Email,
    Money,
    Date,
    Product,
}

/// The normalised meaning of an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityValue {
    /// Order numbers uppercased; phones as digits without separators (Chinese numbers without
    /// +86, others as `+` and the country code); emails lowercased.
    Text(String),
    /// An amount in minor units (fen, cents).
    Money {
        minor_units: i64,
        currency: Currency,
    },
    /// An inclusive range of days; a single day has `from == to`.
    Date {
        from: Date,
        to: Date,
    },
    Product {
        sku: String,
    },
}

/// Currencies with a recognised marker; all have two decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Currency {
    Cny,
    Usd,
    Hkd,
    Eur,
}

impl Currency {
    /// The ISO 4217 code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Cny => "CNY",
            Currency::Usd => "USD",
            Currency::Hkd => "HKD",
            Currency::Eur => "EUR",
        }
    }
}

/// A workspace's compiled recognisers. Build once per configuration and share (it is `Send` and
/// `Sync`); building takes milliseconds, extracting microseconds.
#[derive(Debug)]
pub struct Extractor {
    rules: Vec<Rule>,
    products: Option<Catalogue>,
}

#[derive(Debug)]
struct Catalogue {
    automaton: AhoCorasick,
    /// The SKU for each automaton pattern.
    skus: Vec<String>,
}

/// A regex and the function that reads one of its matches into a value (or rejects it).
struct Rule {
    kind: EntityKind,
    re: Regex,
    read: fn(&Captures<'_>, &Ctx<'_>) -> Option<EntityValue>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule").field("kind", &self.kind).field("re", &self.re.as_str()).finish()
    }
}

impl Rule {
    /// Builds a rule from one of this module's own patterns, which the tests compile.
    fn builtin(
        kind: EntityKind,
        pattern: &str,
        read: fn(&Captures<'_>, &Ctx<'_>) -> Option<EntityValue>,
    ) -> Rule {
        #[allow(clippy::expect_used)] // a built-in pattern; every one is compiled by every test
        let re = Regex::new(pattern).expect("built-in entity pattern compiles");
        Rule { kind, re, read }
    }
}

/// What a rule's reader may look at besides its captures.
struct Ctx<'a> {
    /// The normalised text.
    text: &'a str,
    today: Date,
}

impl Ctx<'_> {
    fn char_before(&self, at: usize) -> Option<char> {
        self.text.get(..at)?.chars().next_back()
    }

    fn char_after(&self, at: usize) -> Option<char> {
        self.text.get(at..)?.chars().next()
    }
}

struct Candidate {
    kind: EntityKind,
    /// Breaks ties between equal spans; higher wins.
    rank: u8,
    start: usize,
    end: usize,
    value: EntityValue,
}

impl Extractor {
    /// Compiles a configuration. Fails only on an invalid order-number pattern (the error names
    /// it) or an unbuildable catalogue.
    pub fn new(config: &EntityConfig) -> Result<Extractor, ConfigError> {
        let mut rules = Vec::new();
        for pattern in &config.order_patterns {
            let re = RegexBuilder::new(&ascii_word_boundaries(pattern))
                .case_insensitive(true)
                .build()
                .map_err(|e| ConfigError::OrderPattern {
                    pattern: pattern.clone(),
                    reason: e.to_string(),
                })?;
            rules.push(Rule { kind: EntityKind::OrderNo, re, read: read_order });
        }
        rules.extend(builtin_rules());
        let products = Catalogue::new(&config.products)?;
        Ok(Extractor { rules, products })
    }

    /// Finds the entities in `text`, sorted by position. Relative dates ("昨天", "last Friday")
    /// are resolved against `today`.
    pub fn extract(&self, text: &str, today: Date) -> Vec<Entity> {
        let norm = Normalised::new(text);
        let ctx = Ctx { text: &norm.text, today };
        let mut candidates = Vec::new();
        for rule in &self.rules {
            for caps in rule.re.captures_iter(ctx.text) {
                let Some(m) = caps.get(0) else { continue };
                if m.is_empty() || !ascii_boundaries_ok(ctx.text, m.start(), m.end()) {
                    continue;
                }
                if let Some(value) = (rule.read)(&caps, &ctx) {
                    let rank = match rule.kind {
                        EntityKind::OrderNo if after_order_keyword(ctx.text, m.start()) => {
                            ORDER_IN_CONTEXT
                        }
                        kind => specificity(kind),
                    };
                    candidates.push(Candidate {
                        kind: rule.kind,
                        rank,
                        start: m.start(),
                        end: m.end(),
                        value,
                    });
                }
            }
        }
        if let Some(catalogue) = &self.products {
            catalogue.propose(ctx.text, &mut candidates);
        }
        resolve(candidates)
            .into_iter()
            .filter_map(|c| {
                let (start, end) = (norm.original(c.start)?, norm.original(c.end)?);
                let span = text.get(start..end)?;
                Some(Entity { kind: c.kind, start, end, text: span.to_owned(), value: c.value })
            })
            .collect()
    }
}

fn builtin_rules() -> Vec<Rule> {
    let mut rules = vec![
        // Chinese mobiles: 13800138000, 138-0013-8000, 138 0013 8000, +86 138…, 0086…, 86…
        Rule::builtin(
            EntityKind::Phone,
            r"(?:(?:\+|00)86[ -]?|86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}",
            read_phone,
        ),
        // Chinese landlines: 010-12345678, (0755) 1234567, 02112345678; 400/800 hotlines.
        Rule::builtin(
            EntityKind::Phone,
            r"\(0(?:10|2[0-9]|[3-9][0-9]{2})\)[ -]?[0-9]{7,8}|0(?:10|2[0-9]|[3-9][0-9]{2})[ -]?[0-9]{7,8}|[48]00[ -]?[0-9]{3}[ -]?[0-9]{4}",
            read_phone,
        ),
        // International: +1 415-555-2671, +44 20 7946 0958.
        Rule::builtin(
            EntityKind::Phone,
            r"\+[1-9][0-9]{0,2}(?:[ -]?(?:\([0-9]{1,4}\)|[0-9]{1,4})){2,5}",
            read_phone,
        ),
        Rule::builtin(
            EntityKind::Email,
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
            |caps, _| Some(EntityValue::Text(caps.get(0)?.as_str().to_lowercase())),
        ),
    ];
    rules.extend(money::rules());
    rules.extend(dates::rules());
    rules
}

fn read_order(caps: &Captures<'_>, _: &Ctx<'_>) -> Option<EntityValue> {
    Some(EntityValue::Text(caps.get(0)?.as_str().to_uppercase()))
}

fn read_phone(caps: &Captures<'_>, _: &Ctx<'_>) -> Option<EntityValue> {
    let raw = caps.get(0)?.as_str();
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let international = raw.starts_with('+') || raw.starts_with("00");
    let national = digits.strip_prefix("0086").or_else(|| digits.strip_prefix("86"));
    if let Some(mobile) = national.filter(|m| m.len() == 11 && m.starts_with('1')) {
        return Some(EntityValue::Text(mobile.to_owned()));
    }
    if international {
        let digits = digits.strip_prefix("00").unwrap_or(&digits);
        return (8..=15).contains(&digits.len()).then(|| EntityValue::Text(format!("+{digits}")));
    }
    Some(EntityValue::Text(digits))
}

/// Rewrites `\b` and `\B` in a user pattern to their ASCII forms: with Unicode `\b`, Chinese
/// characters are word characters, so `\bDD\d+` would never match in "订单DD2026…".
fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push_str(r"(?-u:\b)"),
            Some('B') => out.push_str(r"(?-u:\B)"),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn ascii_boundaries_ok(text: &str, start: usize, end: usize) -> bool {
    let (Some(before), Some(inside), Some(after)) =
        (text.get(..start), text.get(start..end), text.get(end..))
    else {
        return false;
    };
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let glued_at_start = alnum(before.chars().next_back()) && alnum(inside.chars().next());
    let glued_at_end = alnum(inside.chars().next_back()) && alnum(after.chars().next());
    !glued_at_start && !glued_at_end
}

/// Orders kinds for equal spans: the more specific reading wins.
fn specificity(kind: EntityKind) -> u8 {
    match kind {
        EntityKind::Product => 5,
        EntityKind::Email => 4,
        EntityKind::Money => 3,
        EntityKind::Date => 2,
        EntityKind::Phone => 1,
        EntityKind::OrderNo => 0,
    }
}

/// The rank of an order number announced as one: above every kind.
const ORDER_IN_CONTEXT: u8 = 6;

/// Whether "订单", "单号" or "order" appears within the few characters before `at`.
fn after_order_keyword(text: &str, at: usize) -> bool {
    let Some(before) = text.get(..at) else { return false };
    let window: String =
        before.chars().rev().take(10).collect::<Vec<_>>().into_iter().rev().collect();
    let window = window.to_ascii_lowercase();
    ["订单", "单号", "order"].iter().any(|k| window.contains(k))
}

/// Keeps a non-overlapping subset of candidates: longest first, then most specific, then
/// leftmost, then the first proposed. Returns them sorted by position.
fn resolve(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| {
        (b.end - b.start)
            .cmp(&(a.end - a.start))
            .then(b.rank.cmp(&a.rank))
            .then(a.start.cmp(&b.start))
    });
    // Accepted spans, start → end; they never overlap, so only the last one starting before a
    // candidate's end can overlap it.
    let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
    let mut kept = Vec::new();
    for c in candidates {
        let overlaps = taken.range(..c.end).next_back().is_some_and(|(_, &end)| end > c.start);
        if !overlaps {
            taken.insert(c.start, c.end);
            kept.push(c);
        }
    }
    kept.sort_by_key(|c| c.start);
    kept
}

impl Catalogue {
    fn new(products: &[Product]) -> Result<Option<Catalogue>, ConfigError> {
        let mut patterns: Vec<String> = Vec::new();
        let mut skus = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for product in products {
            let names = std::iter::once(&product.sku)
                .chain(std::iter::once(&product.name))
                .chain(&product.aliases);
            for name in names {
                let name = Normalised::new(name.trim()).text.into_owned();
                let squeezed: String = name.chars().filter(|c| !c.is_whitespace()).collect();
                let latin = name.chars().any(|c| c.is_ascii_alphanumeric());
                for pattern in [Some(name.clone()), latin.then_some(squeezed)].into_iter().flatten()
                {
                    // The first product to claim a name keeps it.
                    if !pattern.is_empty() && seen.insert(pattern.to_ascii_lowercase()) {
                        patterns.push(pattern);
                        skus.push(product.sku.clone());
                    }
                }
            }
        }
        if patterns.is_empty() {
            return Ok(None);
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| ConfigError::Catalogue { reason: e.to_string() })?;
        Ok(Some(Catalogue { automaton, skus }))
    }

    fn propose(&self, text: &str, candidates: &mut Vec<Candidate>) {
        for m in self.automaton.find_overlapping_iter(text) {
            let (start, end) = (m.start(), m.end());
            if !text.is_char_boundary(start)
                || !text.is_char_boundary(end)
                || !ascii_boundaries_ok(text, start, end)
            {
                continue;
            }
            let Some(sku) = self.skus.get(m.pattern().as_usize()) else { continue };
            candidates.push(Candidate {
                kind: EntityKind::Product,
                rank: specificity(EntityKind::Product),
                start,
                end,
                value: EntityValue::Product { sku: sku.clone() },
            });
        }
    }
}

/// Text with full-width ASCII folded to ASCII, and a way back to the original byte offsets.
struct Normalised<'a> {
    text: Cow<'a, str>,
    /// For each byte of `text` (and one past the end), the original byte offset; `None` when
    /// nothing changed.
    map: Option<Vec<usize>>,
}

impl<'a> Normalised<'a> {
    fn new(original: &'a str) -> Normalised<'a> {
        if !original.chars().any(|c| fold(c).is_some()) {
            return Normalised { text: Cow::Borrowed(original), map: None };
        }
        let mut text = String::with_capacity(original.len());
        let mut map = Vec::with_capacity(original.len() + 1);
        for (at, c) in original.char_indices() {
            let c = fold(c).unwrap_or(c);
            text.push(c);
            map.extend(std::iter::repeat_n(at, c.len_utf8()));
        }
        map.push(original.len());
        Normalised { text: Cow::Owned(text), map: Some(map) }
    }

    fn original(&self, at: usize) -> Option<usize> {
        match &self.map {
            None => Some(at),
            Some(map) => map.get(at).copied(),
        }
    }
}

/// Full-width ASCII (U+FF01–U+FF5E) and the ideographic space to their ASCII forms.
fn fold(c: char) -> Option<char> {
    match c {
        '\u{3000}' => Some(' '),
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0),
        _ => None,
    }
}
