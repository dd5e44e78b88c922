//! Dates in Chinese and English, absolute ("2026年11月2日", "Nov 2") and relative to `today`
//! ("上周五", "3天前", "last month"), each read into an inclusive range of days.
//!
//! Conventions, chosen for customer service where people mostly talk about the past:
//! - Weeks run Monday to Sunday. "上周五" and "last/this/next Friday" name the Friday of the
//!   previous/current/next calendar week, except that "last Friday" is the most recent Friday
//!   strictly before today (on a Saturday that is yesterday).
//! - A bare weekday ("周五我下的单", "on Friday") is the most recent one, today included.
//! - A date without a year ("11月2日", "Nov 2") takes the year that puts it closest to today, so
//!   in January "12月28日" is last December.
//! - "3天前" / "3 days ago" is one day; "最近3天" / "the last 3 days" is a range ending today.
//! - Numeric month-day forms are month first ("11/02", "11-02", US "11/02/2026").
//!
//! Invalid calendar dates ("2月30日") are not entities. Arithmetic is checked, so dates near the
//! ends of `time`'s range yield nothing rather than panicking.

use regex::Captures;
use time::{Date, Month};

use super::numbers::parse_count;
use super::{Ctx, EntityKind, EntityValue, Rule};

const CN_COUNT: &str = "[0-9]{1,3}|[零〇一二两三四五六七八九十百]{1,4}";
const EN_COUNT: &str = "[0-9]{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:a )?couple of";
const EN_WEEKDAYS: &str = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun";
const EN_MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec";
/// Chinese relative prefixes for weeks: 上上, 上个, 这, 本, 下个, …
const CN_WEEK_PREFIX: &str = "上上个?|上一?个?|这一?个?|本|下下个?|下一?个?";

pub(super) fn rules() -> Vec<Rule> {
    let date = |pattern: &str, read| Rule::builtin(EntityKind::Date, pattern, read);
    vec![
        date(
            "大前天|前天|昨天|昨日|昨儿|今天|今日|今儿|明天|明日|明儿|后天|大后天",
            read_cn_day_word,
        ),
        date(
            &format!(
                "(?P<each>每)?(?P<pre>{CN_WEEK_PREFIX})?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])"
            ),
            read_cn_weekday,
        ),
        date(&format!("(?P<pre>{CN_WEEK_PREFIX})(?:周|星期|礼拜)"), read_cn_week),
        date(&format!("(?P<pre>{CN_WEEK_PREFIX})?周末"), read_cn_weekend),
        date("(?P<pre>上上个|上个|上|这个|这|本|下个|下)月(?:份)?", read_cn_month),
        date("今年|去年|前年|明年|后年", read_cn_year),
        date(
            &format!(
                "(?P<n>{CN_COUNT}|半)(?P<unit>天|日|年|个?(?:周|星期|礼拜)|个月)(?P<dir>以前|之前|前|以后|之后|后)"
            ),
            read_cn_ago,
        ),
        date(
            &format!(
                "(?:最近|近|过去的?)(?P<n>{CN_COUNT})(?P<unit>天|日|年|个?(?:周|星期|礼拜)|个月)(?:内|里|以来|来)?"
            ),
            read_recent,
        ),
        date(
            r"(?:(?P<y>[0-9]{4})\s?年\s?|(?P<ry>今年|去年|前年|明年))?(?P<m>[0-9]{1,2}|十[一二]?|[一二三四五六七八九])\s?月\s?(?P<d>[0-9]{1,2}|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])\s?(?:日|号)",
            read_ymd,
        ),
        date(
            r"(?:(?P<y>[0-9]{4})\s?年\s?|(?P<ry>今年|去年|前年|明年))?(?P<m>[0-9]{1,2}|十[一二]?|[一二三四五六七八九])\s?月(?:份)?",
            read_cn_month_name,
        ),
        date(r"(?P<y>[0-9]{4})\s?年", read_cn_year_number),
        date(
            r"(?P<y>[0-9]{4})(?P<s1>[-/.])(?P<m>[0-9]{1,2})(?P<s2>[-/.])(?P<d>[0-9]{1,2})",
            read_iso,
        ),
        date(r"(?P<m>[0-9]{1,2})(?P<s1>[-/])(?P<d>[0-9]{1,2})", read_month_day),
        date(r"(?P<m>[0-9]{1,2})/(?P<d>[0-9]{1,2})/(?P<y>[0-9]{4})", read_ymd),
        // English.
        date(
            r"(?i)(?:the )?day before yesterday|(?:the )?day after tomorrow|yesterday|today|tonight|tomorrow",
            read_en_day_word,
        ),
        date(
            &format!(
                r"(?i)(?:(?P<pre>last|this|next|past|previous|coming|on)\s+)?(?P<wd>{EN_WEEKDAYS})\.?"
            ),
            read_en_weekday,
        ),
        date(
            r"(?i)(?P<pre>last|this|next|past|previous|current|coming)\s+(?P<unit>weekend|week|month|year)",
            read_en_period,
        ),
        date(
            &format!(
                r"(?i)(?P<n>{EN_COUNT})\s+(?P<unit>day|week|month|year)s?\s+(?P<dir>ago|before|back|earlier|later|from now)"
            ),
            read_en_ago,
        ),
        date(&format!(r"(?i)in\s+(?P<n>{EN_COUNT})\s+(?P<unit>day|week|month|year)s?"), read_en_in),
        date(
            &format!(
                r"(?i)(?:(?:in|over|during)\s+)?(?:the\s+)?(?:last|past)\s+(?P<n>{EN_COUNT})\s+(?P<unit>day|week|month|year)s?"
            ),
            read_recent,
        ),
        date(
            &format!(
                r"(?i)(?P<mon>{EN_MONTHS})\.?\s*(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:,?\s*(?P<y>[0-9]{{4}}))?"
            ),
            read_ymd,
        ),
        date(
            &format!(
                r"(?i)(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{EN_MONTHS})\.?(?:,?\s*(?P<y>[0-9]{{4}}))?"
            ),
            read_ymd,
        ),
        date(&format!(r"(?i)(?P<mon>{EN_MONTHS})\.?,?\s+(?P<y>[0-9]{{4}})"), read_en_month_year),
    ]
}

