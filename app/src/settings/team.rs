//! Settings → Team: the workspace's members with their role and last sign-in; add a
//! member (with a one-time password Baton makes, or one the admin sets), change a
//! role, remove a member after a confirmation. The server keeps the last admin one
//! (409): the row shows why, and its role snaps back.

use leptos::prelude::*;

use super::api::{create_member, remove_member, set_role, MemberResponse, TeamResponse};
use crate::{
    domain::{
        clock,
        team::{Password, TeamMember, MIN_PASSWORD_CHARS},
        MemberView, Role,
    },
    error::AppError,
    layout::Dialog,
};

/// A refusal, and the member row (or form field) it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    at: String,
    message: String,
}

/// `dirty`: the Add form holds something typed and not added yet.
#[component]
pub fn Team(members: Vec<TeamMember>, me: MemberView, dirty: RwSignal<bool>) -> impl IntoView {
    let team = RwSignal::new(members);
    let problem = RwSignal::new(None::<Problem>);
    let change_role = Action::new(|(id, role): &(String, Role)| {
        let (id, role) = (id.clone(), *role);
        async move { (id.clone(), set_role(id, role).await) }
    });
    Effect::new(move |_| match change_role.value().get() {
        Some((_, Ok(TeamResponse { members }))) => {
            team.set(members);
            problem.set(None);
        }
        Some((at, Err(err))) => {
            problem.set(Some(Problem { at, message: err.to_string() }));
        }
        None => {}
    });
    let removing = RwSignal::new(None::<MemberView>);
    let me_id = me.id.clone();
    let rows = move || {
        team.get()
            .into_iter()
            .map(|row| {
                let is_me = row.member.id == me_id;
                view! { <MemberRow row is_me problem change_role removing/> }
            })
            .collect_view()
    };
    view! {
        <h2>"Team"</h2>
        <p class="muted">
            "Everyone who can sign in to this workspace. Agents work in the Inbox; admins also manage Settings. "
            "A role change applies to the member's next click."
        </p>
        <table class="team">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Last sign-in"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <AddMember team dirty/>
        <Show when=move || removing.get().is_some()>
            <RemoveDialog removing team/>
        </Show>
    }
}

/// One member's row: their role as a select (refusals shown beside it) and Remove.
#[component]
fn MemberRow(
    row: TeamMember,
    is_me: bool,
    problem: RwSignal<Option<Problem>>,
    change_role: Action<(String, Role), (String, Result<TeamResponse, AppError>)>,
    removing: RwSignal<Option<MemberView>>,
) -> impl IntoView {
    let member = row.member;
    let select_id = format!("role-{}", member.id);
    let label = format!("Role of {}", member.name);
    let last = row.last_sign_in_at.as_deref().map(clock::day_of).filter(|d| !d.is_empty());
    let id = member.id.clone();
    let own_problem = move || problem.get().filter(|p| p.at == id).map(|p| p.message);
    let (id, role) = (member.id.clone(), member.role);
    let remove = member.clone();
    view! {
        <tr>
            <td>{member.name.clone()} {is_me.then_some(" (you)")}</td>
            <td>{member.email.clone()}</td>
            <td>
                <label class="visually-hidden" for=select_id.clone()>{label}</label>
                <select
                    id=select_id
                    // The browser keeps the refused choice; each refusal puts the stored role back.
                    prop:value=move || {
                        problem.track();
                        role.as_str()
                    }
                    disabled=move || change_role.pending().get()
                    on:change=move |ev| {
                        if let Some(role) = Role::parse(&event_target_value(&ev)) {
                            change_role.dispatch((id.clone(), role));
                        }
                    }
                >
                    <option value="agent" selected={role == Role::Agent}>"Agent"</option>
                    <option value="admin" selected={role == Role::Admin}>"Admin"</option>
                </select>
                <span class="error" role="alert">{own_problem}</span>
            </td>
            <td>{last.unwrap_or_else(|| "Never".to_owned())}</td>
            <td>
                <button
                    type="button"
                    disabled=is_me
                    title=is_me.then_some("Another admin can remove you")
                    on:click=move |_| removing.set(Some(remove.clone()))
                >
                    "Remove"
                </button>
            </td>
        </tr>
    }
}

