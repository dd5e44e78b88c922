//! The knowledge base (BOT-2): FAQ entries (a canonical question, its variants, an answer with
//! template variables), longer articles, their version history, and the agents' reply-template
//! library (话术库). Also the pure parts of importing a company's FAQ spreadsheet: header
//! mapping, splitting of variants, and one row checked into one entry or a list of errors.

use crate::{
    Actor, ArticleId, Channel, FaqId, ParseError, ReplyTemplateId, Timestamp, WorkspaceId,
    named_enum,
};

named_enum! {
    /// Drafts are visible to staff only; the bot answers from published entries.
    pub enum KbStatus("status") {
        Draft = "draft",
        Published = "published",
    }
}

named_enum! {
    /// The language an entry answers in; the bot prefers entries in the customer's language.
    pub enum KbLang("lang") {
        Zh = "zh",
        En = "en",
    }
}

pub const MAX_QUESTION_CHARS: usize = 200;
pub const MAX_VARIANTS: usize = 50;
pub const MAX_ANSWER_CHARS: usize = 5000;
pub const MAX_ARTICLE_CHARS: usize = 50_000;
pub const MAX_TAGS: usize = 20;

/// The variables an answer or a reply template may use, filled from the customer, the ticket,
/// the agent and the workspace.
pub const TEMPLATE_VARIABLES: &[&str] = &[
    "customer.name",
    "customer.phone",
    "customer.email",
    "customer.tier",
    "ticket.no",
    "ticket.subject",
    "ticket.status",
    "ticket.stage",
    "agent.name",
    "workspace.name",
];

/// What an FAQ entry says; every version keeps one of these.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqContent {
    pub question: String,
    /// Other ways customers ask the same thing (not including `question`).
    pub variants: Vec<String>,
    /// Rich text (Markdown) with `{{customer.name}}`-style variables.
    pub answer: String,
    pub category: String,
    /// Channels the entry answers on; empty means every channel.
    pub channels: Vec<Channel>,
    pub valid_from: Option<Timestamp>,
    pub valid_to: Option<Timestamp>,
    pub tags: Vec<String>,
    pub lang: KbLang,
    /// The intent this entry answers, if the workspace's classifier knows one.
    pub intent: Option<String>,
}

impl FaqContent {
    /// Checks and normalises every field; the first problem is returned with its field.
    pub fn parse(self) -> Result<FaqContent, ParseError> {
        let question = one_line("question", &self.question, MAX_QUESTION_CHARS)?;
        let variants = parse_variants(&question, &self.variants)?;
        let answer = parse_rich("answer", &self.answer, MAX_ANSWER_CHARS)?;
        let category = short("category", &self.category, 64)?;
        let tags = parse_tags(&self.tags)?;
        if let (Some(f), Some(t)) = (self.valid_from, self.valid_to)
            && t <= f
        {
            return Err(ParseError::new("valid_to", "must be later than valid_from"));
        }
        let intent = match self.intent.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(i) => Some(
                crate::bot::parse_intent_name(i)
                    .map_err(|e| ParseError { field: "intent", reason: e.reason })?,
            ),
        };
        let mut channels = self.channels;
        channels.sort();
        channels.dedup();
        Ok(FaqContent { question, variants, answer, category, channels, tags, intent, ..self })
    }

    /// The question and its variants, the texts a customer's message is matched against.
    pub fn all_questions(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.question.as_str()).chain(self.variants.iter().map(String::as_str))
    }

    /// Whether the entry applies at `now` on `channel` (None: any channel).
    pub fn applies(&self, now: Timestamp, channel: Option<Channel>) -> bool {
        self.valid_from.is_none_or(|f| f <= now)
            && self.valid_to.is_none_or(|t| now < t)
            && channel.is_none_or(|c| self.channels.is_empty() || self.channels.contains(&c))
    }
}

/// An FAQ entry: its current content, status and version.
#[derive(Debug, Clone, PartialEq)]
pub struct Faq {
    pub id: FaqId,
    pub workspace: WorkspaceId,
    pub content: FaqContent,
    pub status: KbStatus,
    /// 1 on creation, +1 on every edit, publish and unpublish.
    pub version: i64,
    pub created_at: Timestamp,
    pub created_by: Actor,
    pub updated_at: Timestamp,
    pub updated_by: Actor,
}

/// What an article says.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleContent {
    pub title: String,
    /// Rich text (Markdown).
    pub body: String,
    pub category: String,
    pub tags: Vec<String>,
    pub lang: KbLang,
}

