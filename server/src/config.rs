//! Configuration: command-line flags, each with an environment variable and a default.
//! `server --help` lists them all.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

use crate::security::{client::parse_proxy, egress::Allowed};

/// A setting that is a secret (a password, a key, a URL with a password in it):
/// `Debug` prints `[REDACTED]`, so no log line can show it.
fn secret(raw: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(raw))
}

#[derive(Debug, Parser)]
#[command(name = "server", version, about = "Baton: hand AI support chats to a human.")]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Add a team member. The password is read from BATON_MEMBER_PASSWORD or, when that
    /// is unset, from the first line of standard input (so it stays out of shell history).
    AddMember(AddMember),
    /// Train the built-in brain's classifier on the labelled corpora (server/eval) with the
    /// sentence table in BATON_MODEL_DIR, and install it there. `make build` runs it.
    TrainBrain,
}

#[derive(Debug, Clone, clap::Args)]
pub struct AddMember {
    /// Their sign-in email.
    #[arg(long)]
    pub email: String,
    /// Their name, as visitors and teammates see it.
    #[arg(long)]
    pub name: String,
    /// `agent` works the Inbox; `admin` also manages Settings and the team.
    #[arg(long, value_enum, default_value_t = MemberRole::Agent)]
    pub role: MemberRole,
    /// The workspace's id; needed only when the deployment has more than one.
    #[arg(long)]
    pub workspace: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MemberRole {
    Agent,
    Admin,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port and logs it.
    #[arg(long, env = "BATON_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Directory for Baton's files, including the default SQLite database.
    #[arg(long, env = "BATON_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database: `postgres://user@host/db` or `sqlite://path.db`.
    /// Default: the SQLite file `baton.db` in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = secret)]
    pub database_url: Option<SecretString>,

    /// The URL people open Baton at (`https://baton.acme.com`). Requests that change
    /// something, and the Inbox socket, are accepted only from pages of this origin,
    /// scheme and port included. Unset: the listening address (and `localhost`).
    #[arg(long, env = "BATON_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Proxies in front of Baton whose `X-Forwarded-For` names the client (addresses
    /// or networks, comma-separated: `127.0.0.1,10.0.0.0/8`). Unset: none; the client
    /// is the connection's peer and the header is ignored.
    #[arg(long, env = "BATON_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy)]
    pub trusted_proxies: Vec<IpNet>,

    /// Most connections Baton keeps open to the database.
    #[arg(long, env = "BATON_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// Email of the admin account created on first start (empty database).
    #[arg(long, env = "BATON_ADMIN_EMAIL", default_value = "admin@baton.local")]
    pub admin_email: String,

    /// Password of that admin account. Unset: a random one, printed once on first start.
    #[arg(long, env = "BATON_ADMIN_PASSWORD", hide_env_values = true, value_parser = secret)]
    pub admin_password: Option<SecretString>,

    /// The built site (WASM, JS, CSS, public files), as `cargo leptos build` leaves it.
    #[arg(long, env = "BATON_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Messages one visitor conversation may send per minute before getting 429.
    #[arg(long, env = "BATON_VISITOR_MESSAGES_PER_MINUTE", default_value_t = 20)]
    pub visitor_messages_per_minute: u32,

    /// New conversations one client address may start per minute before getting 429.
    #[arg(long, env = "BATON_STARTS_PER_ADDRESS_PER_MINUTE", default_value_t = 20)]
    pub starts_per_address_per_minute: u32,

    /// New conversations one chatbot accepts per minute, from everyone, before 429.
    #[arg(long, env = "BATON_STARTS_PER_CHATBOT_PER_MINUTE", default_value_t = 600)]
    pub starts_per_chatbot_per_minute: u32,

    /// Sign-in attempts per email address per minute before getting 429. Counted only
    /// for addresses that have failed to sign in lately, so others cannot lock a
    /// member out.
    #[arg(long, env = "BATON_LOGIN_ATTEMPTS_PER_MINUTE", default_value_t = 10)]
    pub login_attempts_per_minute: u32,

    /// Sign-in attempts per client address per minute (any email) before 429.
    #[arg(long, env = "BATON_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", default_value_t = 20)]
    pub login_attempts_per_address_per_minute: u32,

    /// Mark the session cookie `Secure` (set this when Baton is served over HTTPS).
    #[arg(long, env = "BATON_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Which brain answers visitors: the built-in one (no network), or an
    /// OpenAI-compatible chat-completions endpoint (falls back to the built-in one).
    #[arg(long, env = "BATON_BRAIN", value_enum, default_value_t = BrainKind::Builtin)]
    pub brain: BrainKind,

    /// Where the built-in brain's sentence model is (all-MiniLM-L6-v2 and the trained
    /// classifier). `make build` (run by `make run` and `make test`) installs both
    /// there; without them the built-in brain runs on its rules alone and says so at
    /// start.
    #[arg(long, env = "BATON_MODEL_DIR", default_value = crate::brain::meaning::DEFAULT_MODEL_DIR)]
    pub model_dir: std::path::PathBuf,

    /// The OpenAI-compatible endpoint, up to `/v1` (Ollama: http://127.0.0.1:11434/v1).
    #[arg(long, env = "BATON_LLM_BASE_URL", default_value = "https://api.openai.com/v1")]
    pub llm_base_url: String,

    /// The model to ask.
    #[arg(long, env = "BATON_LLM_MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,

    /// The endpoint's API key, sent as a Bearer token.
    #[arg(long, env = "BATON_LLM_API_KEY", hide_env_values = true, value_parser = secret)]
    pub llm_api_key: Option<SecretString>,

    /// Seconds one request to the model may take.
    #[arg(long, env = "BATON_LLM_TIMEOUT_SECS", default_value_t = 10)]
    pub llm_timeout_secs: u64,

    /// Retries after a timeout, a connection error, a 429 or a 5xx.
    #[arg(long, env = "BATON_LLM_RETRIES", default_value_t = 2)]
    pub llm_retries: usize,

    /// Seconds for all attempts together; then the built-in brain answers the turn.
    #[arg(long, env = "BATON_LLM_DEADLINE_SECS", default_value_t = 20)]
    pub llm_deadline_secs: u64,

    /// Seconds an instance may take over an AI turn before another instance presumes
    /// it gone and runs the turn itself (with the OpenAI-compatible brain, at least
    /// the LLM deadline plus 5).
    #[arg(long, env = "BATON_BOT_TURN_LEASE_SECS", default_value_t = 30)]
    pub bot_turn_lease_secs: u64,

    /// Log output: human-readable text or one JSON object per line.
    #[arg(long, env = "BATON_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// The key that seals help-desk credentials at rest: 32 bytes as 64 hex digits or
    /// base64 (`openssl rand -hex 32`). Unset: `secret.key` in the data directory,
    /// generated on first start (back it up with the database).
    #[arg(long, env = "BATON_SECRET_KEY", hide_env_values = true, value_parser = secret)]
    pub secret_key: Option<SecretString>,

    /// Earlier secret keys, comma-separated, while rotating: values sealed with them
    /// still open, and are sealed again with BATON_SECRET_KEY at start.
    #[arg(long, env = "BATON_PREVIOUS_SECRET_KEYS", hide_env_values = true, value_delimiter = ',', value_parser = secret)]
    pub previous_secret_keys: Vec<SecretString>,

    /// Tests only: send every help-desk call to this loopback origin
    /// (http://127.0.0.1:PORT) instead of the vendors' hosts. Refused unless BATON_ADDR
    /// is loopback too.
    #[arg(long, env = "BATON_HELPDESK_TEST_ORIGIN")]
    pub helpdesk_test_origin: Option<String>,

    /// Seconds an instance holds an escalation it is sending to a help desk; past
    /// that, another instance presumes it gone and sends it (looking the ticket up
    /// first, so there is still one ticket).
    #[arg(long, env = "BATON_HELPDESK_LEASE_SECS", default_value_t = 120)]
    pub helpdesk_lease_secs: u64,

    /// Seconds one request to a help desk may take, its answer included; then it
    /// counts as failed and is retried.
    #[arg(long, env = "BATON_HELPDESK_TIMEOUT_SECS", default_value_t = 20)]
    pub helpdesk_timeout_secs: u64,

    /// Internal endpoints an admin may point Baton at (a chatbot's AI model), which
    /// it otherwise refuses: `host:port` entries or networks, comma-separated
    /// (`127.0.0.1:11434,10.20.0.0/16`). Unset: public addresses only.
    #[arg(long, env = "BATON_ALLOWED_INTERNAL_HOSTS", value_delimiter = ',')]
    pub allowed_internal_hosts: Vec<Allowed>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BrainKind {
    Builtin,
    Openai,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Settings {
    /// How long an instance holds an AI turn: the setting, and always longer than the
    /// longest a turn can take.
    pub fn bot_turn_lease(&self) -> std::time::Duration {
        let longest = match self.brain {
            BrainKind::Builtin => 0,
            BrainKind::Openai => self.llm_deadline_secs.saturating_add(5),
        };
        std::time::Duration::from_secs(self.bot_turn_lease_secs.max(longest).max(1))
    }

    /// The database URL in force: the explicit one, or the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        match self.database_url.as_ref().map(|url| url.expose_secret().trim()) {
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => {
                let path = self.data_dir.join("baton.db");
                // Escape the characters that would end the path part of the URL.
                let path = path
                    .to_string_lossy()
                    .replace('%', "%25")
                    .replace('?', "%3F")
                    .replace('#', "%23")
                    .replace(' ', "%20");
                format!("sqlite://{path}?mode=rwc")
            }
        }
    }

    /// Settings for tests and tools: defaults everywhere, on the given database.
    pub fn for_database(database_url: impl Into<String>, data_dir: PathBuf) -> Settings {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            database_url: Some(SecretString::from(database_url.into())),
            public_url: None,
            trusted_proxies: Vec::new(),
            db_max_connections: 8,
            admin_email: "admin@baton.local".to_owned(),
            admin_password: None,
            site_root: PathBuf::from("target/site"),
            visitor_messages_per_minute: 20,
            starts_per_address_per_minute: 20,
            starts_per_chatbot_per_minute: 600,
            login_attempts_per_minute: 10,
            login_attempts_per_address_per_minute: 20,
            secure_cookies: false,
            brain: BrainKind::Builtin,
            model_dir: crate::brain::meaning::DEFAULT_MODEL_DIR.into(),
            llm_base_url: "https://api.openai.com/v1".to_owned(),
            llm_model: "gpt-4o-mini".to_owned(),
            llm_api_key: None,
            llm_timeout_secs: 10,
            llm_retries: 2,
            llm_deadline_secs: 20,
            bot_turn_lease_secs: 30,
            log_format: LogFormat::Text,
            secret_key: None,
            previous_secret_keys: Vec::new(),
            helpdesk_test_origin: None,
            helpdesk_lease_secs: 120,
            helpdesk_timeout_secs: 20,
            allowed_internal_hosts: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_says_how_to_install_the_sentence_model() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("BATON_MODEL_DIR") && help.contains("make build"), "{help}");
    }

