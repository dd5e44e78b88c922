//! Answer templates: text with `{{name}}` placeholders filled from slots, connector results and
//! the customer's profile. Rendering never guesses: a placeholder without a value is an error,
//! so the caller can fall back to a polite message instead of showing a half-filled answer.

use std::collections::BTreeMap;

/// Values for placeholders, by name (`order_no`, `customer.name`, `status`).
pub type Vars = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template has an unclosed '{{{{' at byte {0}")]
    Unclosed(usize),
    #[error(
        "template has an empty or invalid placeholder '{{{{{0}}}}}' (names are letters, digits, '_', '.', '-')"
    )]
    BadName(String),
    #[error("no value for '{{{{{0}}}}}'")]
    Missing(String),
}

/// The placeholders of `template`, in order of appearance, or the first syntax error.
pub fn placeholders(template: &str) -> Result<Vec<&str>, TemplateError> {
    let mut names = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(TemplateError::Unclosed(offset + open));
        };
        let name = after[..close].trim();
        if !valid_name(name) {
            return Err(TemplateError::BadName(name.to_owned()));
        }
        names.push(name);
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    Ok(names)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `template` with every placeholder replaced by its value.
pub fn render(template: &str, vars: &Vars) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(TemplateError::Unclosed(offset + open));
        };
        let name = after[..close].trim();
        if !valid_name(name) {
            return Err(TemplateError::BadName(name.to_owned()));
        }
        match vars.get(name) {
            Some(value) => out.push_str(value),
            None => return Err(TemplateError::Missing(name.to_owned())),
        }
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn fills_placeholders_and_keeps_the_rest() {
        let v = vars(&[("order_no", "DD2026"), ("status", "已发货"), ("customer.name", "小王")]);
        assert_eq!(
            render("{{customer.name}}您好，订单 {{ order_no }} 状态：{{status}}。", &v).unwrap(),
            "小王您好，订单 DD2026 状态：已发货。"
        );
        assert_eq!(render("no placeholders", &v).unwrap(), "no placeholders");
        assert_eq!(render("", &v).unwrap(), "");
    }

    #[test]
    fn reports_missing_values_and_bad_syntax() {
        let v = vars(&[]);
        assert_eq!(render("{{eta}}", &v), Err(TemplateError::Missing("eta".into())));
        assert_eq!(render("a {{eta", &v), Err(TemplateError::Unclosed(2)));
        assert_eq!(render("{{}}", &v), Err(TemplateError::BadName(String::new())));
        assert_eq!(render("{{a b}}", &v), Err(TemplateError::BadName("a b".into())));
        assert_eq!(placeholders("{{a}} x {{b.c}}").unwrap(), vec!["a", "b.c"]);
        assert_eq!(placeholders("}} {{").unwrap_err(), TemplateError::Unclosed(3));
    }
}