// ---- calendar helpers ------------------------------------------------------------------------

fn day(d: Date) -> EntityValue {
    EntityValue::Date { from: d, to: d }
}

fn range(from: Date, to: Date) -> EntityValue {
    EntityValue::Date { from, to }
}

fn shift(d: Date, days: i64) -> Option<Date> {
    let jd = i64::from(d.to_julian_day()).checked_add(days)?;
    Date::from_julian_day(i32::try_from(jd).ok()?).ok()
}

/// Monday of the week `weeks` weeks from the week of `d`.
fn monday(d: Date, weeks: i64) -> Option<Date> {
    let back = i64::from(d.weekday().number_days_from_monday());
    shift(d, weeks.checked_mul(7)?.checked_sub(back)?)
}

fn week(today: Date, weeks: i64) -> Option<EntityValue> {
    let mon = monday(today, weeks)?;
    Some(range(mon, shift(mon, 6)?))
}

/// Day `weekday` (0 = Monday) of the week `weeks` weeks from today's.
fn weekday_of_week(today: Date, weeks: i64, weekday: u8) -> Option<Date> {
    shift(monday(today, weeks)?, i64::from(weekday))
}

/// The most recent `weekday` (0 = Monday), today included or not.
fn most_recent(today: Date, weekday: u8, include_today: bool) -> Option<Date> {
    let now = i64::from(today.weekday().number_days_from_monday());
    let mut back = (now - i64::from(weekday)).rem_euclid(7);
    if back == 0 && !include_today {
        back = 7;
    }
    shift(today, -back)
}

/// The first and last day of the month `months` months from `d`'s.
fn month_range(d: Date, months: i64) -> Option<(Date, Date)> {
    let index = i64::from(d.year()).checked_mul(12)? + i64::from(u8::from(d.month())) - 1;
    let index = index.checked_add(months)?;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let last = Date::from_calendar_date(year, month, month.length(year)).ok()?;
    Some((first, last))
}

/// `d` moved by whole months, the day clamped to the target month's length.
fn add_months(d: Date, months: i64) -> Option<Date> {
    let (first, last) = month_range(d, months)?;
    Date::from_calendar_date(first.year(), first.month(), d.day().min(last.day())).ok()
}

