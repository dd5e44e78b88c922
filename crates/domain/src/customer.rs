//! Customers and their identities across channels (IN-2, IN-3). A customer is one person or
//! company; an identity is one way to reach them (a phone number, an email, an external id
//! such as a WeChat openid). Two customers found to be the same are merged into one.

use std::fmt;

use crate::{CustomerId, ParseError, Timestamp, WorkspaceId, named_enum};

named_enum! {
    /// Membership tier; VIPs get tighter SLAs and priority routing (TK-4, TK-5).
    pub enum Tier("tier") {
        Ordinary = "ordinary",
        Vip = "vip",
    }
}

named_enum! {
    pub enum IdentityKind("identity_kind") {
        Phone = "phone",
        Email = "email",
        External = "external",
    }
}

/// A verified-shape email address, lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, ParseError> {
        let s = s.trim().to_lowercase();
        let bad =
            |why: &str| ParseError::new("email", format!("{s:?} is not an email address: {why}"));
        if s.len() > 254 {
            return Err(bad("longer than 254 characters"));
        }
        let (local, domain) = s.split_once('@').ok_or_else(|| bad("missing @"))?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(bad("expected name@domain"));
        }
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(bad("the domain needs a dot, like example.com"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"".contains(c)) {
            return Err(bad("contains a space or a character not allowed in an address"));
        }
        Ok(Email(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number normalised to E.164 (`+8613800138000`). Chinese mobile numbers written
/// without a country code (`138 0013 8000`, `138-0013-8000`) are given `+86`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Phone, ParseError> {
        let raw = s.trim();
        let bad =
            |why: &str| ParseError::new("phone", format!("{raw:?} is not a phone number: {why}"));
        let plus = raw.starts_with('+');
        let mut digits = String::new();
        for (i, c) in raw.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => {}
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => return Err(bad("only digits, spaces, dashes and a leading + are allowed")),
            }
        }
        let e164 = if plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_string()
        } else if digits.len() == 11 && digits.starts_with('1') {
            format!("86{digits}")
        } else if digits.len() == 13 && digits.starts_with("86") {
            digits
        } else {
            return Err(bad("write it with a country code, like +86 138 0013 8000"));
        };
        if !(8..=15).contains(&e164.len()) || e164.starts_with('0') {
            return Err(bad("an international number has 8 to 15 digits"));
        }
        Ok(Phone(format!("+{e164}")))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One way to reach a customer. `value` is normalised for its kind, so equality finds duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub kind: IdentityKind,
    pub value: String,
    pub verified: bool,
}

impl Identity {
    pub fn phone(p: &Phone) -> Identity {
        Identity { kind: IdentityKind::Phone, value: p.as_str().to_string(), verified: false }
    }
    pub fn email(e: &Email) -> Identity {
        Identity { kind: IdentityKind::Email, value: e.as_str().to_string(), verified: false }
    }
    /// An id in another system, namespaced by that system (e.g. `wechat:oAbc…`, `shop:10023`).
    pub fn external(value: &str) -> Result<Identity, ParseError> {
        let v = value.trim();
        if v.is_empty() || v.len() > 200 || v.chars().any(char::is_control) {
            return Err(ParseError::new("external_id", "must be 1 to 200 printable characters"));
        }
        Ok(Identity { kind: IdentityKind::External, value: v.to_string(), verified: false })
    }
    pub fn parse(kind: IdentityKind, value: &str) -> Result<Identity, ParseError> {
        match kind {
            IdentityKind::Phone => Phone::parse(value).map(|p| Identity::phone(&p)),
            IdentityKind::Email => Email::parse(value).map(|e| Identity::email(&e)),
            IdentityKind::External => Identity::external(value),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: CustomerId,
    pub workspace: WorkspaceId,
    pub name: String,
    pub tier: Tier,
    pub identities: Vec<Identity>,
    /// Free-form attributes from CRM or the widget (`city`, `member_since`, …), kept in order.
    pub attributes: Vec<(String, String)>,
    /// Set when this record was merged into another; a merged customer is read-only.
    pub merged_into: Option<CustomerId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Checks a display name: 1 to 200 characters, no control characters.
pub fn parse_name(field: &'static str, s: &str) -> Result<String, ParseError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ParseError::new(field, "must not be empty"));
    }
    if t.chars().count() > 200 {
        return Err(ParseError::new(field, "must be at most 200 characters"));
    }
    if t.chars().any(char::is_control) {
        return Err(ParseError::new(field, "must not contain control characters"));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalise_to_e164() {
        let out: Vec<String> =
            ["138 0013 8000", "+86 138-0013-8000", "0044 20 7946 0958", "12345", "138a"]
                .iter()
                .map(|s| match Phone::parse(s) {
                    Ok(p) => p.to_string(),
                    Err(e) => e.to_string(),
                })
                .collect();
        expect_test::expect![[r#"
            [
                "+8613800138000",
                "+8613800138000",
                "+442079460958",
                "phone: \"12345\" is not a phone number: write it with a country code, like +86 138 0013 8000",
                "phone: \"138a\" is not a phone number: only digits, spaces, dashes and a leading + are allowed",
            ]
        "#]]
        .assert_debug_eq(&out);
    }

    #[test]
    fn emails_lowercase_and_reject_junk() {
        assert_eq!(Email::parse(" Li.Wei@Example.COM ").unwrap().as_str(), "li.wei@example.com");
        for bad in ["", "a@", "@b.c", "a@b", "a b@c.d", "a@@b.c"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
