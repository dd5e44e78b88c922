//! Tenants and their staff. Every stored row belongs to exactly one [`Workspace`]; nothing is
//! ever read or written across workspaces.

use crate::{
    Department, Email, ParseError, Role, TeamId, Timestamp, UserId, WorkspaceId, named_enum,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    pub id: WorkspaceId,
    /// URL-safe short name used at login, e.g. `demo`.
    pub slug: String,
    pub name: String,
    /// Prefix of human-readable ticket numbers, e.g. `HT` in `HT-1024`.
    pub ticket_prefix: String,
    /// The key a web page embeds to open chats; public by design, it grants no staff access.
    pub public_key: String,
    pub created_at: Timestamp,
}

pub fn parse_slug(s: &str) -> Result<String, ParseError> {
    let s = s.trim().to_ascii_lowercase();
    let ok = (2..=40).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-');
    if ok {
        Ok(s)
    } else {
        Err(ParseError::new("workspace", "2 to 40 lowercase letters, digits or dashes"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub workspace: WorkspaceId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    /// Set exactly when `role` is `DeptMember`.
    pub department: Option<Department>,
    pub active: bool,
    pub created_at: Timestamp,
}

impl User {
    /// Checks the pairing of role and department.
    pub fn check_role(role: Role, department: Option<Department>) -> Result<(), ParseError> {
        match (role, department) {
            (Role::DeptMember, None) => Err(ParseError::new(
                "department",
                "a dept_member needs a department (tech, finance, logistics, legal, quality)",
            )),
            (Role::DeptMember, Some(_)) | (_, None) => Ok(()),
            (_, Some(_)) => {
                Err(ParseError::new("department", "only a dept_member has a department"))
            }
        }
    }
}

named_enum! {
    /// A front-line skill group, or the team of a department pulled into cases.
    pub enum TeamKind("team_kind") {
        Frontline = "frontline",
        Department = "department",
    }
}

/// A skill group (TK-5). Skills are free tags matched by routing: problem-code categories
/// (`PQ`), languages (`lang:en`), channels (`channel:email`), `vip`.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: TeamId,
    pub workspace: WorkspaceId,
    pub name: String,
    pub kind: TeamKind,
    pub department: Option<Department>,
    pub skills: Vec<String>,
    pub members: Vec<UserId>,
    pub created_at: Timestamp,
}

pub fn parse_skill(s: &str) -> Result<String, ParseError> {
    let t = s.trim();
    let ok = !t.is_empty()
        && t.chars().count() <= 40
        && t.chars().all(|c| c.is_alphanumeric() || "-_:.".contains(c));
    if ok {
        Ok(t.to_string())
    } else {
        Err(ParseError::new(
            "skills",
            format!("{s:?}: a skill is 1 to 40 letters, digits or - _ : ."),
        ))
    }
}

/// Passwords: at least 10 characters, at most 200.
pub fn check_password(p: &str) -> Result<(), ParseError> {
    let n = p.chars().count();
    if n < 10 {
        return Err(ParseError::new("password", "must be at least 10 characters"));
    }
    if n > 200 {
        return Err(ParseError::new("password", "must be at most 200 characters"));
    }
    Ok(())
}