impl ArticleContent {
    pub fn parse(self) -> Result<ArticleContent, ParseError> {
        Ok(ArticleContent {
            title: one_line("title", &self.title, MAX_QUESTION_CHARS)?,
            body: parse_rich("body", &self.body, MAX_ARTICLE_CHARS)?,
            category: short("category", &self.category, 64)?,
            tags: parse_tags(&self.tags)?,
            lang: self.lang,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub id: ArticleId,
    pub workspace: WorkspaceId,
    pub content: ArticleContent,
    pub status: KbStatus,
    pub version: i64,
    pub created_at: Timestamp,
    pub created_by: Actor,
    pub updated_at: Timestamp,
    pub updated_by: Actor,
}

/// What one version of an item held.
#[derive(Debug, Clone, PartialEq)]
pub enum KbContent {
    Faq(FaqContent),
    Article(ArticleContent),
}

named_enum! {
    /// What made a version.
    pub enum KbAction("action") {
        Create = "create",
        Edit = "edit",
        Publish = "publish",
        Unpublish = "unpublish",
        Import = "import",
        Delete = "delete",
    }
}

/// One entry of an item's history; every edit is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct KbVersion {
    pub version: i64,
    pub action: KbAction,
    pub status: KbStatus,
    pub content: KbContent,
    pub actor: Actor,
    pub at: Timestamp,
}

/// A reply in the agents' library (话术库), with variables filled when used.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyTemplate {
    pub id: ReplyTemplateId,
    pub workspace: WorkspaceId,
    /// Unique in the workspace, e.g. `道歉-物流延迟`.
    pub name: String,
    pub body: String,
    pub category: String,
    pub tags: Vec<String>,
    pub lang: KbLang,
    pub created_at: Timestamp,
    pub created_by: Actor,
    pub updated_at: Timestamp,
}

/// A template's fields, checked.
pub fn parse_template(
    name: &str,
    body: &str,
    category: &str,
    tags: &[String],
) -> Result<(String, String, String, Vec<String>), ParseError> {
    Ok((
        short("name", name, 64)?,
        parse_rich("body", body, MAX_ANSWER_CHARS)?,
        short("category", category, 64)?,
        parse_tags(tags)?,
    ))
}

/// Confidence thresholds of FAQ matching, per workspace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchSettings {
    /// At or above: answer with the best entry.
    pub answer_threshold: f64,
    /// At or above (and below `answer_threshold`): offer the top choices to confirm.
    pub confirm_threshold: f64,
}

impl MatchSettings {
    pub fn parse(answer: f64, confirm: f64) -> Result<MatchSettings, ParseError> {
        if !(0.0..=1.0).contains(&answer) || answer.is_nan() {
            return Err(ParseError::new("answer_threshold", "a number from 0 to 1"));
        }
        if !(0.0..=1.0).contains(&confirm) || confirm.is_nan() {
            return Err(ParseError::new("confirm_threshold", "a number from 0 to 1"));
        }
        if confirm > answer {
            return Err(ParseError::new("confirm_threshold", "must not be above answer_threshold"));
        }
        Ok(MatchSettings { answer_threshold: answer, confirm_threshold: confirm })
    }
}

fn one_line(field: &'static str, s: &str, max: usize) -> Result<String, ParseError> {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match t.chars().count() {
        0 => Err(ParseError::new(field, "must not be empty")),
        n if n > max => Err(ParseError::new(field, format!("at most {max} characters (has {n})"))),
        _ => Ok(t),
    }
}

fn short(field: &'static str, s: &str, max: usize) -> Result<String, ParseError> {
    let t = s.trim();
    if t.chars().count() > max {
        return Err(ParseError::new(field, format!("at most {max} characters")));
    }
    if t.chars().any(char::is_control) {
        return Err(ParseError::new(field, "no line breaks or control characters"));
    }
    Ok(t.to_owned())
}

fn parse_rich(field: &'static str, s: &str, max: usize) -> Result<String, ParseError> {
    let t = s.trim().replace("\r\n", "\n");
    match t.chars().count() {
        0 => return Err(ParseError::new(field, "must not be empty")),
        n if n > max => {
            return Err(ParseError::new(field, format!("at most {max} characters (has {n})")));
        }
        _ => {}
    }
    check_variables(field, &t)?;
    Ok(t)
}

