//! Quality inspection of agent conversations (AN-6): a rule engine over one conversation's
//! public messages, and the quality index built from its checks.
//!
//! Each inspected conversation yields **checks** per agent, each passed or failed; a failed
//! check is a [`Finding`]:
//!
//! - **greeting**: the agent's first public message contains one of the greeting phrases
//!   (one check per agent per conversation, when greetings are configured);
//! - **closing**: in a resolved conversation, the agent who wrote the last agent message
//!   closes with one of the closing phrases (one check, when closings are configured);
//! - **forbidden**: each agent message, none of the forbidden phrases (one check per message);
//! - **authority**: each agent message that names an amount of money together with a promise
//!   word (赔, 补偿, 退款, refund…; any amount when the list is empty): no amount above the
//!   writer's compensation limit (one check per such message);
//! - **slow_reply**: each agent reply to a waiting customer comes within `slow_reply_secs` of
//!   the first unanswered customer message (one check per reply).
//!
//! Phrases match case-insensitively as substrings. The **quality index** of a set of checks is
//! `100 × passed ÷ checks` (100 when there are none); per agent and day it uses the checks of
//! that agent's conversations inspected for that day, per team the sum over its members.

use domain::{ParseError, Timestamp};

/// The workspace's inspection rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityRules {
    pub greetings: Vec<String>,
    pub closings: Vec<String>,
    pub forbidden: Vec<String>,
    /// Words that make an amount a promise; empty: every amount counts.
    pub promise_words: Vec<String>,
    /// A reply later than this after the customer's first waiting message is slow; 0 disables.
    pub slow_reply_secs: i64,
}

impl Default for QualityRules {
    fn default() -> QualityRules {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        QualityRules {
            greetings: v(&["您好", "你好", "hello"]),
            closings: v(&["还有什么可以帮您", "感谢", "祝您", "thank you", "thanks"]),
            forbidden: v(&[
                "不知道",
                "不归我管",
                "你自己看",
                "没办法",
                "not my problem",
                "whatever",
            ]),
            promise_words: v(&["赔", "补偿", "退款", "返还", "refund", "compensat"]),
            slow_reply_secs: 180,
        }
    }
}

impl QualityRules {
    /// Trims phrases, drops empty ones and checks the limits.
    pub fn check(self) -> Result<QualityRules, ParseError> {
        fn clean(field: &'static str, xs: Vec<String>) -> Result<Vec<String>, ParseError> {
            let out: Vec<String> =
                xs.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            if out.len() > 200 {
                return Err(ParseError::new(field, "at most 200 phrases"));
            }
            if out.iter().any(|s| s.chars().count() > 100) {
                return Err(ParseError::new(field, "phrases of at most 100 characters"));
            }
            Ok(out)
        }
        if !(0..=7 * 86_400).contains(&self.slow_reply_secs) {
            return Err(ParseError::new("slow_reply_secs", "between 0 (off) and 604800 seconds"));
        }
        Ok(QualityRules {
            greetings: clean("greetings", self.greetings)?,
            closings: clean("closings", self.closings)?,
            forbidden: clean("forbidden", self.forbidden)?,
            promise_words: clean("promise_words", self.promise_words)?,
            slow_reply_secs: self.slow_reply_secs,
        })
    }
}

/// Who wrote a message, as inspection sees it. `A` is the caller's agent id type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writer<A> {
    Customer,
    /// An agent, with the largest amount (fen) they may promise; `None` is unlimited.
    Agent {
        id: A,
        limit_fen: Option<i64>,
    },
    /// Bot and system messages: neither waiting nor answering.
    Other,
}

/// One public message of the conversation, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn<A, M> {
    pub id: M,
    pub writer: Writer<A>,
    pub at: Timestamp,
    pub body: String,
    /// Money amounts found in the body, in fen (the caller extracts them).
    pub amounts_fen: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    MissingGreeting,
    MissingClosing,
    Forbidden,
    BeyondAuthority,
    SlowReply,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MissingGreeting => "missing_greeting",
            Kind::MissingClosing => "missing_closing",
            Kind::Forbidden => "forbidden_phrase",
            Kind::BeyondAuthority => "beyond_authority",
            Kind::SlowReply => "slow_reply",
        }
    }
}

/// A failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding<A, M> {
    pub kind: Kind,
    pub agent: A,
    /// The message at fault; `None` for a missing greeting or closing with no single message.
    pub message: Option<M>,
    pub at: Timestamp,
    pub detail: String,
}

/// One agent's checks in the conversation on one day (the day of the message checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally<A> {
    pub agent: A,
    /// 00:00 UTC+08:00 ([`crate::alerts::day_start`]).
    pub day: Timestamp,
    pub checks: u32,
    pub passed: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection<A, M> {
    pub findings: Vec<Finding<A, M>>,
    /// Per agent and day, in order of first check.
    pub tallies: Vec<Tally<A>>,
}