fn year_range(year: i32) -> Option<EntityValue> {
    Some(range(
        Date::from_calendar_date(year, Month::January, 1).ok()?,
        Date::from_calendar_date(year, Month::December, 31).ok()?,
    ))
}

/// The valid date with this month and day closest to today (ties go to the past).
fn nearest(today: Date, month: Month, day: u8) -> Option<Date> {
    let distance =
        |d: &Date| (i64::from(d.to_julian_day()) - i64::from(today.to_julian_day())).abs();
    [-1, 0, 1]
        .into_iter()
        .filter_map(|dy| Date::from_calendar_date(today.year().checked_add(dy)?, month, day).ok())
        .min_by_key(|d| (distance(d), *d > today))
}

fn month_number(s: &str) -> Option<Month> {
    let n = parse_count(s).and_then(|n| u8::try_from(n).ok());
    if let Some(n) = n {
        return Month::try_from(n).ok();
    }
    let lower = s.to_lowercase();
    let names =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let index = names.iter().position(|name| lower.starts_with(name))?;
    Month::try_from(u8::try_from(index + 1).ok()?).ok()
}

/// Signed offset in weeks for a Chinese week prefix (上 = -1, 这/本 = 0, 下 = +1).
fn cn_week_offset(prefix: Option<&str>) -> Option<i64> {
    let Some(p) = prefix else { return Some(0) };
    Some(if p.starts_with("上上") {
        -2
    } else if p.starts_with("下下") {
        2
    } else if p.starts_with('上') {
        -1
    } else if p.starts_with('下') {
        1
    } else {
        0
    })
}

// ---- Chinese -----------------------------------------------------------------------------------

fn read_cn_day_word(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let offset = match caps.get(0)?.as_str() {
        "大前天" => -3,
        "前天" => -2,
        "昨天" | "昨日" | "昨儿" => -1,
        "明天" | "明日" | "明儿" => 1,
        "后天" => 2,
        "大后天" => 3,
        _ => 0,
    };
    Some(day(shift(ctx.today, offset)?))
}

fn cn_weekday(c: &str) -> Option<u8> {
    Some(match c {
        "一" | "1" => 0,
        "二" | "2" => 1,
        "三" | "3" => 2,
        "四" | "4" => 3,
        "五" | "5" => 4,
        "六" | "6" => 5,
        "日" | "天" | "7" => 6,
        _ => return None,
    })
}

fn read_cn_weekday(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    // "每周五" is every Friday; "周天气" is the weather.
    let wd_match = caps.name("wd")?;
    if caps.name("each").is_some()
        || (wd_match.as_str() == "天" && ctx.char_after(wd_match.end()) == Some('气'))
    {
        return None;
    }
    let wd = cn_weekday(wd_match.as_str())?;
    let d = match caps.name("pre") {
        None => most_recent(ctx.today, wd, true)?,
        Some(pre) => weekday_of_week(ctx.today, cn_week_offset(Some(pre.as_str()))?, wd)?,
    };
    Some(day(d))
}

fn read_cn_week(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    // "这周围", "周边", "周年": not weeks.
    if ctx.char_after(caps.get(0)?.end()).is_some_and(|c| "围边到期年岁全转刊报".contains(c))
    {
        return None;
    }
    week(ctx.today, cn_week_offset(caps.name("pre").map(|m| m.as_str()))?)
}

fn read_cn_weekend(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let saturday = match caps.name("pre") {
        // A bare "周末" is the most recent weekend that has started.
        None => most_recent(ctx.today, 5, true)?,
        Some(pre) => weekday_of_week(ctx.today, cn_week_offset(Some(pre.as_str()))?, 5)?,
    };
    Some(range(saturday, shift(saturday, 1)?))
}

fn read_cn_month(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let pre = caps.name("pre")?;
    // A bare 上/下 is often part of another word: "晚上月亮", "马上月底".
    if (pre.as_str() == "上" || pre.as_str() == "下")
        && ctx.char_before(pre.start()).is_some_and(|c| "晚早马路线网身手楼往向地天".contains(c))
    {
        return None;
    }
    let offset = match pre.as_str() {
        "上上个" => -2,
        "上个" | "上" => -1,
        "下个" | "下" => 1,
        _ => 0,
    };
    let (first, last) = month_range(ctx.today, offset)?;
    Some(range(first, last))
}

