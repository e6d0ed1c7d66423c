//! A Connect form's values, checked before anything is sent anywhere: only the
//! desk's own fields, each trimmed, within `MAX_FIELD_CHARS`, free of control
//! characters, and the host parts (subdomain, region, data centre) only what the
//! vendor's host pattern allows, so no value can point Baton at another host.

use std::collections::BTreeMap;

use app::{
    domain::helpdesk::{Desk, MAX_FIELD_CHARS},
    AppError,
};
use secrecy::{ExposeSecret, SecretString};

/// The checked values of one desk's form. `Debug` never shows a secret.
pub struct Form {
    pub desk: Desk,
    values: BTreeMap<&'static str, SecretString>,
}

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Form").field("desk", &self.desk).field("fields", &self.values.keys()).finish()
    }
}

fn invalid(field: &str, problem: &str) -> AppError {
    AppError::InvalidInput(format!("{field}: {problem}"))
}

/// A DNS label a vendor puts in front of its domain: `acme` of acme.zendesk.com.
pub fn subdomain(field: &str, raw: &str) -> Result<String, AppError> {
    let value = raw.trim().to_ascii_lowercase();
    let value = value
        .strip_suffix(".zendesk.com")
        .or_else(|| value.strip_suffix(".freshdesk.com"))
        .unwrap_or(&value)
        .to_owned();
    let ok = (1..=63).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if !ok {
        return Err(invalid(field, "only the name in front of the vendor's domain: letters, digits and dashes"));
    }
    Ok(value)
}

/// Intercom's regional API hosts.
pub fn intercom_host(region: &str) -> Option<&'static str> {
    match region {
        "us" => Some("api.intercom.io"),
        "eu" => Some("api.eu.intercom.io"),
        "au" => Some("api.au.intercom.io"),
        _ => None,
    }
}

/// Zoho's data centres: the accounts host and the Desk API host of each.
pub fn zoho_hosts(data_centre: &str) -> Option<(&'static str, &'static str)> {
    match data_centre {
        "com" => Some(("accounts.zoho.com", "desk.zoho.com")),
        "eu" => Some(("accounts.zoho.eu", "desk.zoho.eu")),
        "in" => Some(("accounts.zoho.in", "desk.zoho.in")),
        "com.au" => Some(("accounts.zoho.com.au", "desk.zoho.com.au")),
        "jp" => Some(("accounts.zoho.jp", "desk.zoho.jp")),
        "com.cn" => Some(("accounts.zoho.com.cn", "desk.zoho.com.cn")),
        _ => None,
    }
}

