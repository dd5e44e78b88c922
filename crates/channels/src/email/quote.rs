//! Strips the quoted history that mail clients append below a reply, so a message stores only
//! what the customer wrote now. Recognises `>` quotes, "On … wrote:" (also wrapped over two
//! lines), Chinese clients' "在 … 写道：" and "-----原始邮件-----", Outlook's
//! "-----Original Message-----", its underscore rule and its From/Sent header block (in
//! English and Chinese), and Gmail's "---------- Forwarded message" is left alone.

/// The text above the first quote marker, trimmed. If nothing would remain, the text is kept.
pub fn strip_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let cut = first_quote_line(&lines).unwrap_or(lines.len());
    let kept = lines[..cut].join("\n");
    let kept = kept.trim();
    if kept.is_empty() { text.trim().to_string() } else { kept.to_string() }
}

fn first_quote_line(lines: &[&str]) -> Option<usize> {
    for (i, raw) in lines.iter().enumerate() {
        let l = raw.trim();
        if is_separator(l) {
            return Some(i);
        }
        // "On Tue, 1 Dec 2026 at 10:00, Alice <a@b> wrote:" possibly wrapped onto the next line.
        if starts_with_ci(l, "on ") {
            if l.ends_with("wrote:") {
                return Some(i);
            }
            if let Some(next) = lines.get(i + 1)
                && next.trim().ends_with("wrote:")
                && l.chars().count() < 200
            {
                return Some(i);
            }
        }
        if l.starts_with('在') && (l.ends_with("写道：") || l.ends_with("写道:")) {
            return Some(i);
        }
        if is_header_block(lines, i) {
            return Some(i);
        }
        // A trailing run of `>` lines (possibly with blank lines between) is quoted history.
        if l.starts_with('>')
            && lines[i..].iter().all(|x| x.trim().is_empty() || x.trim_start().starts_with('>'))
        {
            return Some(i);
        }
    }
    None
}

fn is_separator(l: &str) -> bool {
    let inner = l.trim_matches(|c| c == '-' || c == ' ');
    let dashed = l.starts_with("--") && l.ends_with("--") && l.len() > 4;
    (dashed
        && (inner.eq_ignore_ascii_case("original message")
            || inner == "原始邮件"
            || inner == "原始郵件"
            || inner == "回复的原邮件"))
        || (l.len() >= 20 && l.chars().all(|c| c == '_'))
}

/// Outlook's reply header: a "From:" / "发件人:" line followed within three lines by a
/// "Sent:" / "Date:" / "发送时间:" / "日期:" line.
fn is_header_block(lines: &[&str], i: usize) -> bool {
    let l = lines[i].trim().trim_start_matches('*');
    let from = ["from:", "发件人:", "发件人：", "寄件者:", "寄件者："];
    if !from.iter().any(|p| starts_with_ci(l, p)) {
        return false;
    }
    let sent = ["sent:", "date:", "发送时间:", "发送时间：", "日期:", "日期：", "时间:", "时间："];
    lines.iter().skip(i + 1).take(3).any(|n| {
        let n = n.trim().trim_start_matches('*');
        sent.iter().any(|p| starts_with_ci(n, p))
    })
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len()).is_some_and(|h| h.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::strip_quoted;

    #[test]
    fn english_clients() {
        let gmail = "Thanks, that worked.\n\nOn Tue, Dec 1, 2026 at 10:00 AM Support <s@x.test> wrote:\n> Try again\n> please";
        assert_eq!(strip_quoted(gmail), "Thanks, that worked.");
        let wrapped =
            "Yes\n\nOn Tue, Dec 1, 2026 at 10:00 AM Support Team\n<s@x.test> wrote:\n> hi";
        assert_eq!(strip_quoted(wrapped), "Yes");
        let outlook = "Still broken.\n\n________________________________\nFrom: Support <s@x.test>\nSent: Tuesday\nTo: me\nSubject: Re: x\n\nold";
        assert_eq!(strip_quoted(outlook), "Still broken.");
        let outlook2 = "ok\n\n-----Original Message-----\nFrom: a\nold";
        assert_eq!(strip_quoted(outlook2), "ok");
        let header_only = "fine\n\nFrom: Support <s@x.test>\nSent: Tuesday\nold";
        assert_eq!(strip_quoted(header_only), "fine");
        let quotes = "I agree\n\n> previous\n>\n> more";
        assert_eq!(strip_quoted(quotes), "I agree");
    }

    #[test]
    fn chinese_clients() {
        let qq = "收到，谢谢！\n\n------------------ 原始邮件 ------------------\n发件人: \"客服\"<s@x.test>\n发送时间: 2026年12月1日\n旧内容";
        assert_eq!(strip_quoted(qq), "收到，谢谢！");
        let netease = "好的\n\n-----原始邮件-----\n发件人：客服\n旧内容";
        assert_eq!(strip_quoted(netease), "好的");
        let apple = "还是不行\n\n在 2026年12月1日 10:00，客服 <s@x.test> 写道：\n> 请重试";
        assert_eq!(strip_quoted(apple), "还是不行");
        let foxmail = "已处理\n\n发件人：客服\n日期：2026-12-01\n旧";
        assert_eq!(strip_quoted(foxmail), "已处理");
    }

    #[test]
    fn keeps_unquoted_and_all_quoted_text() {
        assert_eq!(
            strip_quoted("hello\n> inline quote\nmy answer"),
            "hello\n> inline quote\nmy answer"
        );
        assert_eq!(strip_quoted("> only a quote"), "> only a quote");
        assert_eq!(strip_quoted("From: the shop I bought it at"), "From: the shop I bought it at");
    }
}