/// The year a date names, as digits ("2026年") or relative ("去年"): `None` when it names none,
/// `Some(None)` when it names one that cannot be read.
fn explicit_year(caps: &Captures<'_>, today: Date) -> Option<Option<i32>> {
    if let Some(y) = caps.name("y") {
        return Some(y.as_str().parse().ok());
    }
    let offset = match caps.name("ry")?.as_str() {
        "前年" => -2,
        "去年" => -1,
        "明年" => 1,
        _ => 0,
    };
    Some(today.year().checked_add(offset))
}

fn read_cn_year(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let offset = match caps.get(0)?.as_str() {
        "前年" => -2,
        "去年" => -1,
        "明年" => 1,
        "后年" => 2,
        _ => 0,
    };
    year_range(ctx.today.year().checked_add(offset)?)
}

/// How far a Chinese or English unit ("天", "个月", "weeks") moves a date.
enum Step {
    Days(i64),
    Months(i64),
}

fn step(n: &str, unit: &str) -> Option<Step> {
    let half = n == "半";
    let n = if half { 0 } else { i64::from(parse_count(n)?) };
    let unit = unit.to_lowercase();
    Some(match unit.trim_start_matches('个') {
        "天" | "日" | "day" if half => Step::Days(0),
        "天" | "日" | "day" => Step::Days(n),
        "周" | "星期" | "礼拜" | "week" if !half => Step::Days(n * 7),
        "月" | "month" if half => Step::Days(15),
        "月" | "month" => Step::Months(n),
        "年" | "year" if half => Step::Months(6),
        "年" | "year" => Step::Months(n * 12),
        _ => return None,
    })
}

fn apply(today: Date, step: &Step, sign: i64) -> Option<Date> {
    match *step {
        Step::Days(n) => shift(today, n * sign),
        Step::Months(n) => add_months(today, n * sign),
    }
}

fn read_cn_ago(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let step = step(caps.name("n")?.as_str(), caps.name("unit")?.as_str())?;
    let sign = if caps.name("dir")?.as_str().ends_with('前') { -1 } else { 1 };
    Some(day(apply(ctx.today, &step, sign)?))
}

/// "最近3天", "the last 3 days": a range that ends today.
fn read_recent(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let step = step(caps.name("n")?.as_str(), caps.name("unit")?.as_str())?;
    let from = match step {
        Step::Days(0) => return None,
        Step::Days(n) => shift(ctx.today, 1 - n)?,
        Step::Months(_) => shift(apply(ctx.today, &step, -1)?, 1)?,
    };
    Some(range(from, ctx.today))
}

/// A day with an optional year: "2026年11月2日", "11月2号", "Nov 2, 2026", "2 Nov", "11/02/2026".
fn read_ymd(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let month = month_number(caps.name("m").or_else(|| caps.name("mon"))?.as_str())?;
    let d = u8::try_from(parse_count(caps.name("d")?.as_str())?).ok()?;
    let date = match explicit_year(caps, ctx.today) {
        Some(year) => Date::from_calendar_date(year?, month, d).ok()?,
        None => nearest(ctx.today, month, d)?,
    };
    Some(day(date))
}

/// "11月", "2026年11月份": a whole month; "2月30日" is rejected here too, not read as "2月".
fn read_cn_month_name(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let after = ctx.text.get(caps.get(0)?.end()..)?.trim_start();
    if after.starts_with(|c: char| c.is_ascii_digit() || "一二三四五六七八九十".contains(c))
    {
        return None;
    }
    let month = month_number(caps.name("m")?.as_str())?;
    let year = match explicit_year(caps, ctx.today) {
        Some(year) => year?,
        None => nearest(ctx.today, month, 1)?.year(),
    };
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    Some(range(first, Date::from_calendar_date(year, month, month.length(year)).ok()?))
}

fn read_cn_year_number(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let after = ctx.text.get(caps.get(0)?.end()..)?.trim_start();
    if after.starts_with(|c: char| c.is_ascii_digit() || "一二三四五六七八九十".contains(c))
    {
        return None;
    }
    let year: i32 = caps.name("y")?.as_str().parse().ok()?;
    if !(1900..=2100).contains(&year) {
        return None;
    }
    year_range(year)
}

