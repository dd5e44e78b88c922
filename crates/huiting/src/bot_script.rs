//! The conversation-script format of `huiting bot test` (documented in `docs/bot-scripts.md`):
//! one line per step, actions (`customer:`, `press:`, `@open`, `@wait`) that make the bot take
//! a turn, checks on the latest turn (`bot:`, `not:`, `silent`, `buttons:`, `handoff:`,
//! `ticket:`, `intent:`, `lang:`, `match:`, `state:`) and directives (`@time`, `@vip`,
//! `@name`, `@connector`). Parsing is pure; running is `bot_cli`.

/// One line of a script, with its 1-based line number.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub no: usize,
    pub step: Step,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    // Directives
    /// The clock, as Unix milliseconds.
    Time(i64),
    Vip,
    Name(String),
    Connector(ConnectorMode),
    // Actions
    Open,
    Customer(String),
    Press(String),
    /// Advance the clock by this many milliseconds and run due background jobs.
    Wait(i64),
    // Checks
    Bot(String),
    Not(String),
    Silent,
    Buttons(Vec<String>),
    Handoff(Option<String>),
    Ticket(TicketCheck),
    Intent(Option<String>),
    Lang(String),
    Match(String),
    State(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorMode {
    Up,
    Down,
    Timeout,
}

/// `ticket: none`, or fields the ticket must have.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TicketCheck {
    pub none: bool,
    pub problem_code: Option<String>,
    pub urgency: Option<String>,
    pub severity: Option<String>,
    pub tag: Option<String>,
}

/// A parse error names the line and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

pub const MAX_WAIT_MS: i64 = 30 * 86_400_000;

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError { line, message: message.into() }
}

/// `2026-12-05T22:00+08:00` (seconds optional, `Z` for UTC) → Unix milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = s.split_once('T')?;
    let mut d = date.split('-');
    let y: i32 = d.next()?.parse().ok()?;
    let mo: u8 = d.next()?.parse().ok()?;
    let da: u8 = d.next()?.parse().ok()?;
    let (clock, offset_min) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0i64)
    } else {
        let i = rest.rfind(['+', '-'])?;
        let (c, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (c, sign * (oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?))
    };
    let mut c = clock.split(':');
    let h: u8 = c.next()?.parse().ok()?;
    let mi: u8 = c.next()?.parse().ok()?;
    let se: u8 = c.next().map_or(Some(0), |x| x.parse().ok())?;
    let date = time::Date::from_calendar_date(y, time::Month::try_from(mo).ok()?, da).ok()?;
    let t = time::Time::from_hms(h, mi, se).ok()?;
    let utc = time::PrimitiveDateTime::new(date, t).assume_utc().unix_timestamp();
    Some((utc - offset_min * 60) * 1000)
}

/// `90s`, `10m`, `2h`, `1d` → milliseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    let ms = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        _ => return None,
    };
    Some(n * ms).filter(|v| (1..=MAX_WAIT_MS).contains(v))
}

fn ticket_check(no: usize, rest: &str) -> Result<TicketCheck, ParseError> {
    let mut c = TicketCheck::default();
    if rest.trim() == "none" {
        c.none = true;
        return Ok(c);
    }
    if rest.trim() == "yes" {
        return Ok(c);
    }
    for pair in rest.split_whitespace() {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            err(no, format!("'{pair}': write key=value (problem_code, urgency, severity, tag)"))
        })?;
        let v = Some(v.to_owned());
        match k {
            "problem_code" | "code" => c.problem_code = v,
            "urgency" => c.urgency = v,
            "severity" => c.severity = v,
            "tag" => c.tag = v,
            _ => {
                return Err(err(
                    no,
                    format!(
                        "unknown ticket field '{k}'; use problem_code, urgency, severity or tag"
                    ),
                ));
            }
        }
    }
    Ok(c)
}

