//! The XSS corpus (`xss_corpus.txt`, OWASP cheat-sheet style: script tags, event handlers,
//! `javascript:` and `data:` URLs, SVG and MathML, entity- and percent-encoded variants, parser
//! confusion) through the email HTML sanitiser. Each output is tokenized by html5ever, the
//! parser browsers' algorithm is written from, and must hold no executable markup: no tag
//! outside the sanitiser's structural set and no attribute at all.

use std::cell::RefCell;

use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

const CORPUS: &str = include_str!("xss_corpus.txt");
const ALLOWED: &[&str] =
    &["p", "br", "div", "blockquote", "li", "tr", "h1", "h2", "h3", "h4", "hr"];

#[derive(Default)]
struct Sink(RefCell<Vec<String>>);

impl TokenSink for Sink {
    type Handle = ();
    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut problems = self.0.borrow_mut();
        match token {
            Token::TagToken(t) => {
                let name = t.name.to_string();
                if !ALLOWED.contains(&name.as_str()) {
                    problems.push(format!("tag <{name}>"));
                }
                for a in &t.attrs {
                    problems.push(format!("attribute {}={:?} on <{name}>", a.name.local, a.value));
                }
                let _ = t.kind == TagKind::StartTag;
            }
            Token::CommentToken(c) => problems.push(format!("comment {c:?}")),
            Token::DoctypeToken(_) => problems.push("doctype".into()),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

fn problems(html: &str) -> Vec<String> {
    let tok = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let q = BufferQueue::default();
    q.push_back(html.into());
    let _ = tok.feed(&q);
    tok.end();
    tok.sink.0.take()
}

pub fn corpus() -> Vec<&'static str> {
    CORPUS.lines().filter(|l| !l.trim().is_empty()).collect()
}

#[test]
fn the_corpus_is_large_and_the_checker_sees_markup() {
    assert!(corpus().len() >= 40);
    // The checker itself flags what it must (so a passing run means something).
    assert!(!problems("<img src=x onerror=alert(1)>").is_empty());
    assert!(!problems("<p onclick=x>").is_empty());
    assert!(problems("<p>hi</p><br>").is_empty());
}

#[test]
fn sanitised_email_html_holds_no_executable_markup() {
    let mut failures = Vec::new();
    for p in corpus() {
        // Alone, and wrapped as a mail body would be.
        for html in [p.to_string(), format!("<html><body><div>你好{p}谢谢</div></body></html>")]
        {
            let clean = channels::email::html::sanitize(&html);
            let found = problems(&clean);
            if !found.is_empty() {
                failures.push(format!("{p:?} → {clean:?}: {found:?}"));
            }
            // The text flattening never resurrects script content.
            let text = channels::email::html::to_text(&html);
            if text.contains("alert(document.cookie)") && p.contains("<script>") {
                failures.push(format!("{p:?}: script content survived as text"));
            }
        }
    }
    assert!(failures.is_empty(), "executable markup survived:\n{}", failures.join("\n"));
}