/// "Remove Sam Lee?": what removal does, then Remove or Cancel.
#[component]
fn RemoveDialog(removing: RwSignal<Option<MemberView>>, team: RwSignal<Vec<TeamMember>>) -> impl IntoView {
    let remove = Action::new(|id: &String| remove_member(id.clone()));
    let problem = RwSignal::new(None::<String>);
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(TeamResponse { members })) => {
            team.set(members);
            removing.set(None);
        }
        Some(Err(err)) => problem.set(Some(err.to_string())),
        None => {}
    });
    let close = move || removing.set(None);
    let who = move || removing.get().map(|m| m.name).unwrap_or_default();
    view! {
        <Dialog title="Remove this member?" close>
            <p>
                <strong>{who}</strong>
                " can no longer sign in, and is signed out everywhere at once. The conversations they hold go back "
                "to the queue, each with a note for the team. What they wrote stays in the conversations."
            </p>
            <p class="error" role="alert">{move || problem.get()}</p>
            <div class="form-actions">
                <button type="button" on:click=move |_| close()>"Cancel"</button>
                <button
                    type="button"
                    class="danger"
                    disabled=move || remove.pending().get()
                    on:click=move |_| {
                        if let Some(member) = removing.get_untracked() {
                            remove.dispatch(member.id);
                        }
                    }
                >
                    {move || if remove.pending().get() { "Removing…" } else { "Remove" }}
                </button>
            </div>
        </Dialog>
    }
}

/// The Add form's fields as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NewMemberDraft {
    name: String,
    email: String,
    role_admin: bool,
    /// The admin sets the password (otherwise Baton makes a one-time one).
    own_password: bool,
    password: String,
}

impl NewMemberDraft {
    fn typed(&self) -> bool {
        !(self.name.trim().is_empty() && self.email.trim().is_empty() && self.password.is_empty())
    }
}

/// Which field a refusal of `team/members` is about, from its message.
fn field_of(message: &str) -> &'static str {
    let lower = message.to_lowercase();
    if lower.contains("password") {
        "password"
    } else if lower.contains("email") {
        "email"
    } else if lower.contains("name") {
        "name"
    } else {
        "form"
    }
}