impl Form {
    /// Checks the `credentials` of a verify or connect call. `partial`: fields chosen
    /// from the verify step may still be missing.
    pub fn parse(desk: Desk, raw: &BTreeMap<String, String>, partial: bool) -> Result<Form, AppError> {
        let fields = desk.fields();
        for key in raw.keys() {
            if !fields.iter().any(|f| f.name == key) {
                let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
                let key: String = key.chars().take(40).collect();
                return Err(invalid(&key, &format!("not a {} field (expected {})", desk.label(), known.join(", "))));
            }
        }
        let mut values = BTreeMap::new();
        for field in fields {
            let value = raw.get(field.name).map(|v| v.trim()).filter(|v| !v.is_empty());
            let Some(value) = value else {
                if field.required && !(partial && field.chosen) {
                    return Err(invalid(field.name, "is required"));
                }
                continue;
            };
            if value.chars().count() > MAX_FIELD_CHARS {
                return Err(invalid(field.name, &format!("is longer than {MAX_FIELD_CHARS} characters")));
            }
            if value.chars().any(char::is_control) {
                return Err(invalid(field.name, "contains control characters"));
            }
            let value = match field.name {
                "subdomain" | "domain" => subdomain(field.name, value)?,
                "region" if intercom_host(value).is_none() => return Err(invalid("region", "must be us, eu or au")),
                "data_centre" if zoho_hosts(value).is_none() => {
                    return Err(invalid("data_centre", "must be com, eu, in, com.au, jp or com.cn"))
                }
                "email" => app::domain::EmailAddress::parse(value)
                    .map_err(|_| invalid("email", "is not an email address"))?
                    .as_str()
                    .to_owned(),
                "org_id" | "department_id" | "pipeline" | "stage" | "client_id"
                    if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) =>
                {
                    return Err(invalid(field.name, "may hold only letters, digits, '-', '_' and '.'"))
                }
                _ => value.to_owned(),
            };
            values.insert(field.name, SecretString::from(value));
        }
        let form = Form { desk, values };
        if desk == Desk::Zendesk {
            let oauth = form.has("client_id") && form.has("client_secret");
            let token = form.has("email") && form.has("api_token");
            if !oauth && !token {
                return Err(invalid(
                    "credentials",
                    "Zendesk needs an OAuth client (client_id and client_secret) or an agent email with an API token",
                ));
            }
        }
        Ok(form)
    }

    pub fn has(&self, field: &str) -> bool {
        self.values.contains_key(field)
    }

    /// A field's value; empty if absent (required fields are always there).
    pub fn get(&self, field: &str) -> &str {
        self.values.get(field).map_or("", |v| v.expose_secret())
    }

    pub fn set(&mut self, field: &'static str, value: String) {
        self.values.insert(field, SecretString::from(value));
    }

    pub fn remove(&mut self, field: &str) {
        self.values.remove(field);
    }

    /// All values as one JSON object, for sealing.
    pub fn to_json(&self) -> String {
        let map: BTreeMap<&str, &str> = self.values.iter().map(|(k, v)| (*k, v.expose_secret())).collect();
        serde_json::to_string(&map).unwrap_or_default()
    }

    /// A form sealed by `to_json`, checked again.
    pub fn from_json(desk: Desk, json: &str) -> Result<Form, AppError> {
        let raw: BTreeMap<String, String> = serde_json::from_str(json)
            .map_err(|_| invalid("credentials", "the stored connection is not an object of text fields"))?;
        Form::parse(desk, &raw, false)
    }

    /// The last four characters of the desk's main secret, for the card.
    pub fn secret_hint(&self) -> Option<String> {
        let field = self.desk.fields().iter().find(|f| f.secret && self.has(f.name))?;
        let value = self.get(field.name);
        let count = value.chars().count();
        (count >= 12).then(|| value.chars().skip(count - 4).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn zendesk(subdomain: &str) -> BTreeMap<String, String> {
        map(&[("subdomain", subdomain), ("email", "agent@acme.com"), ("api_token", "tok-123456789")])
    }

    #[test]
    fn a_subdomain_cannot_name_another_host() {
        assert_eq!(
            Form::parse(Desk::Zendesk, &zendesk("Acme"), false).map(|f| f.get("subdomain").to_owned()).ok(),
            Some("acme".to_owned())
        );
        assert_eq!(
            Form::parse(Desk::Zendesk, &zendesk("acme.zendesk.com"), false).map(|f| f.get("subdomain").to_owned()).ok(),
            Some("acme".to_owned())
        );
        for bad in [
            "evil.com/",
            "a@b",
            "127.0.0.1",
            "169.254.169.254",
            "acme.evil",
            "x:80",
            "-acme",
            "acme-",
            "a/b",
            "10.0.0.1",
            "[::1]",
            "acme.zendesk.com.evil.io",
            "localhost:3000",
            "",
        ] {
            let err = Form::parse(Desk::Zendesk, &zendesk(bad), false).err();
            assert!(matches!(&err, Some(AppError::InvalidInput(m)) if m.starts_with("subdomain")), "{bad}: {err:?}");
        }
    }

    #[test]
    fn unknown_missing_overlong_and_control_fields_are_named() {
        let long = "x".repeat(MAX_FIELD_CHARS + 1);
        let cases = [
            (map(&[("subdomain", "acme"), ("email", "a@acme.com"), ("api_token", "t"), ("url", "x")]), "url"),
            (map(&[("email", "a@acme.com"), ("api_token", "t")]), "subdomain"),
            (map(&[("subdomain", "acme"), ("email", "a@acme.com"), ("api_token", &long)]), "api_token"),
            (map(&[("subdomain", "acme"), ("email", "a@acme.com"), ("api_token", "a\u{7}b")]), "api_token"),
            (map(&[("subdomain", "acme"), ("email", "not-an-email"), ("api_token", "t")]), "email"),
            (map(&[("subdomain", "acme")]), "credentials"),
        ];
        for (raw, field) in cases {
            let err = Form::parse(Desk::Zendesk, &raw, false).err();
            assert!(matches!(&err, Some(AppError::InvalidInput(m)) if m.starts_with(field)), "{raw:?}: {err:?}");
        }
        let region = Form::parse(Desk::Intercom, &map(&[("region", "cn"), ("access_token", "t")]), false);
        assert!(matches!(region, Err(AppError::InvalidInput(m)) if m.starts_with("region")));
        let zoho = map(&[
            ("data_centre", "evil.com"),
            ("client_id", "a"),
            ("client_secret", "b"),
            ("grant_code", "c"),
            ("org_id", "1"),
        ]);
        assert!(
            matches!(Form::parse(Desk::ZohoDesk, &zoho, true), Err(AppError::InvalidInput(m)) if m.starts_with("data_centre"))
        );
    }

    #[test]
    fn a_sealed_form_round_trips() {
        let form = Form::parse(Desk::Zendesk, &zendesk("acme"), false).unwrap_or_else(|e| panic!("{e}"));
        let again = Form::from_json(Desk::Zendesk, &form.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.get("api_token"), "tok-123456789");
        assert!(Form::from_json(Desk::Zendesk, "[1]").is_err());
    }

    #[test]
    fn chosen_fields_may_wait_for_the_verify_step_and_secrets_never_print() {
        let form = Form::parse(Desk::Hubspot, &map(&[("access_token", "pat-na1-secret-canary-9876")]), true);
        let form = form.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(form.secret_hint().as_deref(), Some("9876"));
        assert!(!format!("{form:?}").contains("canary"));
        assert!(Form::parse(Desk::Hubspot, &map(&[("access_token", "pat")]), false).is_err());
    }
}

/// Whatever an admin's form holds, it is a form or a refusal naming a field: never a
/// panic, never another kind of error.
#[cfg(test)]
mod properties {
    use app::domain::helpdesk::PRIORITY;
    use proptest::prelude::*;

    use super::*;

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[a-z0-9.-]{0,20}",
            Just("acme".to_owned()),
            Just("agent@acme.com".to_owned()),
            Just("eu".to_owned()),
            Just("com.au".to_owned()),
            "[a-z0-9]{0,8}\u{0}[a-z]{0,4}",
            (0..600usize).prop_map(|n| "x".repeat(n)),
        ]
    }

    proptest! {
        #[test]
        fn any_fields_make_a_form_or_a_refusal_naming_a_field(
            desk in prop::sample::select(PRIORITY.to_vec()),
            picks in prop::collection::vec((0..12usize, any::<String>(), value()), 0..10),
            partial in any::<bool>(),
        ) {
            let names: Vec<&str> = desk.fields().iter().map(|f| f.name).collect();
            let raw: BTreeMap<String, String> = picks
                .into_iter()
                .map(|(pick, other, value)| (names.get(pick).map_or(other, |n| (*n).to_owned()), value))
                .collect();
            match Form::parse(desk, &raw, partial) {
                Ok(_) => {}
                Err(AppError::InvalidInput(why)) => prop_assert!(why.contains(": "), "{}", why),
                Err(other) => prop_assert!(false, "{:?}", other),
            }
        }
    }
}
