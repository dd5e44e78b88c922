//! Roles and what each may do (PL-1). The table in [`Role::allows`] is the single source of
//! truth; `app` turns it into capability types that its functions demand by signature.

use crate::named_enum;

named_enum! {
    /// A staff member's role in one workspace.
    pub enum Role("role") {
        Admin = "admin",
        CsHead = "cs_head",
        Supervisor = "supervisor",
        Agent = "agent",
        DeptMember = "dept_member",
        Auditor = "auditor",
    }
}

named_enum! {
    /// The department of a `dept_member`, pulled into cases for collaboration (TK-6).
    pub enum Department("department") {
        Tech = "tech",
        Finance = "finance",
        Logistics = "logistics",
        Legal = "legal",
        Quality = "quality",
    }
}

impl Department {
    pub fn label_zh(self) -> &'static str {
        match self {
            Department::Tech => "技术部",
            Department::Finance => "财务部",
            Department::Logistics => "物流部",
            Department::Legal => "法务部",
            Department::Quality => "质量部",
        }
    }
}

/// Something a request may want to do. Checked in `app` on every use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See users, teams, problem codes, stages of the workspace.
    ReadDirectory,
    /// Read every customer, conversation and ticket of the workspace.
    ReadAllCases,
    /// Read the cases routed to one's department or assigned to oneself.
    ReadOwnCases,
    /// Create and change customers, conversations and tickets; reply to customers.
    WriteCases,
    /// Add internal notes to cases one can read.
    AddNotes,
    /// Merge customers and take over others' tickets.
    SuperviseCases,
    /// Create and edit teams, skills and problem codes.
    ManageCatalog,
    /// Create and edit users and API tokens.
    ManageUsers,
    /// Read the audit log and verify its chain.
    ReadAudit,
    /// Edit the bot's intents and examples; train and activate its language models.
    ManageBot,
    /// Request and grant compensation within one's authority (TK-7).
    GrantCompensation,
    /// Decide compensation requests waiting at one's level of the approval chain.
    ApproveCompensation,
    /// Export or erase one customer's personal data and set the retention period (PL-4).
    ManagePersonalData,
}

impl Role {
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match p {
            ReadDirectory | ReadOwnCases => true,
            ReadAllCases => !matches!(self, DeptMember),
            WriteCases => matches!(self, Admin | CsHead | Supervisor | Agent),
            AddNotes => !matches!(self, Auditor),
            SuperviseCases => matches!(self, Admin | CsHead | Supervisor),
            ManageCatalog => matches!(self, Admin | CsHead),
            ManageUsers => matches!(self, Admin),
            ReadAudit => matches!(self, Admin | CsHead | Auditor),
            ManageBot => matches!(self, Admin | CsHead | Supervisor),
            // Admins set the limits and hold none themselves (separation of duties).
            GrantCompensation => matches!(self, CsHead | Supervisor | Agent),
            ApproveCompensation => matches!(self, CsHead | Supervisor),
            // Data-subject requests are rare, irreversible and cover every case of a person:
            // the administrator (the workspace's data controller) answers them.
            ManagePersonalData => matches!(self, Admin),
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::CsHead => "客服负责人",
            Role::Supervisor => "客服主管",
            Role::Agent => "一线客服",
            Role::DeptMember => "部门协作人员",
            Role::Auditor => "审计员",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_table() {
        let mut out = String::new();
        for role in Role::ALL {
            let allowed: Vec<&str> = [
                (Permission::ReadAllCases, "read_all"),
                (Permission::WriteCases, "write"),
                (Permission::AddNotes, "notes"),
                (Permission::SuperviseCases, "supervise"),
                (Permission::ManageCatalog, "catalog"),
                (Permission::ManageUsers, "users"),
                (Permission::ReadAudit, "audit"),
                (Permission::ManageBot, "bot"),
                (Permission::GrantCompensation, "compensate"),
                (Permission::ApproveCompensation, "approve"),
                (Permission::ManagePersonalData, "personal_data"),
            ]
            .into_iter()
            .filter(|(p, _)| role.allows(*p))
            .map(|(_, n)| n)
            .collect();
            out.push_str(&format!("{role}: {}\n", allowed.join(" ")));
        }
        expect_test::expect![[r#"
            admin: read_all write notes supervise catalog users audit bot personal_data
            cs_head: read_all write notes supervise catalog audit bot compensate approve
            supervisor: read_all write notes supervise bot compensate approve
            agent: read_all write notes compensate
            dept_member: notes
            auditor: read_all audit
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn parse_names_the_choices() {
        assert_eq!(Role::parse("cs_head"), Ok(Role::CsHead));
        let err = Role::parse("boss").unwrap_err();
        assert!(err.to_string().contains("expected one of: admin, cs_head"), "{err}");
    }
}
