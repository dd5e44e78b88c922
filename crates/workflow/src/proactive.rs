//! Proactive service (issue 8 item 6, 场景化推送): rules that send a template message to a
//! segment of customers at a moment, with per-customer opt-out, quiet hours in the
//! workspace's time zone and a frequency cap across rules.
//!
//! Pure: the caller passes `now`, the customer's facts, their recent proactive sends and the
//! occasions already used; [`plan`] answers with the occasion and the instant to send, or why
//! not. An *occasion* names one reason to write (`membership_expires:2026-12-09`,
//! `order_status=delayed:E20261201`), so storage can refuse a second message of the same rule
//! for it.

use std::fmt;

use domain::{ParseError, Timestamp};
use jiff::{
    civil::{Date, Time},
    tz::TimeZone,
};

/// The customer tier a rule may target (`domain::Tier`'s names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierFilter {
    Any,
    Vip,
    Ordinary,
}

impl TierFilter {
    pub fn parse(s: &str) -> Result<TierFilter, ParseError> {
        match s.trim() {
            "" | "any" => Ok(TierFilter::Any),
            "vip" => Ok(TierFilter::Vip),
            "ordinary" => Ok(TierFilter::Ordinary),
            other => Err(ParseError::new(
                "segment.tier",
                format!("{other:?} is not a tier: use any, vip or ordinary"),
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TierFilter::Any => "any",
            TierFilter::Vip => "vip",
            TierFilter::Ordinary => "ordinary",
        }
    }
    fn admits(self, tier: &str) -> bool {
        match self {
            TierFilter::Any => true,
            TierFilter::Vip => tier == "vip",
            TierFilter::Ordinary => tier == "ordinary",
        }
    }
}

/// When a customer of the segment is due a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moment {
    /// The date attribute `attribute` (`YYYY-MM-DD`) lies between today and `days` days ahead
    /// in the workspace's zone (e.g. a membership expiring within 7 days). The occasion is the
    /// date, so a renewed membership is a new occasion.
    DaysBefore { attribute: String, days: i64 },
    /// The attribute `attribute` equals `value` (e.g. `order_status` = `delayed`). The
    /// occasion is the value of `occasion_attribute` (e.g. the order number) when given, so a
    /// second delayed order is a new occasion.
    AttributeIs { attribute: String, value: String, occasion_attribute: Option<String> },
}

/// A rule as administrators write it, checked by [`Rule::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub tier: TierFilter,
    /// Further attribute equalities every customer of the segment meets.
    pub attributes: Vec<(String, String)>,
    pub moment: Moment,
    /// The message (WeChat, webhook platforms, email): `{{name}}`, `{{days_left}}`, `{{date}}`
    /// and `{{attr.NAME}}` are replaced.
    pub text: String,
    /// The SMS channel's template name (SMS needs an approved template); its parameters are
    /// the same variables. Without it, customers reachable only by SMS are skipped.
    pub sms_template: Option<String>,
}

const MAX_DAYS: i64 = 366;
const MAX_TEXT: usize = 2_000;

impl Rule {
    /// Checks the rule's fields, naming the first bad one.
    pub fn check(&self) -> Result<(), ParseError> {
        let name_ok = |field: &'static str, s: &str| {
            if s.trim().is_empty() || s.len() > 64 {
                Err(ParseError::new(field, "give an attribute name of 1 to 64 characters"))
            } else {
                Ok(())
            }
        };
        for (k, _) in &self.attributes {
            name_ok("segment.attributes", k)?;
        }
        match &self.moment {
            Moment::DaysBefore { attribute, days } => {
                name_ok("moment.attribute", attribute)?;
                if !(0..=MAX_DAYS).contains(days) {
                    return Err(ParseError::new(
                        "moment.days",
                        format!("{days} is out of range: use 0 to {MAX_DAYS} days"),
                    ));
                }
            }
            Moment::AttributeIs { attribute, value, occasion_attribute } => {
                name_ok("moment.attribute", attribute)?;
                if value.trim().is_empty() {
                    return Err(ParseError::new("moment.value", "give the value to match"));
                }
                if let Some(o) = occasion_attribute {
                    name_ok("moment.occasion_attribute", o)?;
                }
            }
        }
        if self.text.trim().is_empty() || self.text.chars().count() > MAX_TEXT {
            return Err(ParseError::new(
                "text",
                format!("write the message, 1 to {MAX_TEXT} characters"),
            ));
        }
        if let Some(t) = &self.sms_template
            && t.trim().is_empty()
        {
            return Err(ParseError::new("sms_template", "name a template or leave it out"));
        }
        Ok(())
    }
}