/// "2026-11-02", "2026/11/02", "2026.11.02": both separators the same.
fn read_iso(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    if caps.name("s1")?.as_str() != caps.name("s2")?.as_str() {
        return None;
    }
    read_ymd(caps, ctx)
}

/// "11-02", "11/2": month first. Guarded against ranges and fractions ("1-2天", "10-12个工作日",
/// "1/2").
fn read_month_day(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let (m, d) = (caps.name("m")?.as_str(), caps.name("d")?.as_str());
    let sep = caps.name("s1")?.as_str();
    let padded = m.len() == 2 && d.len() == 2;
    if !(padded || (sep == "/" && (m.len() == 2 || d.len() == 2))) {
        return None;
    }
    let whole = caps.get(0)?;
    if ctx.char_before(whole.start()).is_some_and(|c| "/-.:".contains(c)) {
        return None;
    }
    let after = ctx.text.get(whole.end()..)?.trim_start();
    if after.starts_with(|c: char| "/-.:%个天日小分工周月年元块岁件台点".contains(c))
    {
        return None;
    }
    read_ymd(caps, ctx)
}

// ---- English -----------------------------------------------------------------------------------

fn read_en_day_word(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let lower = caps.get(0)?.as_str().to_lowercase();
    let offset = if lower.ends_with("before yesterday") {
        -2
    } else if lower.ends_with("after tomorrow") {
        2
    } else if lower == "yesterday" {
        -1
    } else if lower == "tomorrow" {
        1
    } else {
        0
    };
    Some(day(shift(ctx.today, offset)?))
}

fn read_en_weekday(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let name = caps.name("wd")?.as_str().to_lowercase();
    let wd = u8::try_from(
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .position(|p| name.starts_with(p))?,
    )
    .ok()?;
    let pre = caps.name("pre").map(|m| m.as_str().to_lowercase());
    let full_name = name.ends_with("day");
    // Abbreviations are words too ("sun", "sat", "wed"); take them only after a modifier.
    if !full_name && pre.is_none() {
        return None;
    }
    let d = match pre.as_deref() {
        Some("last" | "past" | "previous") => most_recent(ctx.today, wd, false)?,
        Some("this") => weekday_of_week(ctx.today, 0, wd)?,
        Some("next") => weekday_of_week(ctx.today, 1, wd)?,
        Some("coming") => {
            let back = most_recent(ctx.today, wd, true)?;
            shift(back, 7)?
        }
        _ => most_recent(ctx.today, wd, true)?,
    };
    Some(day(d))
}

fn read_en_period(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let pre = caps.name("pre")?.as_str().to_lowercase();
    let unit = caps.name("unit")?.as_str().to_lowercase();
    let offset = match pre.as_str() {
        "last" | "past" | "previous" => -1,
        "next" | "coming" => 1,
        _ => 0,
    };
    match unit.as_str() {
        "week" => week(ctx.today, offset),
        "weekend" => {
            let saturday = weekday_of_week(ctx.today, offset, 5)?;
            Some(range(saturday, shift(saturday, 1)?))
        }
        "month" => {
            let (first, last) = month_range(ctx.today, offset)?;
            Some(range(first, last))
        }
        _ => year_range(ctx.today.year().checked_add(i32::try_from(offset).ok()?)?),
    }
}

fn read_en_ago(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let step = step(caps.name("n")?.as_str(), caps.name("unit")?.as_str())?;
    let dir = caps.name("dir")?.as_str().to_lowercase();
    let sign = if dir == "later" || dir == "from now" { 1 } else { -1 };
    Some(day(apply(ctx.today, &step, sign)?))
}

fn read_en_in(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let step = step(caps.name("n")?.as_str(), caps.name("unit")?.as_str())?;
    Some(day(apply(ctx.today, &step, 1)?))
}

fn read_en_month_year(caps: &Captures<'_>, _: &Ctx<'_>) -> Option<EntityValue> {
    let month = month_number(caps.name("mon")?.as_str())?;
    let year: i32 = caps.name("y")?.as_str().parse().ok()?;
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    Some(range(first, Date::from_calendar_date(year, month, month.length(year)).ok()?))
}