    #[test]
    fn default_database_is_a_sqlite_file_in_the_data_dir() {
        let mut settings = Settings::for_database("", PathBuf::from("/srv/baton data"));
        settings.database_url = None;
        assert_eq!(settings.database_url(), "sqlite:///srv/baton%20data/baton.db?mode=rwc");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let mut settings = Settings::for_database("postgres://baton:db-pass-123@db/baton", PathBuf::from("data"));
        settings.admin_password = Some(SecretString::from("admin-pass-456"));
        settings.llm_api_key = Some(SecretString::from("sk-key-789"));
        let printed = format!("{settings:?}");
        for secret in ["db-pass-123", "admin-pass-456", "sk-key-789"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("REDACTED"));
    }

    #[test]
    fn settings_parse_from_flags_and_lists() {
        let cli = Cli::try_parse_from([
            "server",
            "--trusted-proxies",
            "127.0.0.1,10.0.0.0/8",
            "--public-url",
            "https://baton.acme.com",
            "--llm-api-key",
            "sk-1",
        ])
        .unwrap();
        assert_eq!(cli.settings.trusted_proxies.len(), 2);
        assert_eq!(cli.settings.llm_api_key.as_ref().map(|k| k.expose_secret().to_owned()), Some("sk-1".to_owned()));
        assert!(Cli::try_parse_from(["server", "--trusted-proxies", "proxy.local"]).is_err());
    }

    #[test]
    fn explicit_database_url_wins() {
        let settings = Settings::for_database("postgres://postgres@127.0.0.1/test", PathBuf::from("data"));
        assert_eq!(settings.database_url(), "postgres://postgres@127.0.0.1/test");
    }
}