/// Quiet hours as minutes after local midnight; `start > end` wraps past midnight
/// (21:00–08:00). `start == end` means no quiet hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: u32,
    pub end: u32,
}

impl QuietHours {
    /// Parses `"21:00-08:00"`; the empty string is none.
    pub fn parse(s: &str) -> Result<QuietHours, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(QuietHours { start: 0, end: 0 });
        }
        let bad = || ParseError::new("quiet_hours", format!("{s:?} is not like 21:00-08:00"));
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let hm = |x: &str| -> Option<u32> {
            let (h, m) = x.trim().split_once(':')?;
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60).then_some(h * 60 + m)
        };
        Ok(QuietHours { start: hm(a).ok_or_else(bad)?, end: hm(b).ok_or_else(bad)? })
    }
    fn contains(self, minute: u32) -> bool {
        if self.start <= self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            return Ok(());
        }
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.start), hm(self.end))
    }
}

/// The workspace's proactive settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub zone: TimeZone,
    pub zone_name: String,
    pub quiet: QuietHours,
    /// At most `cap_count` proactive messages per customer in any `cap_days` days, across
    /// rules.
    pub cap_count: u32,
    pub cap_days: u32,
}

impl Settings {
    pub fn new(
        zone: &str,
        quiet: &str,
        cap_count: i64,
        cap_days: i64,
    ) -> Result<Settings, ParseError> {
        let tz = TimeZone::get(zone.trim()).map_err(|_| {
            ParseError::new(
                "time_zone",
                format!("{zone:?} is not an IANA time zone, like Asia/Shanghai"),
            )
        })?;
        if !(1..=100).contains(&cap_count) {
            return Err(ParseError::new("cap_count", "use 1 to 100 messages"));
        }
        if !(1..=90).contains(&cap_days) {
            return Err(ParseError::new("cap_days", "use 1 to 90 days"));
        }
        Ok(Settings {
            zone: tz,
            zone_name: zone.trim().to_string(),
            quiet: QuietHours::parse(quiet)?,
            cap_count: cap_count as u32,
            cap_days: cap_days as u32,
        })
    }

    /// The defaults: Asia/Shanghai, quiet 21:00–08:00, at most 2 messages per 7 days.
    pub fn default_settings() -> Settings {
        Settings::new("Asia/Shanghai", "21:00-08:00", 2, 7).expect("valid defaults")
    }

    /// `at`, or the end of the quiet hours `at` falls in.
    pub fn release_at(&self, at: Timestamp) -> Timestamp {
        let Ok(t) = jiff::Timestamp::from_millisecond(at.millis()) else { return at };
        let z = self.zone.to_datetime(t);
        let minute = z.hour() as u32 * 60 + z.minute() as u32;
        if self.quiet.start == self.quiet.end || !self.quiet.contains(minute) {
            return at;
        }
        let mut day = z.date();
        if self.quiet.start > self.quiet.end && minute >= self.quiet.start {
            day = day.tomorrow().unwrap_or(day);
        }
        let end = Time::new((self.quiet.end / 60) as i8, (self.quiet.end % 60) as i8, 0, 0)
            .unwrap_or(Time::midnight());
        match self.zone.to_ambiguous_timestamp(day.to_datetime(end)).compatible() {
            Ok(t) => Timestamp::from_millis(t.as_millisecond()),
            Err(_) => at,
        }
    }

    /// The local date of `at`.
    pub fn local_date(&self, at: Timestamp) -> Option<Date> {
        let t = jiff::Timestamp::from_millisecond(at.millis()).ok()?;
        Some(self.zone.to_datetime(t).date())
    }
}

/// What the planner knows of one customer.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub name: &'a str,
    pub tier: &'a str,
    pub attributes: &'a [(String, String)],
    pub opted_out: bool,
    /// Whether the customer has a channel this rule can use.
    pub reachable: bool,
    /// Due instants of the customer's proactive messages (any rule) not cancelled.
    pub recent: &'a [Timestamp],
}

