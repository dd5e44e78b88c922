//! HTML mail bodies to plain text. The HTML is first sanitised by ammonia (scripts, styles,
//! attributes, comments and unknown tags dropped; only a few structural tags survive), then
//! the sanitised, well-formed result is flattened to text: block tags become line breaks,
//! `<blockquote>` (quoted history in most clients) is dropped, entities are decoded.

use std::collections::HashSet;

/// Structural tags kept by the sanitiser; everything else is unwrapped to its text.
const KEEP: &[&str] = &["p", "br", "div", "blockquote", "li", "tr", "h1", "h2", "h3", "h4", "hr"];

/// Sanitised HTML (the safe subset of `html`): no attributes, only [`KEEP`] tags.
pub fn sanitize(html: &str) -> String {
    let tags: HashSet<&str> = KEEP.iter().copied().collect();
    ammonia::Builder::empty()
        .tags(tags)
        .clean_content_tags(["script", "style", "head", "title"].into_iter().collect())
        .clean(html)
        .to_string()
}

/// The text of an HTML body, without its quoted history.
pub fn to_text(html: &str) -> String {
    let clean = sanitize(html);
    let mut out = String::with_capacity(clean.len());
    let mut quote_depth = 0usize;
    let mut rest = clean.as_str();
    while let Some(lt) = rest.find('<') {
        if quote_depth == 0 {
            out.push_str(&decode_entities(&rest[..lt]));
        }
        let Some(gt) = rest[lt..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        rest = &rest[lt + gt + 1..];
        let (closing, name) = match tag.strip_prefix('/') {
            Some(n) => (true, n),
            None => (false, tag.trim_end_matches('/').trim()),
        };
        if name == "blockquote" {
            quote_depth = if closing { quote_depth.saturating_sub(1) } else { quote_depth + 1 };
        }
        if quote_depth == 0 && (name != "br" || !closing) && !out.ends_with("\n\n") {
            out.push('\n');
        }
    }
    if quote_depth == 0 {
        out.push_str(&decode_entities(rest));
    }
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut text = String::new();
    let mut blank = 0;
    for l in lines {
        let l = l.trim_start_matches('\u{a0}');
        if l.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        text.push_str(l.trim());
    }
    text
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| entity(&rest[1..e]));
        match (end, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(h) => u32::from_str_radix(h, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code).filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_scripts_and_quotes_and_decodes() {
        let html = r#"<html><head><style>p{}</style></head><body>
            <p onclick="x()">您好，<b>订单</b> &amp; 发票&#65281;</p>
            <script>alert(1)</script><div>Line 2<br>Line 3</div>
            <blockquote type="cite"><p>old reply</p><blockquote>older</blockquote></blockquote>
            <img src="javascript:alert(1)"><p>Bye &lt;3</p></body></html>"#;
        let text = to_text(html);
        assert_eq!(text, "您好，订单 & 发票！\n\nLine 2\nLine 3\n\nBye <3");
        assert!(!sanitize(html).contains("script"));
        assert!(!sanitize(html).contains("onclick"));
    }

    #[test]
    fn garbage_is_text() {
        assert_eq!(to_text("a < b & c"), "a < b & c");
        assert_eq!(to_text(""), "");
        assert_eq!(to_text("&#0; &#x110000; &bogus;"), "\u{fffd} \u{fffd} &bogus;");
    }
}
