//! Administration: bootstrapping a workspace, users and roles, teams and skills, the
//! problem-code table, stages, and API tokens.

use domain::{
    Actor, Audience, Department, Email, Event, ProblemCode, ProblemCodeEntry, Role, Snapshot,
    Stage, Team, TeamId, TokenId, User, UserId, Workspace, WorkspaceId,
    customer::parse_name,
    problem_code,
    ticket::seed_stages,
    workspace::{TeamKind, check_password, parse_skill, parse_slug},
};

use crate::{
    App, Error, Result,
    auth::{Admin, Manager, Staff, hash_password},
    error::OrNotFound,
    intake::snapshot,
};

#[derive(Debug, Clone)]
pub struct NewWorkspace {
    pub slug: String,
    pub name: String,
    pub ticket_prefix: String,
    pub admin_email: Email,
    pub admin_name: String,
    pub admin_password: String,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub department: Option<Department>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub department: Option<Option<Department>>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewTeam {
    pub name: String,
    pub kind: TeamKind,
    pub department: Option<Department>,
    pub skills: Vec<String>,
    pub members: Vec<UserId>,
}

#[derive(Debug, Clone, Default)]
pub struct TeamPatch {
    pub name: Option<String>,
    pub skills: Option<Vec<String>>,
    pub members: Option<Vec<UserId>>,
}

fn parse_skills(skills: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in skills {
        let s = parse_skill(s)?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

fn check_prefix(p: &str) -> Result<String> {
    let p = p.trim().to_ascii_uppercase();
    if (1..=10).contains(&p.len())
        && p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(p)
    } else {
        Err(domain::ParseError::new("ticket_prefix", "1 to 10 letters or digits, like HT").into())
    }
}

impl App {
    /// Creates a workspace with its first admin and the seed catalogue (problem codes,
    /// stages, SLA policies and calendar). Used by the CLI and the demo; there is no HTTP route for it.
    pub async fn create_workspace(&self, n: NewWorkspace) -> Result<(Workspace, User)> {
        let slug = parse_slug(&n.slug)?;
        let name = parse_name("name", &n.name)?;
        let prefix = check_prefix(&n.ticket_prefix)?;
        check_password(&n.admin_password)?;
        let mut c = self.db.read().await?;
        if db::workspaces::by_slug(&mut c, &slug).await?.is_some() {
            return Err(Error::Conflict(format!("workspace {slug:?} already exists")));
        }
        drop(c);
        let now = self.now();
        let ws = Workspace {
            id: self.ids.next(now, WorkspaceId::new),
            slug,
            name,
            ticket_prefix: prefix,
            public_key: self.ids.secret("pk_"),
            created_at: now,
        };
        let hash = self.hash(&n.admin_password).await?;
        let mut tx = self.db.create_workspace(&ws).await?;
        let admin = User {
            id: self.ids.next(now, UserId::new),
            workspace: ws.id,
            email: n.admin_email,
            name: parse_name("admin_name", &n.admin_name)?,
            role: Role::Admin,
            department: None,
            active: true,
            created_at: now,
        };
        let ws_snap =
            Snapshot::default().with("slug", ws.slug.as_str()).with("name", ws.name.as_str());
        tx.audit(
            now,
            Actor::System,
            "workspace.create",
            "workspace",
            &ws.id.to_string(),
            None,
            Some(&ws_snap),
        )
        .await?;
        db::users::insert_user(&mut tx, &admin, Some(&hash)).await?;
        tx.audit(
            now,
            Actor::System,
            "user.create",
            "user",
            &admin.id.to_string(),
            None,
            Some(&snapshot::user(&admin)),
        )
        .await?;
        for e in problem_code::seed() {
            db::workspaces::problem_code_put(&mut tx, ws.id, &e).await?;
        }
        tx.audit(
            now,
            Actor::System,
            "problem_code.seed",
            "workspace",
            &ws.id.to_string(),
            None,
            None,
        )
        .await?;
        for s in seed_stages() {
            db::workspaces::stage_put(&mut tx, ws.id, &s).await?;
        }
        self.seed_sla(&mut tx, now).await?;
        self.commit(tx).await?;
        Ok((ws, admin))
    }

    async fn hash(&self, password: &str) -> Result<String> {
        let (pw, fast) = (password.to_string(), self.settings.fast_password_hashing);
        tokio::task::spawn_blocking(move || hash_password(&pw, fast))
            .await
            .map_err(|e| Error::Internal(e.into()))?
    }

    pub async fn workspace_by_slug(&self, slug: &str) -> Result<Workspace> {
        let mut c = self.db.read().await?;
        db::workspaces::by_slug(&mut c, &slug.trim().to_lowercase())
            .await?
            .or_not_found("workspace")
    }

    pub async fn workspace(&self, s: &Staff) -> Result<Workspace> {
        let mut c = self.db.read().await?;
        db::workspaces::by_id(&mut c, s.workspace).await?.or_not_found("workspace")
    }

    pub async fn create_user(&self, a: &Admin, n: NewUser) -> Result<User> {
        User::check_role(n.role, n.department)?;
        let name = parse_name("name", &n.name)?;
        let hash = match &n.password {
            Some(p) => {
                check_password(p)?;
                Some(self.hash(p).await?)
            }
            None => None,
        };
        self.insert_user(a.workspace, a.actor, n.email, name, n.role, n.department, hash).await
    }

    /// Inserts a user; shared by the admin API and the demo seeder.
    #[allow(clippy::too_many_arguments)] // The columns of a user, each checked by the callers.
    pub(crate) async fn insert_user(
        &self,
        ws: WorkspaceId,
        actor: Actor,
        email: Email,
        name: String,
        role: Role,
        department: Option<Department>,
        hash: Option<String>,
    ) -> Result<User> {
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        let u = User {
            id: self.ids.next(now, UserId::new),
            workspace: ws,
            email,
            name,
            role,
            department,
            active: true,
            created_at: now,
        };
        if let Err(e) = db::users::insert_user(&mut tx, &u, hash.as_deref()).await {
            return Err(if db::is_unique_violation(&e) {
                Error::Conflict(format!("a user with email {} already exists", u.email))
            } else {
                e.into()
            });
        }
        tx.audit(
            now,
            actor,
            "user.create",
            "user",
            &u.id.to_string(),
            None,
            Some(&snapshot::user(&u)),
        )
        .await?;
        tx.emit(now, actor, Event::UserChanged { user: u.id }, Audience::staff_only()).await?;
        self.commit(tx).await?;
        Ok(u)
    }

    /// Creates a user with a password, as the system (demo and CLI seeding).
    pub async fn seed_user(
        &self,
        ws: WorkspaceId,
        email: Email,
        name: &str,
        role: Role,
        dept: Option<Department>,
        password: &str,
    ) -> Result<User> {
        User::check_role(role, dept)?;
        let hash = self.hash(password).await?;
        self.insert_user(
            ws,
            Actor::System,
            email,
            parse_name("name", name)?,
            role,
            dept,
            Some(hash),
        )
        .await
    }

    pub async fn update_user(&self, a: &Admin, id: UserId, p: UserPatch) -> Result<User> {
        let name = p.name.as_deref().map(|n| parse_name("name", n)).transpose()?;
        let hash = match &p.password {
            Some(pw) => {
                check_password(pw)?;
                Some(self.hash(pw).await?)
            }
            None => None,
        };
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let before = db::users::get_user(&mut tx, a.workspace, id).await?.or_not_found("user")?;
        let mut u = before.clone();
        if let Some(n) = name {
            u.name = n;
        }
        if let Some(r) = p.role {
            u.role = r;
            if r != Role::DeptMember && p.department.is_none() {
                u.department = None;
            }
        }
        if let Some(d) = p.department {
            u.department = d;
        }
        if let Some(act) = p.active {
            u.active = act;
        }
        User::check_role(u.role, u.department)?;
        if a.user == Some(id) && (u.role != Role::Admin || !u.active) {
            return Err(Error::Conflict(
                "you cannot remove your own admin role or deactivate yourself".into(),
            ));
        }
        if u == before && hash.is_none() {
            return Ok(u);
        }
        db::users::update_user(&mut tx, &u).await?;
        if let Some(h) = &hash {
            db::users::set_password(&mut tx, a.workspace, id, h).await?;
        }
        if !u.active || hash.is_some() || u.role != before.role {
            // Role, password or status changes end the user's sessions.
            db::users::delete_user_sessions(&mut tx, id).await?;
        }
        let action = if hash.is_some() && u == before { "user.password" } else { "user.update" };
        tx.audit(
            now,
            a.actor,
            action,
            "user",
            &id.to_string(),
            Some(&snapshot::user(&before)),
            Some(&snapshot::user(&u)),
        )
        .await?;
        tx.emit(now, a.actor, Event::UserChanged { user: id }, Audience::staff_only()).await?;
        self.commit(tx).await?;
        Ok(u)
    }

    pub async fn list_users(&self, s: &Staff) -> Result<Vec<User>> {
        let mut c = self.db.read().await?;
        Ok(db::users::list_users(&mut c, s.workspace).await?)
    }

    pub async fn get_user(&self, s: &Staff, id: UserId) -> Result<User> {
        let mut c = self.db.read().await?;
        db::users::get_user(&mut c, s.workspace, id).await?.or_not_found("user")
    }

    pub async fn create_team(&self, m: &Manager, n: NewTeam) -> Result<Team> {
        let name = parse_name("name", &n.name)?;
        let skills = parse_skills(&n.skills)?;
        match (n.kind, n.department) {
            (TeamKind::Department, None) => {
                return Err(domain::ParseError::new(
                    "department",
                    "a department team names its department",
                )
                .into());
            }
            (TeamKind::Frontline, Some(_)) => {
                return Err(domain::ParseError::new(
                    "department",
                    "only a department team has a department",
                )
                .into());
            }
            _ => {}
        }
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        for u in &n.members {
            db::users::get_user(&mut tx, m.workspace, *u).await?.or_not_found("member")?;
        }
        let mut members = n.members.clone();
        members.sort();
        members.dedup();
        let t = Team {
            id: self.ids.next(now, TeamId::new),
            workspace: m.workspace,
            name,
            kind: n.kind,
            department: n.department,
            skills,
            members,
            created_at: now,
        };
        if let Err(e) = db::users::insert_team(&mut tx, &t).await {
            return Err(if db::is_unique_violation(&e) {
                Error::Conflict(format!("a team named {} already exists", t.name))
            } else {
                e.into()
            });
        }
        tx.audit(
            now,
            m.actor,
            "team.create",
            "team",
            &t.id.to_string(),
            None,
            Some(&snapshot::team(&t)),
        )
        .await?;
        tx.emit(now, m.actor, Event::TeamChanged { team: t.id }, Audience::staff_only()).await?;
        self.commit(tx).await?;
        Ok(t)
    }

    pub async fn update_team(&self, m: &Manager, id: TeamId, p: TeamPatch) -> Result<Team> {
        let name = p.name.as_deref().map(|n| parse_name("name", n)).transpose()?;
        let skills = p.skills.as_deref().map(parse_skills).transpose()?;
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let before = db::users::get_team(&mut tx, m.workspace, id).await?.or_not_found("team")?;
        let mut t = before.clone();
        if let Some(n) = name {
            t.name = n;
        }
        if let Some(s) = skills {
            t.skills = s;
        }
        if let Some(mut members) = p.members {
            for u in &members {
                db::users::get_user(&mut tx, m.workspace, *u).await?.or_not_found("member")?;
            }
            members.sort();
            members.dedup();
            t.members = members;
        }
        if t == before {
            return Ok(t);
        }
        if let Err(e) = db::users::update_team(&mut tx, &t).await {
            return Err(if db::is_unique_violation(&e) {
                Error::Conflict(format!("a team named {} already exists", t.name))
            } else {
                e.into()
            });
        }
        tx.audit(
            now,
            m.actor,
            "team.update",
            "team",
            &id.to_string(),
            Some(&snapshot::team(&before)),
            Some(&snapshot::team(&t)),
        )
        .await?;
        tx.emit(now, m.actor, Event::TeamChanged { team: id }, Audience::staff_only()).await?;
        self.commit(tx).await?;
        Ok(t)
    }

    pub async fn list_teams(&self, s: &Staff) -> Result<Vec<Team>> {
        let mut c = self.db.read().await?;
        Ok(db::users::list_teams(&mut c, s.workspace).await?)
    }

    pub async fn get_team(&self, s: &Staff, id: TeamId) -> Result<Team> {
        let mut c = self.db.read().await?;
        db::users::get_team(&mut c, s.workspace, id).await?.or_not_found("team")
    }

    pub async fn list_problem_codes(&self, s: &Staff) -> Result<Vec<ProblemCodeEntry>> {
        let mut c = self.db.read().await?;
        Ok(db::workspaces::problem_codes(&mut c, s.workspace).await?)
    }

    /// Adds a code or changes one (names, reviewing department, retired or active). A
    /// sub-code needs its category to exist.
    pub async fn put_problem_code(
        &self,
        m: &Manager,
        e: ProblemCodeEntry,
    ) -> Result<(ProblemCodeEntry, bool)> {
        let e = ProblemCodeEntry {
            name_zh: parse_name("name_zh", &e.name_zh)?,
            name_en: parse_name("name_en", &e.name_en)?,
            ..e
        };
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        if e.code.sub().is_some() {
            let cat = ProblemCode::parse(e.code.category().as_str())?;
            db::workspaces::problem_code_get(&mut tx, m.workspace, cat).await?.ok_or_else(
                || {
                    Error::Conflict(format!(
                        "category {cat} is not in the code table; add it first"
                    ))
                },
            )?;
        }
        let before = db::workspaces::problem_code_get(&mut tx, m.workspace, e.code).await?;
        if before.as_ref() == Some(&e) {
            return Ok((e, false));
        }
        db::workspaces::problem_code_put(&mut tx, m.workspace, &e).await?;
        let snap = |x: &ProblemCodeEntry| {
            Snapshot::default()
                .with("name_zh", x.name_zh.as_str())
                .with("name_en", x.name_en.as_str())
                .with("review_department", x.review_department.map(|d| d.as_str()))
                .with("active", domain::AuditValue::Int(i64::from(x.active)))
        };
        let b = before.as_ref().map(snap);
        tx.audit(
            now,
            m.actor,
            "problem_code.put",
            "problem_code",
            &e.code.to_string(),
            b.as_ref(),
            Some(&snap(&e)),
        )
        .await?;
        tx.emit(now, m.actor, Event::ProblemCodeChanged { code: e.code }, Audience::staff_only())
            .await?;
        self.commit(tx).await?;
        Ok((e, before.is_none()))
    }

    pub async fn list_stages(&self, s: &Staff) -> Result<Vec<Stage>> {
        let mut c = self.db.read().await?;
        Ok(db::workspaces::stages(&mut c, s.workspace).await?)
    }

    /// Creates an API token; the secret is returned once and stored only as a hash.
    pub async fn create_token(
        &self,
        a: &Admin,
        name: &str,
        role: Role,
    ) -> Result<(db::users::ApiToken, String)> {
        let name = parse_name("name", name)?;
        if role == Role::DeptMember {
            return Err(domain::ParseError::new(
                "role",
                "an API token cannot have the dept_member role",
            )
            .into());
        }
        let Some(creator) = a.user else {
            return Err(Error::Forbidden(
                "create API tokens with an API token; log in as an admin",
            ));
        };
        let now = self.now();
        let secret = self.ids.secret("ht_");
        let t = db::users::ApiToken {
            id: self.ids.next(now, TokenId::new),
            workspace: a.workspace,
            name,
            role,
            created_by: creator,
            created_at: now,
            revoked_at: None,
        };
        let mut tx = self.db.write(a.workspace).await?;
        db::users::insert_token(&mut tx, &t, &crate::ids::hash_secret(&secret)).await?;
        let snap = Snapshot::default().with("name", t.name.as_str()).with("role", t.role.as_str());
        tx.audit(
            now,
            a.actor,
            "api_token.create",
            "api_token",
            &t.id.to_string(),
            None,
            Some(&snap),
        )
        .await?;
        self.commit(tx).await?;
        Ok((t, secret))
    }

    pub async fn list_tokens(&self, a: &Admin) -> Result<Vec<db::users::ApiToken>> {
        let mut c = self.db.read().await?;
        Ok(db::users::list_tokens(&mut c, a.workspace).await?)
    }

    pub async fn revoke_token(&self, a: &Admin, id: TokenId) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let t = db::users::get_token(&mut tx, a.workspace, id).await?.or_not_found("API token")?;
        if t.revoked_at.is_some() {
            return Ok(());
        }
        db::users::revoke_token(&mut tx, a.workspace, id, now).await?;
        tx.audit(now, a.actor, "api_token.revoke", "api_token", &id.to_string(), None, None)
            .await?;
        self.commit(tx).await?;
        Ok(())
    }
}