fn parse_variants(question: &str, raw: &[String]) -> Result<Vec<String>, ParseError> {
    let mut out: Vec<String> = Vec::new();
    for v in raw {
        let v = one_line("variants", v, MAX_QUESTION_CHARS)
            .map_err(|e| ParseError::new("variants", format!("each variant: {}", e.reason)))?;
        if v != question && !out.contains(&v) {
            out.push(v);
        }
    }
    if out.len() > MAX_VARIANTS {
        return Err(ParseError::new("variants", format!("at most {MAX_VARIANTS} variants")));
    }
    Ok(out)
}

fn parse_tags(raw: &[String]) -> Result<Vec<String>, ParseError> {
    let mut out: Vec<String> = Vec::new();
    for t in raw {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 32 || t.chars().any(|c| c.is_control() || c == ',') {
            return Err(ParseError::new(
                "tags",
                format!("{t:?}: at most 32 characters, no commas"),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    if out.len() > MAX_TAGS {
        return Err(ParseError::new("tags", format!("at most {MAX_TAGS} tags")));
    }
    Ok(out)
}

/// The `{{name}}` placeholders of a text, in order, or an error naming a malformed or unknown
/// one.
pub fn variables_of(field: &'static str, text: &str) -> Result<Vec<String>, ParseError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(ParseError::new(field, "a \"{{\" is never closed with \"}}\""));
        };
        let name = after[..end].trim();
        if !TEMPLATE_VARIABLES.contains(&name) {
            return Err(ParseError::new(
                field,
                format!(
                    "unknown variable {{{{{name}}}}}; known: {}",
                    TEMPLATE_VARIABLES.join(", ")
                ),
            ));
        }
        out.push(name.to_owned());
        rest = &after[end + 2..];
    }
    Ok(out)
}

fn check_variables(field: &'static str, text: &str) -> Result<(), ParseError> {
    variables_of(field, text).map(|_| ())
}

/// A text with its variables filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// Variables the lookup had no value for.
    pub missing: Vec<String>,
}

/// Fills `{{name}}` placeholders from `lookup`. A missing value leaves the placeholder as it is
/// when `keep_missing` (an agent fills it in) and the empty string otherwise (a customer never
/// sees braces). Texts are checked when stored, so nothing here fails.
pub fn render(text: &str, keep_missing: bool, lookup: impl Fn(&str) -> Option<String>) -> Rendered {
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = after[..end].trim();
        match lookup(name) {
            Some(v) => out.push_str(&v),
            None => {
                if !missing.iter().any(|m| m == name) {
                    missing.push(name.to_owned());
                }
                if keep_missing {
                    out.push_str(&rest[start..start + 2 + end + 2]);
                }
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Rendered { text: out, missing }
}

// ---- Import rows ---------------------------------------------------------------------------

/// The columns of an FAQ spreadsheet, found by header (Chinese or English, any order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportColumns {
    pub question: usize,
    pub answer: usize,
    pub variants: Option<usize>,
    pub category: Option<usize>,
    pub tags: Option<usize>,
    pub lang: Option<usize>,
    pub status: Option<usize>,
    pub intent: Option<usize>,
}

/// The header names export writes, in order.
pub const EXPORT_HEADERS: &[&str] =
    &["问题", "相似问法", "答案", "分类", "标签", "语言", "状态", "意图"];

impl ImportColumns {
    /// Finds the columns in a header row; 问题 and 答案 (or question and answer) are required.
    pub fn from_headers(headers: &[String]) -> Result<ImportColumns, ParseError> {
        let find = |names: &[&str]| {
            headers.iter().position(|h| {
                let h = h.trim().trim_start_matches('\u{feff}').to_lowercase();
                names.iter().any(|n| h == *n)
            })
        };
        let question = find(&["问题", "标准问题", "标准问", "question"]);
        let answer = find(&["答案", "回答", "标准答案", "answer"]);
        let (Some(question), Some(answer)) = (question, answer) else {
            return Err(ParseError::new(
                "header",
                "the first row must name the columns; 问题 (question) and 答案 (answer) are required, \
                 相似问法 (variants), 分类 (category), 标签 (tags), 语言 (lang), 状态 (status) and 意图 (intent) are optional",
            ));
        };
        Ok(ImportColumns {
            question,
            answer,
            variants: find(&["相似问法", "相似问题", "相似问", "问法", "variants"]),
            category: find(&["分类", "类别", "category"]),
            tags: find(&["标签", "tags"]),
            lang: find(&["语言", "lang", "language"]),
            status: find(&["状态", "status"]),
            intent: find(&["意图", "intent"]),
        })
    }

    fn header(&self, field: &str) -> &'static str {
        match field {
            "question" => "问题",
            "answer" => "答案",
            "variants" => "相似问法",
            "category" => "分类",
            "tags" => "标签",
            "lang" => "语言",
            "status" => "状态",
            "intent" => "意图",
            _ => "",
        }
    }
}

/// What is wrong with one cell of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The header of the column, as in the export (问题, 答案, …).
    pub column: &'static str,
    pub message: String,
}