/// Parses a whole script. Blank lines and lines starting with `#` are ignored.
pub fn parse(text: &str) -> Result<Vec<Line>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let step = if let Some(d) = line.strip_prefix('@') {
            let (name, arg) = d.split_once(char::is_whitespace).unwrap_or((d, ""));
            let arg = arg.trim();
            match name {
                "time" => {
                    Step::Time(parse_time(arg).ok_or_else(|| {
                        err(no, "@time needs a time such as 2026-12-05T22:00+08:00")
                    })?)
                }
                "vip" => Step::Vip,
                "name" if !arg.is_empty() => Step::Name(arg.to_owned()),
                "connector" => Step::Connector(match arg {
                    "up" => ConnectorMode::Up,
                    "down" => ConnectorMode::Down,
                    "timeout" => ConnectorMode::Timeout,
                    _ => return Err(err(no, "@connector takes up, down or timeout")),
                }),
                "open" => Step::Open,
                "wait" => Step::Wait(parse_duration(arg).ok_or_else(|| {
                    err(no, "@wait needs a duration such as 90s, 10m, 2h (at most 30d)")
                })?),
                _ => {
                    return Err(err(
                        no,
                        format!(
                            "unknown directive '@{name}'; use @time, @vip, @name, @connector, @open or @wait"
                        ),
                    ));
                }
            }
        } else if line == "silent" {
            Step::Silent
        } else {
            let (key, value) = line.split_once(':').ok_or_else(|| {
                err(no, "expected 'customer: TEXT', 'bot: TEXT', another 'key: value' line, or a directive")
            })?;
            let value = value.trim();
            let need = |v: &str| {
                if v.is_empty() {
                    Err(err(no, format!("'{}:' needs a value", key.trim())))
                } else {
                    Ok(v.to_owned())
                }
            };
            match key.trim() {
                "customer" | "c" => Step::Customer(need(value)?),
                "press" => Step::Press(need(value)?),
                "bot" | "b" => Step::Bot(need(value)?),
                "not" => Step::Not(need(value)?),
                "buttons" => {
                    Step::Buttons(need(value)?.split('|').map(|b| b.trim().to_owned()).collect())
                }
                "handoff" => Step::Handoff(if value == "none" { None } else { Some(need(value)?) }),
                "ticket" => Step::Ticket(ticket_check(no, value)?),
                "intent" => Step::Intent(if value == "none" { None } else { Some(need(value)?) }),
                "lang" => Step::Lang(need(value)?),
                "match" => match value {
                    "answer" | "confirm" | "no_match" => Step::Match(value.to_owned()),
                    _ => return Err(err(no, "match: takes answer, confirm or no_match")),
                },
                "state" => Step::State(need(value)?),
                other => {
                    return Err(err(
                        no,
                        format!(
                            "unknown line '{other}:'; use customer, press, bot, not, buttons, handoff, ticket, intent, lang, match or state"
                        ),
                    ));
                }
            }
        };
        out.push(Line { no, step });
    }
    if !out
        .iter()
        .any(|l| matches!(l.step, Step::Customer(_) | Step::Press(_) | Step::Open | Step::Wait(_)))
    {
        return Err(err(1, "the script has no action (customer:, press:, @open or @wait)"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_line() {
        let s = "# order status\n@time 2026-12-05T22:00+08:00\n@vip\n@connector down\n\ncustomer: 我的订单到哪了\nbot: 订单号\nnot: 抱歉\nbuttons: 1 | 2\npress: 2\nhandoff: low_rating\nticket: problem_code=TD-01 urgency=urgent\nintent: none\nstate: human\n@wait 10m\nsilent\n";
        let l = parse(s).unwrap();
        assert_eq!(l[0], Line { no: 2, step: Step::Time(1_796_479_200_000) });
        assert_eq!(l[2].step, Step::Connector(ConnectorMode::Down));
        assert_eq!(l[3], Line { no: 6, step: Step::Customer("我的订单到哪了".into()) });
        assert_eq!(l[6].step, Step::Buttons(vec!["1".into(), "2".into()]));
        assert_eq!(
            l[9].step,
            Step::Ticket(TicketCheck {
                problem_code: Some("TD-01".into()),
                urgency: Some("urgent".into()),
                ..TicketCheck::default()
            })
        );
        assert_eq!(l[10].step, Step::Intent(None));
        assert_eq!(l[12].step, Step::Wait(600_000));
        assert_eq!(l[13].step, Step::Silent);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("customer: hi\nfoo: x").unwrap_err().line, 2);
        assert_eq!(parse("@time tomorrow\ncustomer: hi").unwrap_err().line, 1);
        assert_eq!(parse("customer: hi\nticket: colour=red").unwrap_err().line, 2);
        assert_eq!(parse("customer:\n").unwrap_err().line, 1);
        assert!(parse("bot: hi").unwrap_err().message.contains("no action"));
        assert_eq!(parse_time("2026-12-05T14:00Z"), Some(1_796_479_200_000));
        assert_eq!(parse_duration("90s"), Some(90_000));
        assert_eq!(parse_duration("0m"), None);
    }
}
