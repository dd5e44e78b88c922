//! Reading and verifying the audit trail (TK-10).

use domain::audit::ChainBreak;

use crate::{App, Result, auth::Auditor};

/// The verdict for one workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceVerdict {
    pub slug: String,
    pub entries: i64,
    pub broken: Option<ChainBreak>,
}

impl App {
    pub async fn audit_log(
        &self,
        a: &Auditor,
        f: &db::audit::Filter,
    ) -> Result<Vec<db::audit::Entry>> {
        let mut c = self.db.read().await?;
        Ok(db::audit::list(&mut c, a.workspace, f).await?)
    }

    pub async fn verify_audit(&self, a: &Auditor) -> Result<db::audit::Verification> {
        let mut c = self.db.read().await?;
        Ok(db::audit::verify(&mut c, a.workspace, |_| {}).await?)
    }

    /// Verifies every workspace's chain (the `huiting audit verify` command).
    pub async fn verify_all_audit(
        &self,
        mut progress: impl FnMut(&str, i64),
    ) -> Result<Vec<WorkspaceVerdict>> {
        let mut c = self.db.read().await?;
        let mut out = Vec::new();
        for ws in db::workspaces::all(&mut c).await? {
            let v = db::audit::verify(&mut c, ws.id, |n| progress(&ws.slug, n)).await?;
            out.push(WorkspaceVerdict { slug: ws.slug, entries: v.entries, broken: v.broken });
        }
        Ok(out)
    }
}
