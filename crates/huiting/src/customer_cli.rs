//! `huiting customer export|erase`: a data-subject request (PL-4) answered from the shell, as
//! the workspace's administrator (recorded in the audit log as `system`).

use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use app::auth::{Capability as _, DataOfficer, Principal};
use clap::{Args, Subcommand};
use domain::{Actor, CustomerId, Email, Identity, Phone, Role};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Prints everything stored about one customer as JSON (the API's personal-data document).
    Export(Which),
    /// Erases one customer irreversibly (texts redacted, identities and files deleted).
    Erase {
        #[command(flatten)]
        which: Which,
        /// Why (a request's reference); recorded in the audit log, so no personal data.
        #[arg(long)]
        reason: String,
        /// Erase even while a ticket is still being worked.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct Which {
    /// The workspace's slug.
    #[arg(long)]
    workspace: String,
    /// The customer's id.
    #[arg(long, conflicts_with_all = ["phone", "email"])]
    customer: Option<String>,
    /// Or the customer's phone number.
    #[arg(long, conflicts_with = "email")]
    phone: Option<String>,
    /// Or the customer's email address.
    #[arg(long)]
    email: Option<String>,
}

async fn resolve(app: &app::App, w: &Which) -> anyhow::Result<(DataOfficer, CustomerId)> {
    let ws = app.workspace_by_slug(&w.workspace).await.map_err(|e| anyhow!("{e}"))?;
    let d = DataOfficer::from_principal(Principal {
        workspace: ws.id,
        actor: Actor::System,
        role: Role::Admin,
        user: None,
        department: None,
        teams: Vec::new(),
        csrf_token: None,
    })
    .map_err(|e| anyhow!("{e}"))?;
    let identity = match (&w.customer, &w.phone, &w.email) {
        (Some(id), _, _) => {
            return Ok((d, CustomerId::parse(id).map_err(|e| anyhow!("--customer: {e}"))?));
        }
        (None, Some(p), _) => {
            Identity::phone(&Phone::parse(p).map_err(|e| anyhow!("--phone: {e}"))?)
        }
        (None, None, Some(e)) => {
            Identity::email(&Email::parse(e).map_err(|e| anyhow!("--email: {e}"))?)
        }
        (None, None, None) => anyhow::bail!("name the customer: --customer ID, --phone or --email"),
    };
    let id = app.customer_by_identity(&d, &identity).await.map_err(|e| anyhow!("{e}"))?;
    Ok((d, id))
}

#[allow(clippy::print_stdout)] // The export goes to stdout, to be redirected into a file.
pub async fn run(
    command: CustomerCommand,
    config: &Config,
) -> anyhow::Result<std::process::ExitCode> {
    let db = crate::connect(config).await?;
    let app = app::App::new(db, Arc::new(app::SystemClock), config.app_settings());
    match command {
        CustomerCommand::Export(w) => {
            let (d, id) = resolve(&app, &w).await?;
            let e = app.export_personal_data(&d, id).await.map_err(|e| anyhow!("{e}"))?;
            let dto = http_api::routes::personal_data::PersonalDataDto::from(&e);
            println!("{}", serde_json::to_string_pretty(&dto).context("writing the export")?);
        }
        CustomerCommand::Erase { which, reason, force } => {
            let (d, id) = resolve(&app, &which).await?;
            let e = app.erase_customer(&d, id, &reason, force).await.map_err(|e| anyhow!("{e}"))?;
            if e.already {
                println!("customer {id} was already erased at {}", e.erased_at);
            } else {
                let n = e.counts;
                println!(
                    "customer {id} erased: {} identities, {} conversations, {} messages, {} tickets, {} files, {} feedback items",
                    n.identities, n.conversations, n.messages, n.tickets, n.files, n.feedback
                );
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
