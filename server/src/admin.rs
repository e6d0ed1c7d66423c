//! Administration from the command line: `server add-member` creates a team member
//! directly in the database, for the first agents and for when no admin can sign in.

use std::io::BufRead;

use app::domain::{team::Password, MemberView, Role};

use crate::{
    auth::members::{self, NewMember},
    config::{AddMember, MemberRole},
    store::Store,
    Settings,
};

/// The new member's password: `BATON_MEMBER_PASSWORD`, else the first line of stdin.
pub fn read_password() -> Result<Password, String> {
    if let Ok(password) = std::env::var("BATON_MEMBER_PASSWORD") {
        return Ok(Password::new(password));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = Password::new(line.trim_end_matches(['\r', '\n']));
    line.clear();
    if password.expose().is_empty() {
        return Err("no password: set BATON_MEMBER_PASSWORD or give it on the first line of stdin".into());
    }
    Ok(password)
}

/// Adds the member to the named workspace, or to the only one there is.
pub async fn add_member(settings: &Settings, add: AddMember, password: Password) -> Result<(MemberView, String), String> {
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| e.to_string())?;
    let store = Store::connect(&settings.database_url(), 1).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    let result = add_to_store(&store, add, password).await;
    store.close().await;
    result
}

async fn add_to_store(store: &Store, add: AddMember, password: Password) -> Result<(MemberView, String), String> {
    let workspaces = store.workspaces().await.map_err(|e| e.to_string())?;
    let (workspace_id, workspace_name) = match (&add.workspace, workspaces.as_slice()) {
        (Some(wanted), all) => all
            .iter()
            .find(|(id, _)| id == wanted)
            .cloned()
            .ok_or_else(|| format!("there is no workspace {wanted:?}; there are: {}", list(all)))?,
        (None, [only]) => only.clone(),
        (None, []) => return Err("there is no workspace yet: start Baton once to create it".into()),
        (None, all) => return Err(format!("there are several workspaces; name one with --workspace: {}", list(all))),
    };
    let role = match add.role {
        MemberRole::Agent => Role::Agent,
        MemberRole::Admin => Role::Admin,
    };
    let new = NewMember { workspace_id, email: add.email, name: add.name, password, role };
    let member = members::create_member(store, new, None).await.map_err(|e| e.to_string())?;
    Ok((member, workspace_name))
}

fn list(workspaces: &[(String, String)]) -> String {
    workspaces.iter().map(|(id, name)| format!("{id} ({name})")).collect::<Vec<_>>().join(", ")
}
