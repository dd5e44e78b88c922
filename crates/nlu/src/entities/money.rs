//! Money: an amount with a currency marker before ("¥200", "$1,299.99", "USD 20") or after it
//! ("200元", "三百五十块", "1.5万元", "5k dollars"), plus jiao ("3块5", "五毛钱").
//!
//! A bare number is never money: without a marker, "五千" may as well be steps or units.

use regex::Captures;

use super::numbers::{CN_NUMERAL_CHARS, parse_cn_int, parse_decimal_scaled};
use super::{Ctx, Currency, EntityKind, EntityValue, Rule};

/// An ASCII amount: thousands separators only in groups of three.
const AMOUNT: &str = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?";
const MAGNITUDE: &str = "[万千kKwW]";
const PREFIX_CURRENCY: &str = r"US\$|HK\$|[¥￥$€]|RMB|CNY|USD|HKD|EUR|人民币|美元|美金|港币|欧元";
const SUFFIX_CURRENCY: &str = "块钱|元钱|元|块|圆|人民币|RMB|CNY|美元|美金|USD|港币|港元|HKD|欧元|EUR|dollars?|bucks?|euros?|yuan";
const JIAO_DIGIT: &str = "[1-9一二两三四五六七八九]";

pub(super) fn rules() -> Vec<Rule> {
    let cn = format!("[{CN_NUMERAL_CHARS}]+");
    vec![
        Rule::builtin(
            EntityKind::Money,
            &format!(
                r"(?i)(?P<cur>{PREFIX_CURRENCY})\s?(?P<num>{AMOUNT})(?P<mag>{MAGNITUDE})?(?:元|块钱|块)?"
            ),
            read_amount,
        ),
        Rule::builtin(
            EntityKind::Money,
            &format!(
                r"(?i)(?P<num>{AMOUNT}|{cn})\s?(?P<mag>{MAGNITUDE})?\s?(?P<cur>{SUFFIX_CURRENCY})"
            ),
            read_amount,
        ),
        // "3块5", "三元五角", "3块5毛钱": yuan plus jiao.
        Rule::builtin(
            EntityKind::Money,
            &format!(r"(?P<num>[0-9]+|{cn})(?P<cur>块|元)(?P<jiao>{JIAO_DIGIT})(?:毛|角)?(?:钱)?"),
            read_amount,
        ),
        // "五毛钱", "5毛", "8角钱".
        Rule::builtin(
            EntityKind::Money,
            &format!(r"(?P<jiao>{JIAO_DIGIT})(?P<unit>毛钱|角钱|毛)"),
            read_jiao_only,
        ),
    ]
}

fn currency(marker: &str) -> Option<Currency> {
    let lower = marker.to_lowercase();
    Some(match lower.as_str() {
        "¥" | "￥" | "rmb" | "cny" | "人民币" | "元" | "块" | "块钱" | "元钱" | "圆" | "yuan" => {
            Currency::Cny
        }
        "$" | "us$" | "usd" | "美元" | "美金" | "dollar" | "dollars" | "buck" | "bucks" => {
            Currency::Usd
        }
        "hk$" | "hkd" | "港币" | "港元" => Currency::Hkd,
        "€" | "eur" | "欧元" | "euro" | "euros" => Currency::Eur,
        _ => return None,
    })
}

fn read_amount(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    let marker = caps.name("cur")?.as_str();
    let currency = currency(marker)?;
    // "一块儿" is "together", not one yuan.
    if marker == "块" && ctx.char_after(caps.get(0)?.end()) == Some('儿') {
        return None;
    }
    let factor: u64 = match caps.name("mag").map(|m| m.as_str()) {
        None => 1,
        Some("万" | "w" | "W") => 10_000,
        Some(_) => 1_000,
    };
    let num = caps.name("num")?.as_str();
    let mut minor = if num.starts_with(|c: char| c.is_ascii_digit()) {
        parse_decimal_scaled(num, factor, 2)?
    } else {
        let yuan = parse_cn_int(num)?.checked_mul(factor)?;
        i64::try_from(yuan).ok()?.checked_mul(100)?
    };
    if let Some(jiao) = caps.name("jiao") {
        if num.contains('.') {
            return None;
        }
        minor = minor.checked_add(jiao_value(jiao.as_str())?)?;
    }
    Some(EntityValue::Money { minor_units: minor, currency })
}

fn read_jiao_only(caps: &Captures<'_>, ctx: &Ctx<'_>) -> Option<EntityValue> {
    // "毛衣", "毛巾": wool, not money.
    if caps.name("unit")?.as_str() == "毛"
        && ctx.char_after(caps.get(0)?.end()).is_some_and(|c| "衣巾绒毯病发笔线料".contains(c))
    {
        return None;
    }
    let minor_units = jiao_value(caps.name("jiao")?.as_str())?;
    Some(EntityValue::Money { minor_units, currency: Currency::Cny })
}

/// One jiao digit in fen.
fn jiao_value(digit: &str) -> Option<i64> {
    let d = match digit.parse::<i64>() {
        Ok(d) => d,
        Err(_) => i64::try_from(parse_cn_int(digit)?).ok()?,
    };
    Some(d * 10)
}