/// One good row of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub content: FaqContent,
    pub status: KbStatus,
}

/// Splits a cell of variants on line breaks, `|`, `｜`, `；` and `;`.
pub fn split_variants(cell: &str) -> Vec<String> {
    cell.split(['\n', '\r', '|', '｜', '；', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Splits a cell of tags on commas (`,`, `，`, `、`), `|` and `;`.
pub fn split_tags(cell: &str) -> Vec<String> {
    cell.split([',', '，', '、', '|', ';', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks one data row; `Err` lists every problem of the row.
pub fn parse_import_row(
    cols: &ImportColumns,
    cells: &[String],
    default_status: KbStatus,
) -> Result<ImportRow, Vec<RowError>> {
    let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|s| s.trim()).unwrap_or("");
    let mut errors = Vec::new();
    let lang = match cell(cols.lang) {
        "" => KbLang::Zh,
        "中文" | "zh-cn" | "zh-CN" => KbLang::Zh,
        "英文" | "english" | "English" => KbLang::En,
        s => KbLang::parse(&s.to_lowercase()).unwrap_or_else(|e| {
            errors.push(RowError { column: "语言", message: e.reason });
            KbLang::Zh
        }),
    };
    let status = match cell(cols.status) {
        "" => default_status,
        "草稿" => KbStatus::Draft,
        "已发布" | "发布" => KbStatus::Published,
        s => KbStatus::parse(&s.to_lowercase()).unwrap_or_else(|e| {
            errors.push(RowError { column: "状态", message: e.reason });
            default_status
        }),
    };
    let content = FaqContent {
        question: cell(Some(cols.question)).to_owned(),
        variants: split_variants(cell(cols.variants)),
        answer: cell(Some(cols.answer)).to_owned(),
        category: cell(cols.category).to_owned(),
        channels: Vec::new(),
        valid_from: None,
        valid_to: None,
        tags: split_tags(cell(cols.tags)),
        lang,
        intent: Some(cell(cols.intent).to_owned()).filter(|s| !s.is_empty()),
    };
    match content.clone().parse() {
        Ok(c) if errors.is_empty() => return Ok(ImportRow { content: c, status }),
        Ok(_) => {}
        Err(e) => {
            errors.push(RowError { column: cols.header(e.field), message: e.reason });
            // Report further problems too: check the remaining fields with the failed one fixed.
            let mut fixed = content;
            for _ in 0..6 {
                match e_field_fix(&mut fixed, errors.last().map(|r| r.column).unwrap_or("")) {
                    false => break,
                    true => match fixed.clone().parse() {
                        Ok(_) => break,
                        Err(e2) => {
                            let col = cols.header(e2.field);
                            if errors.iter().any(|r| r.column == col) {
                                break;
                            }
                            errors.push(RowError { column: col, message: e2.reason });
                        }
                    },
                }
            }
        }
    }
    Err(errors)
}

/// Replaces the field under `column` with a valid placeholder, so the next check reaches the
/// next field; false when there is nothing to replace.
fn e_field_fix(c: &mut FaqContent, column: &str) -> bool {
    match column {
        "问题" => c.question = "?".into(),
        "答案" => c.answer = "?".into(),
        "相似问法" => c.variants.clear(),
        "分类" => c.category.clear(),
        "标签" => c.tags.clear(),
        "意图" => c.intent = None,
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> ImportColumns {
        let h: Vec<String> =
            ["分类", "问题", "相似问法", "答案", "标签"].iter().map(|s| s.to_string()).collect();
        ImportColumns::from_headers(&h).unwrap()
    }

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn headers_in_any_order_and_language() {
        let c = cols();
        assert_eq!((c.question, c.answer, c.variants, c.category), (1, 3, Some(2), Some(0)));
        let en: Vec<String> = ["Answer", "Question"].iter().map(|s| s.to_string()).collect();
        let c = ImportColumns::from_headers(&en).unwrap();
        assert_eq!((c.question, c.answer, c.variants), (1, 0, None));
        let bad: Vec<String> = vec!["问题".into(), "备注".into()];
        let e = ImportColumns::from_headers(&bad).unwrap_err();
        assert!(e.reason.contains("答案"), "{e}");
    }

    #[test]
    fn variants_split_on_every_separator() {
        assert_eq!(
            split_variants("怎么退货\n退货流程|如何退货；退货怎么弄; 退货怎么弄 ｜ "),
            ["怎么退货", "退货流程", "如何退货", "退货怎么弄", "退货怎么弄"]
        );
        assert_eq!(split_tags("退货, 售后，政策、 "), ["退货", "售后", "政策"]);
    }

    #[test]
    fn a_good_row() {
        let r = parse_import_row(
            &cols(),
            &row(&[
                "售后",
                " 怎么退货 ",
                "怎么退货\n退货流程|如何退货",
                "七天无理由…",
                "退货,售后",
            ]),
            KbStatus::Published,
        )
        .unwrap();
        assert_eq!(r.content.question, "怎么退货");
        assert_eq!(r.content.variants, ["退货流程", "如何退货"], "the question is not a variant");
        assert_eq!(r.content.tags, ["退货", "售后"]);
        assert_eq!(r.content.lang, KbLang::Zh);
        assert_eq!(r.status, KbStatus::Published);
    }

    #[test]
    fn a_bad_row_lists_every_problem() {
        let e = parse_import_row(
            &cols(),
            &row(&["售后", "", "退货", "您好 {{customer.nmae}}", ""]),
            KbStatus::Published,
        )
        .unwrap_err();
        let columns: Vec<&str> = e.iter().map(|r| r.column).collect();
        assert_eq!(columns, ["问题", "答案"], "{e:?}");
        assert!(e[1].message.contains("customer.nmae"), "{e:?}");
        let e =
            parse_import_row(&cols(), &row(&["", "问", "", "", ""]), KbStatus::Draft).unwrap_err();
        assert_eq!(e[0].column, "答案");
        assert!(e[0].message.contains("empty"));
    }

    #[test]
    fn rendering_fills_known_and_reports_missing() {
        let look = |n: &str| (n == "customer.name").then(|| "王女士".to_string());
        let r = render("{{customer.name}}您好，单号{{ ticket.no }}。", false, look);
        assert_eq!(r.text, "王女士您好，单号。");
        assert_eq!(r.missing, ["ticket.no"]);
        let r = render("{{customer.name}}您好，单号{{ ticket.no }}。", true, look);
        assert_eq!(r.text, "王女士您好，单号{{ ticket.no }}。");
        assert!(variables_of("answer", "{{x}}").unwrap_err().reason.contains("unknown variable"));
        assert!(variables_of("answer", "{{customer.name").is_err());
        assert_eq!(variables_of("answer", "a {{agent.name}} b").unwrap(), ["agent.name"]);
    }

    #[test]
    fn content_checks() {
        let c = FaqContent {
            question: "  怎么  开发票 ".into(),
            variants: vec!["怎么 开发票".into(), "发票".into(), "发票".into()],
            answer: "在订单页申请".into(),
            category: String::new(),
            channels: vec![Channel::App, Channel::WebChat, Channel::App],
            valid_from: Some(Timestamp::from_millis(10)),
            valid_to: Some(Timestamp::from_millis(20)),
            tags: vec![],
            lang: KbLang::Zh,
            intent: Some(" Invoice ".into()),
        }
        .parse()
        .unwrap();
        assert_eq!(c.question, "怎么 开发票");
        assert_eq!(c.variants, ["发票"]);
        assert_eq!(c.intent.as_deref(), Some("invoice"));
        assert_eq!(c.channels.len(), 2);
        assert!(c.applies(Timestamp::from_millis(10), Some(Channel::App)));
        assert!(!c.applies(Timestamp::from_millis(20), None));
        assert!(!c.applies(Timestamp::from_millis(15), Some(Channel::Email)));
        let bad = FaqContent { valid_to: Some(Timestamp::from_millis(5)), ..c };
        assert_eq!(bad.parse().unwrap_err().field, "valid_to");
        assert!(MatchSettings::parse(0.5, 0.7).is_err());
        assert!(MatchSettings::parse(0.7, 0.5).is_ok());
    }
}