fn contains_any<'a>(body: &str, phrases: &'a [String]) -> Option<&'a str> {
    let lower = body.to_lowercase();
    phrases.iter().find(|p| lower.contains(&p.to_lowercase())).map(|s| s.as_str())
}

/// Inspects one conversation. `resolved` says whether the closing rule applies.
pub fn inspect<A: Clone + PartialEq, M: Clone>(
    rules: &QualityRules,
    turns: &[Turn<A, M>],
    resolved: bool,
) -> Inspection<A, M> {
    let mut out = Inspection { findings: Vec::new(), tallies: Vec::new() };
    let tally = |out: &mut Inspection<A, M>, agent: &A, at: Timestamp, ok: bool| {
        let day = crate::alerts::day_start(at);
        let i = match out.tallies.iter().position(|t| &t.agent == agent && t.day == day) {
            Some(i) => i,
            None => {
                out.tallies.push(Tally { agent: agent.clone(), day, checks: 0, passed: 0 });
                out.tallies.len() - 1
            }
        };
        out.tallies[i].checks += 1;
        out.tallies[i].passed += u32::from(ok);
    };
    let mut greeted: Vec<A> = Vec::new();
    let mut waiting_since: Option<Timestamp> = None;
    let mut last_agent: Option<&Turn<A, M>> = None;
    for t in turns {
        let (agent, limit) = match &t.writer {
            Writer::Customer => {
                waiting_since.get_or_insert(t.at);
                continue;
            }
            Writer::Other => continue,
            Writer::Agent { id, limit_fen } => (id, *limit_fen),
        };
        last_agent = Some(t);
        let find = |out: &mut Inspection<A, M>, kind: Kind, detail: String| {
            out.findings.push(Finding {
                kind,
                agent: agent.clone(),
                message: Some(t.id.clone()),
                at: t.at,
                detail,
            })
        };
        if !rules.greetings.is_empty() && !greeted.contains(agent) {
            greeted.push(agent.clone());
            let ok = contains_any(&t.body, &rules.greetings).is_some();
            tally(&mut out, agent, t.at, ok);
            if !ok {
                find(&mut out, Kind::MissingGreeting, "first reply without a greeting".into());
            }
        }
        if !rules.forbidden.is_empty() {
            let hit = contains_any(&t.body, &rules.forbidden);
            tally(&mut out, agent, t.at, hit.is_none());
            if let Some(p) = hit {
                find(&mut out, Kind::Forbidden, format!("forbidden phrase {p:?}"));
            }
        }
        let promise =
            rules.promise_words.is_empty() || contains_any(&t.body, &rules.promise_words).is_some();
        if promise && !t.amounts_fen.is_empty() {
            let over = limit.and_then(|l| t.amounts_fen.iter().copied().filter(|a| *a > l).max());
            tally(&mut out, agent, t.at, over.is_none());
            if let (Some(a), Some(l)) = (over, limit) {
                find(
                    &mut out,
                    Kind::BeyondAuthority,
                    format!("promised ¥{} above the limit of ¥{}", yuan(a), yuan(l)),
                );
            }
        }
        if let Some(since) = waiting_since.take()
            && rules.slow_reply_secs > 0
        {
            let secs = (t.at.millis() - since.millis()) / 1000;
            let ok = secs <= rules.slow_reply_secs;
            tally(&mut out, agent, t.at, ok);
            if !ok {
                find(
                    &mut out,
                    Kind::SlowReply,
                    format!("replied after {secs} s (target {} s)", rules.slow_reply_secs),
                );
            }
        }
    }
    if resolved
        && !rules.closings.is_empty()
        && let Some(t) = last_agent
        && let Writer::Agent { id, .. } = &t.writer
    {
        let ok = contains_any(&t.body, &rules.closings).is_some();
        tally(&mut out, id, t.at, ok);
        if !ok {
            out.findings.push(Finding {
                kind: Kind::MissingClosing,
                agent: id.clone(),
                message: Some(t.id.clone()),
                at: t.at,
                detail: "last reply without a closing phrase".into(),
            });
        }
    }
    out
}

fn yuan(fen: i64) -> String {
    if fen % 100 == 0 { format!("{}", fen / 100) } else { format!("{:.2}", fen as f64 / 100.0) }
}