#[component]
fn AddMember(team: RwSignal<Vec<TeamMember>>, dirty: RwSignal<bool>) -> impl IntoView {
    let draft = RwSignal::new(NewMemberDraft::default());
    let add = Action::new(|draft: &NewMemberDraft| {
        let draft = draft.clone();
        let role = if draft.role_admin { Role::Admin } else { Role::Agent };
        let password = draft.own_password.then(|| Password::new(draft.password.clone()));
        async move {
            let added = create_member(draft.email, draft.name, password, role).await?;
            let members = super::api::list_team().await?.members;
            Ok::<_, AppError>((added, members))
        }
    });
    let problem = RwSignal::new(None::<Problem>);
    let added = RwSignal::new(None::<MemberResponse>);
    Effect::new(move |_| match add.value().get() {
        Some(Ok((response, members))) => {
            team.set(members);
            added.set(Some(response));
            draft.set(NewMemberDraft::default());
            problem.set(None);
        }
        Some(Err(err)) => {
            let message = err.to_string();
            problem.set(Some(Problem { at: field_of(&message).to_owned(), message }));
        }
        None => {}
    });
    Effect::new(move |_| dirty.set(draft.with(NewMemberDraft::typed)));
    let error_at = move |field: &'static str| move || problem.get().filter(|p| p.at == field).map(|p| p.message);
    let text_field = move |id: &'static str, label: &'static str, kind: &'static str, field: &'static str| {
        let error_id = format!("{id}-error");
        view! {
            <label for=id>{label}</label>
            <input
                id=id
                type=kind
                autocomplete="off"
                aria-describedby=error_id.clone()
                prop:value=move || {
                    draft.with(|d| match field {
                        "name" => d.name.clone(),
                        "email" => d.email.clone(),
                        _ => d.password.clone(),
                    })
                }
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    draft.update(|d| match field {
                        "name" => d.name = value,
                        "email" => d.email = value,
                        _ => d.password = value,
                    });
                }
            />
            <p class="error" id=error_id role="alert">{error_at(field)}</p>
        }
    };
    view! {
        <h3>"Add a member"</h3>
        <form
            class="add-member"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                if !add.pending().get_untracked() {
                    added.set(None);
                    add.dispatch(draft.get_untracked());
                }
            }
        >
            {text_field("member-name", "Name", "text", "name")}
            {text_field("member-email", "Email", "email", "email")}
            <label for="member-role">"Role"</label>
            <select
                id="member-role"
                prop:value=move || if draft.with(|d| d.role_admin) { "admin" } else { "agent" }
                on:change=move |ev| {
                    let admin = event_target_value(&ev) == "admin";
                    draft.update(|d| d.role_admin = admin);
                }
            >
                <option value="agent">"Agent: works in the Inbox"</option>
                <option value="admin">"Admin: also manages Settings"</option>
            </select>
            <label class="check">
                <input
                    type="checkbox"
                    prop:checked=move || draft.with(|d| d.own_password)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        draft.update(|d| d.own_password = on);
                    }
                />
                "Set the password myself"
            </label>
            <Show
                when=move || draft.with(|d| d.own_password)
                fallback=|| {
                    view! {
                        <p class="hint">"Baton makes a one-time password and shows it to you once, here."</p>
                    }
                }
            >
                {text_field("member-password", "Password", "password", "password")}
                <p class="hint">{format!("At least {MIN_PASSWORD_CHARS} characters.")}</p>
            </Show>
            <p class="error" role="alert">{error_at("form")}</p>
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || add.pending().get()>
                    {move || if add.pending().get() { "Adding…" } else { "Add member" }}
                </button>
            </div>
        </form>
        {move || added.get().map(|response| view! { <Added response/> })}
    }
}

/// The member just added, and the one-time password if Baton made it.
#[component]
fn Added(response: MemberResponse) -> impl IntoView {
    let MemberResponse { member, password } = response;
    let sign_in = format!("{} can sign in at /inbox with {}", member.name, member.email);
    view! {
        <section class="card added" role="status" aria-label="Member added">
            {match password {
                Some(password) => {
                    view! {
                        <p>{sign_in} " and this one-time password. It is shown only now: pass it on, and ask them to change it."</p>
                        <label for="member-one-time">"One-time password"</label>
                        <input id="member-one-time" type="text" readonly value=password.expose().to_owned()/>
                    }
                        .into_any()
                }
                None => view! { <p>{sign_in} " and the password you set."</p> }.into_any(),
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_shown_beside_the_field_it_names() {
        assert_eq!(field_of("the password must be at least 12 characters"), "password");
        assert_eq!(field_of("\"sam@\" is not a valid email address: no domain"), "email");
        assert_eq!(field_of("a member with this email already exists"), "email");
        assert_eq!(field_of("the name is empty"), "name");
        assert_eq!(field_of("only admins can add team members"), "form");
    }

    #[test]
    fn an_untouched_form_is_not_unsaved_work() {
        assert!(!NewMemberDraft::default().typed());
        assert!(!NewMemberDraft { role_admin: true, own_password: true, ..Default::default() }.typed());
        assert!(NewMemberDraft { name: "Sam".into(), ..Default::default() }.typed());
    }
}
