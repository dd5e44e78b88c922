//! Number words shared by the money and date recognisers: Chinese numerals ("三百五十", "一万二",
//! "二〇二六"), small English number words ("two", "a couple of") and decimal strings.
//!
//! Every parser here returns `None` rather than overflowing, whatever the input length.

/// The characters a Chinese numeral is made of, for use inside regex character classes.
pub(super) const CN_NUMERAL_CHARS: &str = "零〇一二两三四五六七八九十百千万亿";

fn cn_digit(c: char) -> Option<u64> {
    Some(match c {
        '零' | '〇' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// Parses a Chinese numeral into an integer.
///
/// Handles units ("三百五十" = 350, "一百零五" = 105, "两千" = 2000, "一亿两千万"), the colloquial
/// elision of the last unit ("三千五" = 3500, "一万二" = 12000) and positional digit strings
/// ("二〇二六" = 2026).
pub(super) fn parse_cn_int(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    if s.chars().all(|c| cn_digit(c).is_some()) {
        let mut n: u64 = 0;
        for c in s.chars() {
            n = n.checked_mul(10)?.checked_add(cn_digit(c)?)?;
        }
        return Some(n);
    }
    let (mut yi, mut wan, mut sec) = (0u64, 0u64, 0u64);
    let mut pending: Option<u64> = None;
    // The unit that the previous token closed, for the colloquial elision ("三千五").
    let mut last_unit: u64 = 0;
    let mut zero_gap = false;
    for c in s.chars() {
        if let Some(d) = cn_digit(c) {
            if pending.is_some() {
                return None;
            }
            if d == 0 {
                zero_gap = true;
            } else {
                pending = Some(d);
            }
            continue;
        }
        let unit: u64 = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            '万' => 10_000,
            '亿' => 100_000_000,
            _ => return None,
        };
        zero_gap = false;
        match unit {
            10 | 100 | 1000 => {
                // "十五" has an implicit one; "百" and "千" need an explicit digit.
                let d = match pending.take() {
                    Some(d) => d,
                    None if unit == 10 => 1,
                    None => return None,
                };
                sec = sec.checked_add(d.checked_mul(unit)?)?;
            }
            10_000 => {
                let part = sec.checked_add(pending.take().unwrap_or(0))?;
                if part == 0 {
                    return None;
                }
                wan = wan.checked_add(part)?;
                sec = 0;
            }
            _ => {
                let part = wan
                    .checked_mul(10_000)?
                    .checked_add(sec)?
                    .checked_add(pending.take().unwrap_or(0))?;
                if part == 0 {
                    return None;
                }
                yi = yi.checked_add(part)?;
                wan = 0;
                sec = 0;
            }
        }
        last_unit = unit;
    }
    if let Some(d) = pending {
        let scale = if zero_gap || last_unit < 10 { 1 } else { last_unit / 10 };
        sec = sec.checked_add(d.checked_mul(scale)?)?;
    }
    yi.checked_mul(100_000_000)?.checked_add(wan.checked_mul(10_000)?)?.checked_add(sec)
}

/// Parses a small count written in ASCII digits, Chinese numerals or English words
/// ("3", "三", "两", "two", "a", "a couple of"). Returns `None` above 1000.
pub(super) fn parse_count(s: &str) -> Option<u32> {
    let s = s.trim();
    let n: u64 = if s.bytes().all(|b| b.is_ascii_digit()) {
        if s.len() > 4 {
            return None;
        }
        s.parse().ok()?
    } else if let Some(n) = parse_cn_int(s) {
        n
    } else {
        let lower = s.to_ascii_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        match words.as_slice() {
            ["a" | "an" | "one"] => 1,
            ["two"] => 2,
            ["three"] => 3,
            ["four"] => 4,
            ["five"] => 5,
            ["six"] => 6,
            ["seven"] => 7,
            ["eight"] => 8,
            ["nine"] => 9,
            ["ten"] => 10,
            ["eleven"] => 11,
            ["twelve"] => 12,
            ["a", "couple", "of"] | ["couple", "of"] | ["a", "couple"] => 2,
            _ => return None,
        }
    };
    if n > 1000 { None } else { u32::try_from(n).ok() }
}

/// Parses an ASCII decimal ("2,000", "1.5", "19.99") scaled by `10^scale_digits` and multiplied
/// by `factor`, rounding half up at the last kept digit. `scale_digits = 2` turns yuan into fen.
pub(super) fn parse_decimal_scaled(s: &str, factor: u64, scale_digits: u32) -> Option<i64> {
    let s: String = s.chars().filter(|&c| c != ',').collect();
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s.as_str(), ""),
    };
    if int_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
        || int_part.len() > 19
    {
        return None;
    }
    // Keep at most 18 fraction digits; further digits cannot change a result that fits an i64.
    let frac_part = &frac_part[..frac_part.len().min(18)];
    let frac_len = u32::try_from(frac_part.len()).ok()?;
    let mut mantissa: i128 = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        mantissa = mantissa.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let scaled =
        mantissa.checked_mul(i128::from(factor))?.checked_mul(10i128.checked_pow(scale_digits)?)?;
    let divisor = 10i128.checked_pow(frac_len)?;
    let rounded = scaled.checked_add(divisor / 2)? / divisor;
    i64::try_from(rounded).ok()
}
