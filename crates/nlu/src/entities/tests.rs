//! Tests for entity extraction: one snapshot per recogniser, each a list of messages and what
//! was found in them, plus overlap, configuration and robustness checks.

use std::fmt::Write as _;

use expect_test::{Expect, expect};
use time::{Date, Month};

use super::numbers::{parse_cn_int, parse_count, parse_decimal_scaled};
use super::*;

/// 2026-12-02, a Wednesday.
fn today() -> Date {
    Date::from_calendar_date(2026, Month::December, 2).unwrap()
}

fn catalogue() -> EntityConfig {
    let product = |sku: &str, name: &str, aliases: &[&str]| Product {
        sku: sku.to_owned(),
        name: name.to_owned(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
    };
    EntityConfig {
        products: vec![
            product("IP15", "iPhone 15", &["苹果15"]),
            product("IP15P", "iPhone 15 Pro", &["苹果15 Pro", "15pro"]),
            product("AIRPODS-PRO2", "AirPods Pro 2", &["降噪耳机"]),
            product("MI-WASH-10", "小米洗衣机", &["滚筒洗衣机"]),
        ],
        ..EntityConfig::default()
    }
}

fn render_value(value: &EntityValue) -> String {
    match value {
        EntityValue::Text(t) => t.clone(),
        EntityValue::Money { minor_units, currency } => {
            format!("{} {}.{:02}", currency.code(), minor_units / 100, minor_units % 100)
        }
        EntityValue::Date { from, to } if from == to => format!("{from} ({})", from.weekday()),
        EntityValue::Date { from, to } => format!("{from}..{to}"),
        EntityValue::Product { sku } => format!("sku {sku}"),
    }
}

fn render(extractor: &Extractor, inputs: &[&str]) -> String {
    let mut out = String::new();
    for input in inputs {
        writeln!(out, "{input}").unwrap();
        let entities = extractor.extract(input, today());
        if entities.is_empty() {
            writeln!(out, "  -").unwrap();
        }
        for e in entities {
            assert_eq!(&input[e.start..e.end], e.text);
            let kind = format!("{:?}", e.kind);
            writeln!(out, "  {kind:<8} {:?} = {}", e.text, render_value(&e.value)).unwrap();
        }
    }
    out
}

fn check(inputs: &[&str], expect: Expect) {
    let extractor = Extractor::new(&catalogue()).unwrap();
    expect.assert_eq(&render(&extractor, inputs));
}

#[test]
fn order_numbers() {
    check(
        &[
            "订单号DD20261102001还没发货",
            "my order dd20261102001 hasn't arrived",
            "单号：4200001234567890123",
            "订单 1234567890",
            "订单号ＤＤ２０２６１１０２００１",
            "DD2026 is too short, so is 123456789",
            "X12345678901234567890123 is too long",
        ],
        expect![[r#"
            订单号DD20261102001还没发货
              OrderNo  "DD20261102001" = DD20261102001
            my order dd20261102001 hasn't arrived
              OrderNo  "dd20261102001" = DD20261102001
            单号：4200001234567890123
              OrderNo  "4200001234567890123" = 4200001234567890123
            订单 1234567890
              OrderNo  "1234567890" = 1234567890
            订单号ＤＤ２０２６１１０２００１
              OrderNo  "ＤＤ２０２６１１０２００１" = DD20261102001
            DD2026 is too short, so is 123456789
              -
            X12345678901234567890123 is too long
              -
        "#]],
    );
}

#[test]
fn workspace_order_patterns() {
    let config = EntityConfig {
        order_patterns: vec![r"\b[A-Z]{2}\d{10}\b".to_owned()],
        products: Vec::new(),
    };
    let extractor = Extractor::new(&config).unwrap();
    expect![[r#"
        订单JD2026110200到哪了
          OrderNo  "JD2026110200" = JD2026110200
        JD20261102001 has one digit too many
          -
        手机13800138000
          Phone    "13800138000" = 13800138000
    "#]]
    .assert_eq(&render(
        &extractor,
        &["订单JD2026110200到哪了", "JD20261102001 has one digit too many", "手机13800138000"],
    ));

    let bad = EntityConfig { order_patterns: vec!["DD(".to_owned()], products: Vec::new() };
    let err = Extractor::new(&bad).unwrap_err();
    assert!(matches!(&err, ConfigError::OrderPattern { pattern, .. } if pattern == "DD("));
    assert!(err.to_string().starts_with("invalid order-number pattern `DD(`"), "{err}");
}

#[test]
fn phones() {
    check(
        &[
            "我的手机13800138000",
            "电话 138-0013-8000 或 138 0013 8000",
            "+86 138 0013 8000",
            "+8613800138000，8613900139000",
            "座机010-12345678，深圳0755-1234567",
            "(021) 61234567",
            "客服400-820-8820",
            "call me at +1 415-555-2671",
            "UK office +44 20 7946 0958",
            "１３８００１３８０００",
            "1380013800012345 is not a phone",
            "12800138000 is not a mobile",
        ],
        expect![[r#"
            我的手机13800138000
              Phone    "13800138000" = 13800138000
            电话 138-0013-8000 或 138 0013 8000
              Phone    "138-0013-8000" = 13800138000
              Phone    "138 0013 8000" = 13800138000
            +86 138 0013 8000
              Phone    "+86 138 0013 8000" = 13800138000
            +8613800138000，8613900139000
              Phone    "+8613800138000" = 13800138000
              Phone    "8613900139000" = 13900139000
            座机010-12345678，深圳0755-1234567
              Phone    "010-12345678" = 01012345678
              Phone    "0755-1234567" = 07551234567
            (021) 61234567
              Phone    "(021) 61234567" = 02161234567
            客服400-820-8820
              Phone    "400-820-8820" = 4008208820
            call me at +1 415-555-2671
              Phone    "+1 415-555-2671" = +14155552671
            UK office +44 20 7946 0958
              Phone    "+44 20 7946 0958" = +442079460958
            １３８００１３８０００
              Phone    "１３８００１３８０００" = 13800138000
            1380013800012345 is not a phone
              OrderNo  "1380013800012345" = 1380013800012345
            12800138000 is not a mobile
              OrderNo  "12800138000" = 12800138000
        "#]],
    );
}

#[test]
fn emails() {
    check(
        &[
            "邮箱Zhang.San@Example.COM，谢谢",
            "mail me: a_b+tag@mail.example.co.uk.",
            "ｚｓ＠ｑｑ．ｃｏｍ",
            "13800138000@qq.com",
            "not an email: a@b, @home, x@y.z",
        ],
        expect![[r#"
            邮箱Zhang.San@Example.COM，谢谢
              Email    "Zhang.San@Example.COM" = zhang.san@example.com
            mail me: a_b+tag@mail.example.co.uk.
              Email    "a_b+tag@mail.example.co.uk" = a_b+tag@mail.example.co.uk
            ｚｓ＠ｑｑ．ｃｏｍ
              Email    "ｚｓ＠ｑｑ．ｃｏｍ" = zs@qq.com
            13800138000@qq.com
              Email    "13800138000@qq.com" = 13800138000@qq.com
            not an email: a@b, @home, x@y.z
              -
        "#]],
    );
}

#[test]
fn money() {
    check(
        &[
            "退我¥200",
            "￥1,299.50",
            "赔偿2,000元",
            "两千元",
            "三百五十块",
            "1.5万元",
            "补偿五千块钱",
            "一万二块",
            "3块5",
            "三元五角",
            "5毛钱",
            "3块50个",
            "两块钱",
            "3块5毛钱",
            "1.5w",
            "¥ 200元",
            "RMB 88",
            "CNY1000",
            "100人民币",
            "$19.99",
            "US$5",
            "20 dollars",
            "USD 1,000",
            "5k dollars",
            "20 bucks",
            "HK$100 or 50 EUR or €3",
            "我们一块儿去",
            "买了毛衣",
            "五千 without a marker",
            "99999999999999999999元 overflows",
        ],
        expect![[r#"
            退我¥200
              Money    "¥200" = CNY 200.00
            ￥1,299.50
              Money    "￥1,299.50" = CNY 1299.50
            赔偿2,000元
              Money    "2,000元" = CNY 2000.00
            两千元
              Money    "两千元" = CNY 2000.00
            三百五十块
              Money    "三百五十块" = CNY 350.00
            1.5万元
              Money    "1.5万元" = CNY 15000.00
            补偿五千块钱
              Money    "五千块钱" = CNY 5000.00
            一万二块
              Money    "一万二块" = CNY 12000.00
            3块5
              Money    "3块5" = CNY 3.50
            三元五角
              Money    "三元五角" = CNY 3.50
            5毛钱
              Money    "5毛钱" = CNY 0.50
            3块50个
              Money    "3块" = CNY 3.00
            两块钱
              Money    "两块钱" = CNY 2.00
            3块5毛钱
              Money    "3块5毛钱" = CNY 3.50
            1.5w
              -
            ¥ 200元
              Money    "¥ 200元" = CNY 200.00
            RMB 88
              Money    "RMB 88" = CNY 88.00
            CNY1000
              Money    "CNY1000" = CNY 1000.00
            100人民币
              Money    "100人民币" = CNY 100.00
            $19.99
              Money    "$19.99" = USD 19.99
            US$5
              Money    "US$5" = USD 5.00
            20 dollars
              Money    "20 dollars" = USD 20.00
            USD 1,000
              Money    "USD 1,000" = USD 1000.00
            5k dollars
              Money    "5k dollars" = USD 5000.00
            20 bucks
              Money    "20 bucks" = USD 20.00
            HK$100 or 50 EUR or €3
              Money    "HK$100" = HKD 100.00
              Money    "50 EUR" = EUR 50.00
              Money    "€3" = EUR 3.00
            我们一块儿去
              -
            买了毛衣
              -
            五千 without a marker
              -
            99999999999999999999元 overflows
              OrderNo  "99999999999999999999" = 99999999999999999999
        "#]],
    );
}

#[test]
fn dates_zh() {
    check(
        &[
            "今天 今日 昨天 前天 明天 后天 大前天 大后天",
            "上周五我下的单",
            "本周三 这周一 下周二 上上周五",
            "周五我下的单",
            "星期五",
            "礼拜天",
            "周三",
            "上个星期五",
            "每周五发货",
            "上周",
            "本周",
            "下周",
            "这个周末",
            "周末",
            "上个月",
            "这个月",
            "上月",
            "下个月",
            "晚上月亮很圆",
            "去年 今年",
            "3天前",
            "三天前",
            "两周前",
            "半个月前",
            "3个月前",
            "一年前",
            "5天后",
            "最近三天",
            "近7天内",
            "11月2日",
            "11月2号",
            "2026年11月2日",
            "去年11月2日",
            "今年3月",
            "十一月二日",
            "12月25日",
            "1月5日",
            "11月份",
            "2025年3月",
            "2026-11-02",
            "2026/11/02",
            "2026.11.02",
            "11-02",
            "11/2",
            "2月30日",
            "2026-02-30",
            "1-2天",
            "10-12个工作日",
            "这周围",
        ],
        expect![[r#"
            今天 今日 昨天 前天 明天 后天 大前天 大后天
              Date     "今天" = 2026-12-02 (Wednesday)
              Date     "今日" = 2026-12-02 (Wednesday)
              Date     "昨天" = 2026-12-01 (Tuesday)
              Date     "前天" = 2026-11-30 (Monday)
              Date     "明天" = 2026-12-03 (Thursday)
              Date     "后天" = 2026-12-04 (Friday)
              Date     "大前天" = 2026-11-29 (Sunday)
              Date     "大后天" = 2026-12-05 (Saturday)
            上周五我下的单
              Date     "上周五" = 2026-11-27 (Friday)
            本周三 这周一 下周二 上上周五
              Date     "本周三" = 2026-12-02 (Wednesday)
              Date     "这周一" = 2026-11-30 (Monday)
              Date     "下周二" = 2026-12-08 (Tuesday)
              Date     "上上周五" = 2026-11-20 (Friday)
            周五我下的单
              Date     "周五" = 2026-11-27 (Friday)
            星期五
              Date     "星期五" = 2026-11-27 (Friday)
            礼拜天
              Date     "礼拜天" = 2026-11-29 (Sunday)
            周三
              Date     "周三" = 2026-12-02 (Wednesday)
            上个星期五
              Date     "上个星期五" = 2026-11-27 (Friday)
            每周五发货
              -
            上周
              Date     "上周" = 2026-11-23..2026-11-29
            本周
              Date     "本周" = 2026-11-30..2026-12-06
            下周
              Date     "下周" = 2026-12-07..2026-12-13
            这个周末
              Date     "这个周末" = 2026-12-05..2026-12-06
            周末
              Date     "周末" = 2026-11-28..2026-11-29
            上个月
              Date     "上个月" = 2026-11-01..2026-11-30
            这个月
              Date     "这个月" = 2026-12-01..2026-12-31
            上月
              Date     "上月" = 2026-11-01..2026-11-30
            下个月
              Date     "下个月" = 2027-01-01..2027-01-31
            晚上月亮很圆
              -
            去年 今年
              Date     "去年" = 2025-01-01..2025-12-31
              Date     "今年" = 2026-01-01..2026-12-31
            3天前
              Date     "3天前" = 2026-11-29 (Sunday)
            三天前
              Date     "三天前" = 2026-11-29 (Sunday)
            两周前
              Date     "两周前" = 2026-11-18 (Wednesday)
            半个月前
              Date     "半个月前" = 2026-11-17 (Tuesday)
            3个月前
              Date     "3个月前" = 2026-09-02 (Wednesday)
            一年前
              Date     "一年前" = 2025-12-02 (Tuesday)
            5天后
              Date     "5天后" = 2026-12-07 (Monday)
            最近三天
              Date     "最近三天" = 2026-11-30..2026-12-02
            近7天内
              Date     "近7天内" = 2026-11-26..2026-12-02
            11月2日
              Date     "11月2日" = 2026-11-02 (Monday)
            11月2号
              Date     "11月2号" = 2026-11-02 (Monday)
            2026年11月2日
              Date     "2026年11月2日" = 2026-11-02 (Monday)
            去年11月2日
              Date     "去年11月2日" = 2025-11-02 (Sunday)
            今年3月
              Date     "今年3月" = 2026-03-01..2026-03-31
            十一月二日
              Date     "十一月二日" = 2026-11-02 (Monday)
            12月25日
              Date     "12月25日" = 2026-12-25 (Friday)
            1月5日
              Date     "1月5日" = 2027-01-05 (Tuesday)
            11月份
              Date     "11月份" = 2026-11-01..2026-11-30
            2025年3月
              Date     "2025年3月" = 2025-03-01..2025-03-31
            2026-11-02
              Date     "2026-11-02" = 2026-11-02 (Monday)
            2026/11/02
              Date     "2026/11/02" = 2026-11-02 (Monday)
            2026.11.02
              Date     "2026.11.02" = 2026-11-02 (Monday)
            11-02
              Date     "11-02" = 2026-11-02 (Monday)
            11/2
              Date     "11/2" = 2026-11-02 (Monday)
            2月30日
              -
            2026-02-30
              -
            1-2天
              -
            10-12个工作日
              -
            这周围
              -
        "#]],
    );
}

#[test]
fn dates_en() {
    check(
        &[
            "today, yesterday and tomorrow",
            "the day before yesterday",
            "last Friday",
            "this Monday",
            "next Tuesday",
            "on Friday",
            "Friday",
            "last sat",
            "I sat down on the sun",
            "3 days ago",
            "two weeks ago",
            "a couple of days ago",
            "in 3 days",
            "last week",
            "last month",
            "this month",
            "next year",
            "last weekend",
            "in the last 7 days",
            "Nov 2",
            "November 2, 2026",
            "2 Nov",
            "Nov 2nd",
            "the 3rd of March",
            "Dec. 25",
            "November 2026",
            "2026-11-02",
            "11/02/2026",
            "Feb 30",
            "TODAY",
            "todays special",
        ],
        expect![[r#"
            today, yesterday and tomorrow
              Date     "today" = 2026-12-02 (Wednesday)
              Date     "yesterday" = 2026-12-01 (Tuesday)
              Date     "tomorrow" = 2026-12-03 (Thursday)
            the day before yesterday
              Date     "the day before yesterday" = 2026-11-30 (Monday)
            last Friday
              Date     "last Friday" = 2026-11-27 (Friday)
            this Monday
              Date     "this Monday" = 2026-11-30 (Monday)
            next Tuesday
              Date     "next Tuesday" = 2026-12-08 (Tuesday)
            on Friday
              Date     "on Friday" = 2026-11-27 (Friday)
            Friday
              Date     "Friday" = 2026-11-27 (Friday)
            last sat
              Date     "last sat" = 2026-11-28 (Saturday)
            I sat down on the sun
              -
            3 days ago
              Date     "3 days ago" = 2026-11-29 (Sunday)
            two weeks ago
              Date     "two weeks ago" = 2026-11-18 (Wednesday)
            a couple of days ago
              Date     "a couple of days ago" = 2026-11-30 (Monday)
            in 3 days
              Date     "in 3 days" = 2026-12-05 (Saturday)
            last week
              Date     "last week" = 2026-11-23..2026-11-29
            last month
              Date     "last month" = 2026-11-01..2026-11-30
            this month
              Date     "this month" = 2026-12-01..2026-12-31
            next year
              Date     "next year" = 2027-01-01..2027-12-31
            last weekend
              Date     "last weekend" = 2026-11-28..2026-11-29
            in the last 7 days
              Date     "in the last 7 days" = 2026-11-26..2026-12-02
            Nov 2
              Date     "Nov 2" = 2026-11-02 (Monday)
            November 2, 2026
              Date     "November 2, 2026" = 2026-11-02 (Monday)
            2 Nov
              Date     "2 Nov" = 2026-11-02 (Monday)
            Nov 2nd
              Date     "Nov 2nd" = 2026-11-02 (Monday)
            the 3rd of March
              Date     "3rd of March" = 2027-03-03 (Wednesday)
            Dec. 25
              Date     "Dec. 25" = 2026-12-25 (Friday)
            November 2026
              Date     "November 2026" = 2026-11-01..2026-11-30
            2026-11-02
              Date     "2026-11-02" = 2026-11-02 (Monday)
            11/02/2026
              Date     "11/02/2026" = 2026-11-02 (Monday)
            Feb 30
              -
            TODAY
              Date     "TODAY" = 2026-12-02 (Wednesday)
            todays special
              -
        "#]],
    );
}

#[test]
fn products() {
    check(
        &[
            "我的iPhone 15 Pro充不进电",
            "iphone 15 broken",
            "IPHONE15PRO",
            "苹果15 Pro和苹果15",
            "SKU IP15P",
            "降噪耳机没声音",
            "小米洗衣机漏水",
            "iPhone 150 is not a product",
            "ｉＰｈｏｎｅ　１５",
        ],
        expect![[r#"
            我的iPhone 15 Pro充不进电
              Product  "iPhone 15 Pro" = sku IP15P
            iphone 15 broken
              Product  "iphone 15" = sku IP15
            IPHONE15PRO
              Product  "IPHONE15PRO" = sku IP15P
            苹果15 Pro和苹果15
              Product  "苹果15 Pro" = sku IP15P
              Product  "苹果15" = sku IP15
            SKU IP15P
              Product  "IP15P" = sku IP15P
            降噪耳机没声音
              Product  "降噪耳机" = sku AIRPODS-PRO2
            小米洗衣机漏水
              Product  "小米洗衣机" = sku MI-WASH-10
            iPhone 150 is not a product
              -
            ｉＰｈｏｎｅ　１５
              Product  "ｉＰｈｏｎｅ\u{3000}１５" = sku IP15
        "#]],
    );
}

#[test]
fn overlaps_and_mixtures() {
    check(
        &[
            "订单DD13800138000，手机13800138000",
            "订单号4200001234567890，联系电话13800138000，昨天付了¥2,000",
            "11月2日在iPhone 15 Pro上花了$999，邮箱a@b.com",
            "上周五下的单DD20261102001，3天前退款199元还没到",
            "order DD20261102001 placed last Friday, refund $19.99 to me@x.io",
            "¥13800138000",
            "2026-11-02 13800138000",
            "订单号13800138000",
            "order no. 13800138000, phone 13900139000",
        ],
        expect![[r#"
            订单DD13800138000，手机13800138000
              OrderNo  "DD13800138000" = DD13800138000
              Phone    "13800138000" = 13800138000
            订单号4200001234567890，联系电话13800138000，昨天付了¥2,000
              OrderNo  "4200001234567890" = 4200001234567890
              Phone    "13800138000" = 13800138000
              Date     "昨天" = 2026-12-01 (Tuesday)
              Money    "¥2,000" = CNY 2000.00
            11月2日在iPhone 15 Pro上花了$999，邮箱a@b.com
              Date     "11月2日" = 2026-11-02 (Monday)
              Product  "iPhone 15 Pro" = sku IP15P
              Money    "$999" = USD 999.00
              Email    "a@b.com" = a@b.com
            上周五下的单DD20261102001，3天前退款199元还没到
              Date     "上周五" = 2026-11-27 (Friday)
              OrderNo  "DD20261102001" = DD20261102001
              Date     "3天前" = 2026-11-29 (Sunday)
              Money    "199元" = CNY 199.00
            order DD20261102001 placed last Friday, refund $19.99 to me@x.io
              OrderNo  "DD20261102001" = DD20261102001
              Date     "last Friday" = 2026-11-27 (Friday)
              Money    "$19.99" = USD 19.99
              Email    "me@x.io" = me@x.io
            ¥13800138000
              Money    "¥13800138000" = CNY 13800138000.00
            2026-11-02 13800138000
              Date     "2026-11-02" = 2026-11-02 (Monday)
              Phone    "13800138000" = 13800138000
            订单号13800138000
              OrderNo  "13800138000" = 13800138000
            order no. 13800138000, phone 13900139000
              OrderNo  "13800138000" = 13800138000
              Phone    "13900139000" = 13900139000
        "#]],
    );
}

#[test]
fn number_parsers() {
    let inputs = [
        "三百五十",
        "一百零五",
        "两千",
        "三千五",
        "一万二",
        "十五",
        "十",
        "二〇二六",
        "一亿两千万",
        "百",
        "万",
        "一二",
        "一二三四五六七八九〇一二三四五六七八九〇一",
    ];
    let rendered: String =
        inputs.iter().map(|s| format!("{s} = {:?}\n", parse_cn_int(s))).collect();
    expect![[r#"
        三百五十 = Some(350)
        一百零五 = Some(105)
        两千 = Some(2000)
        三千五 = Some(3500)
        一万二 = Some(12000)
        十五 = Some(15)
        十 = Some(10)
        二〇二六 = Some(2026)
        一亿两千万 = Some(120000000)
        百 = None
        万 = None
        一二 = Some(12)
        一二三四五六七八九〇一二三四五六七八九〇一 = None
    "#]]
    .assert_eq(&rendered);
    assert_eq!(parse_count("a couple of"), Some(2));
    assert_eq!(parse_count("99999"), None);
    assert_eq!(parse_decimal_scaled("1,299.995", 1, 2), Some(130_000));
    assert_eq!(parse_decimal_scaled("1.5", 10_000, 2), Some(1_500_000));
    assert_eq!(parse_decimal_scaled("99999999999999999999", 1, 2), None);
}

#[test]
fn dates_at_the_edges_of_time() {
    let extractor = Extractor::new(&EntityConfig::default()).unwrap();
    for today in [Date::MIN, Date::MAX] {
        for text in ["昨天 明天 上周五 下个月 3天前 in 3 days next year 11月2日 周末", "last month"]
        {
            let _ = extractor.extract(text, today);
        }
    }
    // Leap days resolve to the nearest year that has one.
    let leap = Date::from_calendar_date(2027, Month::December, 2).unwrap();
    let found = extractor.extract("2月29日", leap);
    let feb29 = Date::from_calendar_date(2028, Month::February, 29).unwrap();
    assert_eq!(found[0].value, EntityValue::Date { from: feb29, to: feb29 });
}

/// A small deterministic generator, so that robustness inputs are the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next_u64() % items.len() as u64) as usize]
    }
}

fn assert_valid(text: &str, entities: &[Entity]) {
    let mut last_end = 0;
    for e in entities {
        assert!(e.start >= last_end && e.start < e.end, "{e:?} in {text:?}");
        assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end), "{e:?}");
        assert_eq!(&text[e.start..e.end], e.text);
        last_end = e.end;
    }
}

#[test]
fn never_panics_and_spans_are_valid() {
    let extractor = Extractor::new(&catalogue()).unwrap();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let pieces = [
        "1",
        "3",
        "8",
        "0",
        "13800138000",
        "-",
        " ",
        "/",
        ".",
        ",",
        "+86",
        "年",
        "月",
        "日",
        "号",
        "周",
        "上",
        "下",
        "个",
        "天",
        "前",
        "¥",
        "$",
        "元",
        "块",
        "万",
        "两",
        "三",
        "十",
        "@",
        "a",
        "Z",
        "day",
        "s",
        " ago",
        "last ",
        "Friday",
        "Nov ",
        "iPhone 15",
        " Pro",
        "苹果15",
        "\u{301}",
        "\u{200D}",
        "🙂",
        "👩‍👩‍👧",
        "\u{FFFD}",
        "１",
        "ＤＤ",
        "\u{3000}",
        "\0",
        "\n",
        "é",
        "DD2026",
        "0755-",
        "2026-",
        "毛",
        "儿",
        "k",
        "US$",
        "ｉＰｈｏｎｅ",
    ];
    for _ in 0..2000 {
        let n = (rng.next_u64() % 40) as usize;
        let text: String = (0..n).map(|_| rng.pick(&pieces)).collect();
        assert_valid(&text, &extractor.extract(&text, today()));
    }
    for _ in 0..200 {
        let bytes: Vec<u8> = (0..(rng.next_u64() % 200)).map(|_| rng.next_u64() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        assert_valid(&text, &extractor.extract(&text, today()));
    }
    let long_inputs = [
        "1".repeat(100_000),
        "13800138000 ".repeat(10_000),
        "\u{301}".repeat(100_000),
        "🙂".repeat(50_000),
        "上周五¥2,000元Nov 2 iPhone 15 Pro ".repeat(3_000),
        "１２３ＡＢＣ".repeat(20_000),
        "万".repeat(100_000),
        "a@".repeat(50_000),
        "x".repeat(1 << 20),
    ];
    for text in &long_inputs {
        assert_valid(text, &extractor.extract(text, today()));
    }
    assert!(extractor.extract("", today()).is_empty());
}

#[test]
fn extractor_can_be_shared() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Extractor>();
}
