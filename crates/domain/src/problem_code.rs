//! Problem type codes (TK-3): a category (PQ / SP / TD / RL) and a two-digit sub-code, e.g.
//! `PQ-03`. The table of codes is data (seeded from the SPEC, editable per workspace); this
//! module only knows the shape of a code and the seed.

use std::fmt;

use crate::{Department, ParseError, named_enum};

named_enum! {
    pub enum ProblemCategory("problem_code") {
        ProductQuality = "PQ",
        ServiceProcess = "SP",
        TransactionDispute = "TD",
        RightsLegal = "RL",
    }
}

impl ProblemCategory {
    pub fn label_zh(self) -> &'static str {
        match self {
            ProblemCategory::ProductQuality => "产品质量",
            ProblemCategory::ServiceProcess => "服务流程",
            ProblemCategory::TransactionDispute => "交易纠纷",
            ProblemCategory::RightsLegal => "权益与法务",
        }
    }
}

/// A parsed problem code such as `PQ-03`, or a bare category such as `RL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProblemCode {
    category: ProblemCategory,
    sub: Option<u8>,
}

impl ProblemCode {
    pub fn parse(s: &str) -> Result<ProblemCode, ParseError> {
        let s = s.trim().to_ascii_uppercase();
        let bad = || {
            ParseError::new(
                "problem_code",
                format!(
                    "{s:?} is not a problem code; write a category (PQ, SP, TD, RL) optionally followed by a two-digit sub-code, e.g. PQ-03"
                ),
            )
        };
        let (cat, sub) = match s.split_once('-') {
            Some((c, n)) => (c, Some(n)),
            None => (s.as_str(), None),
        };
        let category = ProblemCategory::parse(cat).map_err(|_| bad())?;
        let sub = match sub {
            None => None,
            Some(n) if n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()) => match n.parse() {
                Ok(v) if v > 0 => Some(v),
                _ => return Err(bad()),
            },
            Some(_) => return Err(bad()),
        };
        Ok(ProblemCode { category, sub })
    }
    pub fn category(self) -> ProblemCategory {
        self.category
    }
    pub fn sub(self) -> Option<u8> {
        self.sub
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub {
            Some(n) => write!(f, "{}-{n:02}", self.category),
            None => write!(f, "{}", self.category),
        }
    }
}

/// One row of a workspace's code table.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemCodeEntry {
    pub code: ProblemCode,
    pub name_zh: String,
    pub name_en: String,
    /// The department that must review cases with this code, e.g. legal for RL-09.
    pub review_department: Option<Department>,
    pub active: bool,
}

/// The seed table: the SPEC's examples plus the common sub-codes of each category.
pub fn seed() -> Vec<ProblemCodeEntry> {
    use Department::*;
    let rows: &[(&str, &str, &str, Option<Department>)] = &[
        ("PQ", "产品质量", "Product quality", Some(Quality)),
        ("PQ-01", "外观瑕疵", "Cosmetic defect", None),
        ("PQ-02", "无法开机", "Does not power on", Some(Tech)),
        ("PQ-03", "主板故障", "Mainboard fault", Some(Tech)),
        ("PQ-04", "电池问题", "Battery problem", Some(Tech)),
        ("PQ-05", "配件缺失", "Missing accessory", None),
        ("PQ-06", "性能不符", "Performance not as described", Some(Quality)),
        ("SP", "服务流程", "Service process", None),
        ("SP-01", "服务态度", "Service attitude", None),
        ("SP-02", "响应超时", "Slow response", None),
        ("SP-05", "物流延误", "Delivery delay", Some(Logistics)),
        ("SP-08", "安装预约", "Installation appointment", None),
        ("SP-12", "维修超期", "Repair overdue", Some(Tech)),
        ("TD", "交易纠纷", "Transaction dispute", Some(Finance)),
        ("TD-01", "退款争议", "Refund dispute", Some(Finance)),
        ("TD-03", "价格争议", "Price dispute", Some(Finance)),
        ("TD-05", "发票问题", "Invoice problem", Some(Finance)),
        ("TD-07", "优惠券争议", "Coupon dispute", Some(Finance)),
        ("RL", "权益与法务", "Rights and legal", Some(Legal)),
        ("RL-01", "虚假宣传", "Misleading advertising", Some(Legal)),
        ("RL-03", "强制消费", "Forced consumption", Some(Legal)),
        ("RL-05", "合同违约", "Breach of contract", Some(Legal)),
        ("RL-09", "违规收集个人信息", "Unlawful collection of personal data", Some(Legal)),
    ];
    rows.iter()
        .map(|&(code, zh, en, dept)| ProblemCodeEntry {
            code: ProblemCode::parse(code).expect("seed codes are valid"),
            name_zh: zh.to_string(),
            name_en: en.to_string(),
            review_department: dept,
            active: true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes() {
        let check = |s: &str| match ProblemCode::parse(s) {
            Ok(c) => format!("{s} -> {c}"),
            Err(e) => format!("{s} -> error: {e}"),
        };
        let out: Vec<String> =
            ["PQ-03", " rl-09 ", "TD", "XX-01", "PQ-3", "PQ-00", "PQ-003", ""].map(check).into();
        expect_test::expect![[r#"
            [
                "PQ-03 -> PQ-03",
                " rl-09  -> RL-09",
                "TD -> TD",
                "XX-01 -> error: problem_code: \"XX-01\" is not a problem code; write a category (PQ, SP, TD, RL) optionally followed by a two-digit sub-code, e.g. PQ-03",
                "PQ-3 -> error: problem_code: \"PQ-3\" is not a problem code; write a category (PQ, SP, TD, RL) optionally followed by a two-digit sub-code, e.g. PQ-03",
                "PQ-00 -> error: problem_code: \"PQ-00\" is not a problem code; write a category (PQ, SP, TD, RL) optionally followed by a two-digit sub-code, e.g. PQ-03",
                "PQ-003 -> error: problem_code: \"PQ-003\" is not a problem code; write a category (PQ, SP, TD, RL) optionally followed by a two-digit sub-code, e.g. PQ-03",
                " -> error: problem_code: \"\" is not a problem code; write a category (PQ, SP, TD, RL) optionally followed by a two-digit sub-code, e.g. PQ-03",
            ]
        "#]]
        .assert_debug_eq(&out);
    }

    #[test]
    fn seed_has_the_spec_examples() {
        let codes: Vec<String> = seed().iter().map(|e| e.code.to_string()).collect();
        for c in ["PQ-03", "SP-12", "TD-07", "RL-09"] {
            assert!(codes.contains(&c.to_string()), "{c}");
        }
    }
}