/// Why a customer of the segment gets no message now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    OptedOut,
    /// The frequency cap is reached at the instant the message would go.
    Capped,
    /// No channel of theirs can carry this rule's message.
    Unreachable,
    /// This rule already wrote to them for this occasion.
    AlreadySent,
}

impl Skip {
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::OptedOut => "opted_out",
            Skip::Capped => "capped",
            Skip::Unreachable => "unreachable",
            Skip::AlreadySent => "already_sent",
        }
    }
}

/// A message to send: the occasion it is for, when, and its variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub occasion: String,
    pub due: Timestamp,
    pub vars: Vec<(String, String)>,
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim())
}

/// The occasion and variables if the customer is in the rule's segment at `now`, else `None`.
pub fn occasion(
    rule: &Rule,
    c: &Candidate<'_>,
    settings: &Settings,
    now: Timestamp,
) -> Option<(String, Vec<(String, String)>)> {
    if !rule.tier.admits(c.tier) {
        return None;
    }
    if !rule.attributes.iter().all(|(k, v)| attr(c.attributes, k) == Some(v.trim())) {
        return None;
    }
    let mut vars = vec![("name".to_string(), c.name.to_string())];
    let occasion = match &rule.moment {
        Moment::DaysBefore { attribute, days } => {
            let date: Date = attr(c.attributes, attribute)?.parse().ok()?;
            let today = settings.local_date(now)?;
            let left = today.until(date).ok()?.get_days() as i64;
            if !(0..=*days).contains(&left) {
                return None;
            }
            vars.push(("days_left".into(), left.to_string()));
            vars.push(("date".into(), date.to_string()));
            format!("{attribute}:{date}")
        }
        Moment::AttributeIs { attribute, value, occasion_attribute } => {
            if attr(c.attributes, attribute) != Some(value.trim()) {
                return None;
            }
            match occasion_attribute {
                Some(o) => format!("{attribute}={value}:{}", attr(c.attributes, o)?),
                None => format!("{attribute}={value}"),
            }
        }
    };
    for (k, v) in c.attributes {
        vars.push((format!("attr.{k}"), v.clone()));
    }
    Some((occasion, vars))
}

/// Plans the rule's message for one customer: `None` outside the segment; otherwise the plan,
/// or why nothing goes. `used` tells whether an occasion was already used by this rule.
pub fn plan(
    rule: &Rule,
    c: &Candidate<'_>,
    settings: &Settings,
    now: Timestamp,
    used: impl Fn(&str) -> bool,
) -> Option<Result<Plan, Skip>> {
    let (occasion, vars) = occasion(rule, c, settings, now)?;
    Some(
        decide(c, settings, now)
            .map(|due| Plan { occasion, due, vars })
            .and_then(|p| if used(&p.occasion) { Err(Skip::AlreadySent) } else { Ok(p) }),
    )
}

fn decide(c: &Candidate<'_>, settings: &Settings, now: Timestamp) -> Result<Timestamp, Skip> {
    if c.opted_out {
        return Err(Skip::OptedOut);
    }
    if !c.reachable {
        return Err(Skip::Unreachable);
    }
    let due = settings.release_at(now);
    if !cap_allows(settings, c.recent, due) {
        return Err(Skip::Capped);
    }
    Ok(due)
}

/// Whether one more message at `at` keeps every window of `cap_days` days at or under
/// `cap_count` messages, counting the messages already planned (before or after `at`).
pub fn cap_allows(settings: &Settings, recent: &[Timestamp], at: Timestamp) -> bool {
    let window = i64::from(settings.cap_days) * 86_400_000;
    let near = recent.iter().filter(|t| (t.millis() - at.millis()).abs() < window).count();
    near < settings.cap_count as usize
}

/// Renders the rule's text with the plan's variables; an unknown variable renders empty.
pub fn render(text: &str, vars: &[(String, String)]) -> String {
    domain::knowledge::render(text, false, |k| {
        vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).or_else(|| Some(String::new()))
    })
    .text
}