/// The quality index of `passed` of `checks`: 100 when nothing was checked.
pub fn index(checks: u64, passed: u64) -> f64 {
    if checks == 0 { 100.0 } else { 100.0 * passed.min(checks) as f64 / checks as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1970-01-01 00:00 UTC+8: the day of every test message.
    const D0: Timestamp = Timestamp::from_millis(-8 * 3_600_000);

    fn t(
        id: u32,
        writer: Writer<&'static str>,
        secs: i64,
        body: &str,
        fen: &[i64],
    ) -> Turn<&'static str, u32> {
        Turn {
            id,
            writer,
            at: Timestamp::from_millis(secs * 1000),
            body: body.into(),
            amounts_fen: fen.to_vec(),
        }
    }
    fn agent(id: &'static str) -> Writer<&'static str> {
        Writer::Agent { id, limit_fen: Some(200_000) }
    }

    #[test]
    fn a_clean_conversation_passes_every_check() {
        let turns = vec![
            t(1, Writer::Customer, 0, "冰箱不制冷", &[]),
            t(2, agent("a"), 60, "您好，我来帮您看看", &[]),
            t(3, Writer::Customer, 100, "好的", &[]),
            t(4, agent("a"), 200, "已为您安排补偿 100 元", &[10_000]),
            t(5, agent("a"), 210, "还有什么可以帮您？", &[]),
        ];
        let r = inspect(&QualityRules::default(), &turns, true);
        assert_eq!(r.findings, vec![]);
        // greeting 1 + forbidden 3 + authority 1 + slow 2 + closing 1 = 8.
        assert_eq!(r.tallies, vec![Tally { agent: "a", day: D0, checks: 8, passed: 8 }]);
    }

    #[test]
    fn each_rule_finds_its_violation() {
        let turns = vec![
            t(1, Writer::Customer, 0, "冰箱坏了", &[]),
            t(2, Writer::Other, 5, "机器人：请稍候", &[]),
            // 400 s later: slow; no greeting; forbidden phrase.
            t(3, agent("a"), 400, "这个我不知道", &[]),
            t(4, Writer::Customer, 500, "那怎么办", &[]),
            // ¥3,000 above the ¥2,000 limit, within 180 s.
            t(5, agent("a"), 600, "给您赔偿 3000 元", &[300_000]),
            // An amount without a promise word is not a promise.
            t(6, agent("a"), 610, "订单金额 5000 元", &[500_000]),
        ];
        let r = inspect(&QualityRules::default(), &turns, true);
        let kinds: Vec<(Kind, Option<u32>)> =
            r.findings.iter().map(|f| (f.kind, f.message)).collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::MissingGreeting, Some(3)),
                (Kind::Forbidden, Some(3)),
                (Kind::SlowReply, Some(3)),
                (Kind::BeyondAuthority, Some(5)),
                (Kind::MissingClosing, Some(6)),
            ]
        );
        assert_eq!(r.findings[2].detail, "replied after 400 s (target 180 s)");
        assert_eq!(r.findings[3].detail, "promised ¥3000 above the limit of ¥2000");
        // greeting 1 + forbidden 3 + authority 1 + slow 2 + closing 1 = 8, 3 passed.
        assert_eq!(r.tallies, vec![Tally { agent: "a", day: D0, checks: 8, passed: 3 }]);
        assert!((index(8, 3) - 37.5).abs() < 1e-12);
    }

    #[test]
    fn checks_belong_to_the_agent_who_wrote() {
        let turns = vec![
            t(1, Writer::Customer, 0, "hi", &[]),
            t(2, agent("a"), 10, "Hello, how can I help?", &[]),
            t(3, Writer::Customer, 20, "refund please", &[]),
            t(
                4,
                Writer::Agent { id: "b", limit_fen: None },
                30,
                "I will refund ¥9,000",
                &[900_000],
            ),
        ];
        // Open conversation: no closing check. An unlimited writer passes the authority check.
        let r = inspect(&QualityRules::default(), &turns, false);
        assert!(r.findings.iter().all(|f| f.agent == "b"));
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].kind, Kind::MissingGreeting);
        assert_eq!(
            r.tallies,
            vec![
                Tally { agent: "a", day: D0, checks: 3, passed: 3 },
                Tally { agent: "b", day: D0, checks: 4, passed: 3 },
            ]
        );
    }

    #[test]
    fn empty_rules_check_nothing() {
        let rules = QualityRules {
            greetings: vec![],
            closings: vec![],
            forbidden: vec![],
            promise_words: vec![],
            slow_reply_secs: 0,
        };
        let turns = vec![t(1, Writer::Customer, 0, "x", &[]), t(2, agent("a"), 9999, "y", &[])];
        let r = inspect(&rules, &turns, true);
        assert!(r.findings.is_empty() && r.tallies.is_empty());
        assert_eq!(index(0, 0), 100.0);
    }

    #[test]
    fn rules_are_checked() {
        let r = QualityRules {
            greetings: vec!["  您好 ".into(), " ".into()],
            ..QualityRules::default()
        };
        assert_eq!(r.check().unwrap().greetings, vec!["您好".to_string()]);
        let bad = QualityRules { slow_reply_secs: -1, ..QualityRules::default() };
        assert_eq!(bad.check().unwrap_err().field, "slow_reply_secs");
    }
}