/// Whether a customer's message asks to stop proactive messages: 退订, TD, STOP or
/// UNSUBSCRIBE (any case, alone, surrounding spaces and punctuation ignored), as Chinese SMS
/// and WeChat conventions expect.
pub fn is_opt_out_reply(text: &str) -> bool {
    let t: String = text
        .trim()
        .trim_matches(|c: char| {
            c.is_ascii_punctuation() || "。！，".contains(c) || c.is_whitespace()
        })
        .to_uppercase();
    matches!(t.as_str(), "退订" | "TD" | "STOP" | "UNSUBSCRIBE")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        let t: jiff::Timestamp = s.parse().unwrap();
        Timestamp::from_millis(t.as_millisecond())
    }

    fn vip_rule() -> Rule {
        Rule {
            tier: TierFilter::Vip,
            attributes: vec![],
            moment: Moment::DaysBefore { attribute: "membership_expires".into(), days: 7 },
            text: "{{name}}，您的会员将于 {{date}} 到期（还有 {{days_left}} 天）".into(),
            sms_template: Some("renew".into()),
        }
    }

    fn cand<'a>(
        tier: &'a str,
        attrs: &'a [(String, String)],
        recent: &'a [Timestamp],
    ) -> Candidate<'a> {
        Candidate {
            name: "王芳",
            tier,
            attributes: attrs,
            opted_out: false,
            reachable: true,
            recent,
        }
    }

    fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn vip_expiring_within_the_window_is_planned_once_per_date() {
        let s = Settings::default_settings();
        // 10:00 in Shanghai on 2026-12-02.
        let now = at("2026-12-02T02:00:00Z");
        let a = attrs(&[("membership_expires", "2026-12-09")]);
        let p = plan(&vip_rule(), &cand("vip", &a, &[]), &s, now, |_| false).unwrap().unwrap();
        assert_eq!(p.occasion, "membership_expires:2026-12-09");
        assert_eq!(p.due, now);
        assert_eq!(
            render(&vip_rule().text, &p.vars),
            "王芳，您的会员将于 2026-12-09 到期（还有 7 天）"
        );
        // Used already → not again.
        let again = plan(&vip_rule(), &cand("vip", &a, &[]), &s, now, |o| {
            o == "membership_expires:2026-12-09"
        });
        assert_eq!(again, Some(Err(Skip::AlreadySent)));
        // Eight days ahead, past dates, ordinary tier, bad dates: outside the segment.
        for (tier, d) in [
            ("vip", "2026-12-10"),
            ("vip", "2026-12-01"),
            ("ordinary", "2026-12-05"),
            ("vip", "soon"),
        ] {
            let a = attrs(&[("membership_expires", d)]);
            assert_eq!(plan(&vip_rule(), &cand(tier, &a, &[]), &s, now, |_| false), None, "{d}");
        }
    }

    #[test]
    fn local_date_decides_the_day_not_utc() {
        let s = Settings::default_settings();
        // 2026-12-02 17:00 UTC is already 2026-12-03 01:00 in Shanghai: 6 days left.
        let now = at("2026-12-02T17:00:00Z");
        let a = attrs(&[("membership_expires", "2026-12-09")]);
        let p = plan(&vip_rule(), &cand("vip", &a, &[]), &s, now, |_| false).unwrap().unwrap();
        assert!(p.vars.contains(&("days_left".into(), "6".into())));
    }

    #[test]
    fn quiet_hours_wrap_midnight_and_move_the_send_to_their_end() {
        let s = Settings::default_settings();
        // 22:30 Shanghai → 08:00 next day.
        assert_eq!(s.release_at(at("2026-12-02T14:30:00Z")), at("2026-12-03T00:00:00Z"));
        // 07:59 Shanghai → 08:00 the same day.
        assert_eq!(s.release_at(at("2026-12-02T23:59:00Z")), at("2026-12-03T00:00:00Z"));
        // 08:00 and 20:59 are outside.
        assert_eq!(s.release_at(at("2026-12-03T00:00:00Z")), at("2026-12-03T00:00:00Z"));
        assert_eq!(s.release_at(at("2026-12-03T12:59:00Z")), at("2026-12-03T12:59:00Z"));
        // A window inside one day, and none.
        let lunch = Settings::new("Asia/Shanghai", "12:00-13:30", 2, 7).unwrap();
        assert_eq!(lunch.release_at(at("2026-12-03T04:10:00Z")), at("2026-12-03T05:30:00Z"));
        let none = Settings::new("UTC", "", 2, 7).unwrap();
        assert_eq!(none.release_at(at("2026-12-03T04:10:00Z")), at("2026-12-03T04:10:00Z"));
    }

    #[test]
    fn the_cap_counts_messages_around_the_due_time_across_rules() {
        let s = Settings::new("Asia/Shanghai", "", 2, 7).unwrap();
        let now = at("2026-12-10T02:00:00Z");
        let a = attrs(&[("membership_expires", "2026-12-12")]);
        let two = [now.plus_days(-6), now.plus_days(-1)];
        let r = plan(&vip_rule(), &cand("vip", &a, &two), &s, now, |_| false);
        assert_eq!(r, Some(Err(Skip::Capped)));
        // One fell out of the 7-day window: room again.
        let older = [now.plus_days(-7), now.plus_days(-1)];
        assert!(plan(&vip_rule(), &cand("vip", &a, &older), &s, now, |_| false).unwrap().is_ok());
        // A message already planned after `now` counts too.
        let ahead = [now.plus_days(-2), now.plus_hours(10)];
        assert!(!cap_allows(&s, &ahead, now));
    }

    #[test]
    fn opt_out_and_unreachable_are_reasons_not_silence() {
        let s = Settings::default_settings();
        let now = at("2026-12-02T02:00:00Z");
        let a = attrs(&[("membership_expires", "2026-12-03")]);
        let mut c = cand("vip", &a, &[]);
        c.opted_out = true;
        assert_eq!(plan(&vip_rule(), &c, &s, now, |_| false), Some(Err(Skip::OptedOut)));
        c.opted_out = false;
        c.reachable = false;
        assert_eq!(plan(&vip_rule(), &c, &s, now, |_| false), Some(Err(Skip::Unreachable)));
    }

    #[test]
    fn delayed_orders_are_one_occasion_per_order() {
        let s = Settings::default_settings();
        let now = at("2026-12-02T02:00:00Z");
        let rule = Rule {
            tier: TierFilter::Any,
            attributes: vec![("city".into(), "上海".into())],
            moment: Moment::AttributeIs {
                attribute: "order_status".into(),
                value: "delayed".into(),
                occasion_attribute: Some("order_no".into()),
            },
            text: "订单 {{attr.order_no}} 延误，我们正在处理 {{unknown}}".into(),
            sms_template: None,
        };
        rule.check().unwrap();
        let a = attrs(&[("order_status", "delayed"), ("order_no", "E1"), ("city", "上海")]);
        let p = plan(&rule, &cand("ordinary", &a, &[]), &s, now, |_| false).unwrap().unwrap();
        assert_eq!(p.occasion, "order_status=delayed:E1");
        assert_eq!(render(&rule.text, &p.vars), "订单 E1 延误，我们正在处理 ");
        let other_city = attrs(&[("order_status", "delayed"), ("order_no", "E1")]);
        assert_eq!(plan(&rule, &cand("ordinary", &other_city, &[]), &s, now, |_| false), None);
        let shipped = attrs(&[("order_status", "shipped"), ("order_no", "E1"), ("city", "上海")]);
        assert_eq!(plan(&rule, &cand("ordinary", &shipped, &[]), &s, now, |_| false), None);
    }

    #[test]
    fn checks_name_the_field() {
        let mut r = vip_rule();
        r.moment = Moment::DaysBefore { attribute: "x".into(), days: 400 };
        assert_eq!(r.check().unwrap_err().field, "moment.days");
        let mut r = vip_rule();
        r.text = " ".into();
        assert_eq!(r.check().unwrap_err().field, "text");
        assert_eq!(Settings::new("Mars/Base", "", 2, 7).unwrap_err().field, "time_zone");
        assert_eq!(Settings::new("UTC", "25:00-08:00", 2, 7).unwrap_err().field, "quiet_hours");
        assert_eq!(Settings::new("UTC", "", 0, 7).unwrap_err().field, "cap_count");
        assert_eq!(QuietHours::parse("21:00-08:00").unwrap().to_string(), "21:00-08:00");
        assert_eq!(TierFilter::parse("gold").unwrap_err().field, "segment.tier");
    }

    #[test]
    fn opt_out_replies() {
        for yes in ["退订", " TD ", "td", "Stop", "STOP!", "退订。", "unsubscribe"] {
            assert!(is_opt_out_reply(yes), "{yes}");
        }
        for no in ["", "不要退订我的订单", "stop the order", "TDX", "n", "好的"] {
            assert!(!is_opt_out_reply(no), "{no}");
        }
    }
}
