//! Builds the whole application (database, migrations, first-start seed, routes) and
//! serves it until a shutdown signal. Tests start it on port 0.

use std::{future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use app::{backend::BackendHandle, error::ErrorBody, shell, App, AppError};
use axum::{
    extract::{FromRef, Request},
    http::{Extensions, HeaderMap, StatusCode, Version},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use app::domain::team::Password;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use secrecy::ExposeSecret;
use tokio::{net::TcpListener, task::JoinHandle};
use tower_http::{
    compression::{
        predicate::{DefaultPredicate, Predicate},
        CompressionLayer,
    },
    trace::TraceLayer,
};
use tower_sessions::{cookie::SameSite, ExpiredDeletion, Expiry, SessionManagerLayer};

use crate::{
    assets::{self, Assets},
    auth::{session::SqlSessionStore, throttle::SignInThrottle},
    backend::BatonBackend,
    brain::{
        builtin::BuiltinBrain,
        meaning::Meaning,
        openai::{OpenAiBrain, OpenAiConfig},
        per_chatbot::{CallLimits, ChatbotBrains},
        Brain,
    },
    config::{BrainKind, Settings},
    demo::{self, SeedError, Seeded},
    handoff::{Handoff, VisitorLimits},
    health,
    live::{
        self,
        bus::{self, Bus},
        hub::Hub,
    },
    security::{
        body::{buffered_api_body, MAX_BODY_BYTES},
        client::{client_address, TrustedProxies},
        headers::security_headers,
        origin::SiteOrigin,
    },
    helpdesk::{outbox::Outbox, DeskHttp},
    security::{egress::Egress, vault::Vault},
    store::{Backend, Store, StoreError},
    widget,
};

/// How often each instance looks for AI turns owed that nobody is running.
const BOT_TURN_SWEEP: Duration = Duration::from_secs(5);

/// Everything a request handler or server function may need, cloned cheaply per request.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub handoff: Handoff,
    pub site: SiteOrigin,
    pub assets: Assets,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: io::Error },
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("first-start setup: {0}")]
    Seed(#[from] SeedError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("the OpenAI-compatible brain: {0}")]
    Brain(String),
    #[error("{0}")]
    PublicUrl(String),
    #[error("the secret key: {0}")]
    Vault(#[from] crate::security::vault::VaultError),
    #[error("{0}")]
    HelpDesks(String),
}

/// The built-in brain, with the sentence model if it is installed (said once per
/// process either way).
fn builtin_brain(settings: &Settings) -> BuiltinBrain {
    static SAID: std::sync::Once = std::sync::Once::new();
    match Meaning::shared(&settings.model_dir) {
        Ok(meaning) => {
            SAID.call_once(|| {
                tracing::info!(
                    model_dir = %settings.model_dir.display(),
                    load_ms = meaning.loaded_in.as_millis() as u64,
                    "the built-in brain reads meaning with its sentence model"
                );
            });
            BuiltinBrain::with_meaning(meaning)
        }
        Err(err) => {
            SAID.call_once(|| {
                tracing::warn!(
                    model_dir = %settings.model_dir.display(),
                    error = %err,
                    "the sentence model is not installed: the built-in brain runs on its rules alone \
                     (run `make setup` to install it, or set BATON_MODEL_DIR)"
                );
            });
            BuiltinBrain::rules_only()
        }
    }
}

/// The brain the settings ask for.
pub fn brain(settings: &Settings) -> Result<Arc<dyn Brain>, StartError> {
    match settings.brain {
        BrainKind::Builtin => Ok(Arc::new(builtin_brain(settings))),
        BrainKind::Openai => {
            let base_url = settings.llm_base_url.trim();
            if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                return Err(StartError::Brain(format!("BATON_LLM_BASE_URL must be an http(s) URL, not {base_url:?}")));
            }
            let config = OpenAiConfig {
                base_url: base_url.to_owned(),
                model: settings.llm_model.clone(),
                api_key: settings.llm_api_key.clone(),
                attempt_timeout: Duration::from_secs(settings.llm_timeout_secs.max(1)),
                retries: settings.llm_retries,
                deadline: Duration::from_secs(settings.llm_deadline_secs.max(1)),
            };
            let brain = OpenAiBrain::new(config, builtin_brain(settings)).map_err(|err| StartError::Brain(err.to_string()))?;
            Ok(Arc::new(brain))
        }
    }
}

/// Every chatbot's brain: the settings' brain for those that chose nothing, and
/// what each other one chose in Settings → AI model.
pub fn chatbot_brains(settings: &Settings, vault: Arc<Vault>) -> Result<ChatbotBrains, StartError> {
    let default_label = match settings.brain {
        BrainKind::Builtin => "the built-in AI".to_owned(),
        BrainKind::Openai => format!("{} at {}", settings.llm_model, settings.llm_base_url.trim()),
    };
    let limits = CallLimits {
        attempt_timeout: Duration::from_secs(settings.llm_timeout_secs.max(1)),
        retries: settings.llm_retries,
        deadline: Duration::from_secs(settings.llm_deadline_secs.max(1)),
    };
    let egress = Egress::new(settings.allowed_internal_hosts.clone());
    Ok(ChatbotBrains::new(brain(settings)?, default_label, builtin_brain(settings), vault, limits, egress))
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    store: Store,
    site: SiteOrigin,
    local_addr: SocketAddr,
    seeded: Seeded,
    handoff: Handoff,
    housekeeping: Vec<JoinHandle<()>>,
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Application, StartError> {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|source| StartError::DataDir { path: settings.data_dir.display().to_string(), source })?;
        let store = Store::connect(&settings.database_url(), settings.db_max_connections).await?;
        store.migrate().await?;
        let admin_password = settings.admin_password.as_ref().map(|p| Password::new(p.expose_secret()));
        let seeded = demo::seed_if_empty(&store, &settings.admin_email, admin_password.as_ref()).await?;

        let listener = TcpListener::bind(settings.addr)
            .await
            .map_err(|source| StartError::Bind { addr: settings.addr, source })?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind { addr: settings.addr, source })?;
        let site = SiteOrigin::new(settings.public_url.as_deref(), local_addr).map_err(StartError::PublicUrl)?;
        if settings.public_url.is_none() && !local_addr.ip().is_loopback() {
            tracing::warn!(
                accepted = site.public_url(),
                "BATON_PUBLIC_URL is not set: team pages opened at any other address than the listening one \
                 cannot make changes; set it to the URL people use"
            );
        }

        let hub = Hub::default();
        let mut housekeeping = Vec::new();
        let bus = match store.backend() {
            Backend::Postgres => {
                let (bus, tasks) =
                    bus::start(&settings.database_url(), store.clone(), hub.clone()).await.map_err(StoreError::from)?;
                housekeeping.extend(tasks);
                bus
            }
            Backend::Sqlite => Bus::default(),
        };
        let limits = VisitorLimits {
            messages_per_minute: settings.visitor_messages_per_minute,
            starts_per_address_per_minute: settings.starts_per_address_per_minute,
            starts_per_chatbot_per_minute: settings.starts_per_chatbot_per_minute,
        };
        let vault =
            Arc::new(Vault::open(settings.secret_key.as_ref(), &settings.previous_secret_keys, &settings.data_dir)?);
        let brains = Arc::new(chatbot_brains(settings, vault.clone())?);
        let test_origin = match settings.helpdesk_test_origin.as_deref() {
            Some(raw) => Some(
                crate::helpdesk::http::test_origin(raw, local_addr).map_err(|err| StartError::HelpDesks(err.to_string()))?,
            ),
            None => None,
        };
        let timeout = Duration::from_secs(settings.helpdesk_timeout_secs.max(1));
        let desks = DeskHttp::new(test_origin, timeout, brains.egress()).map_err(|err| StartError::HelpDesks(err.to_string()))?;
        let lease = Duration::from_secs(settings.helpdesk_lease_secs.max(1));
        let outbox = Outbox::new(store.clone(), vault, desks, site.public_url(), lease);
        outbox.reseal_stale().await.map_err(StoreError::from)?;
        let handoff = Handoff::new(store.clone(), hub.clone(), bus, brains.clone(), limits, settings.bot_turn_lease())
            .with_outbox(outbox.clone());
        // AI turns owed from before this start (a crash, a restart) are run by the
        // sweep below, whose first round is at once. On SQLite no other instance can be
        // running them, so their leases go now.
        if store.backend() == Backend::Sqlite {
            store.release_bot_leases().await.map_err(StoreError::from)?;
            store.release_outbox_leases().await.map_err(StoreError::from)?;
        }
        let sign_in = Arc::new(SignInThrottle::new(
            settings.login_attempts_per_minute,
            settings.login_attempts_per_address_per_minute,
        ));
        let backend = Arc::new(BatonBackend::new(handoff.clone(), brains, site.clone(), sign_in.clone()));
        let sessions = SqlSessionStore::new(store.clone());
        housekeeping.extend([
            // Escalations on their way to a help desk, from before this start too.
            tokio::spawn(outbox.run()),
            // Turns owed that nobody runs: from before this start, or another instance
            // died holding them. The first round runs at once.
            tokio::spawn(every(BOT_TURN_SWEEP, {
                let handoff = handoff.clone();
                move || {
                    let handoff = handoff.clone();
                    tokio::spawn(async move { handoff.run_due_bot_turns().await });
                }
            })),
            tokio::spawn(every(Duration::from_secs(60), {
                let (hub, handoff) = (hub.clone(), handoff.clone());
                move || {
                    hub.sweep();
                    handoff.forget_idle_limits();
                    sign_in.forget_idle();
                }
            })),
            tokio::spawn({
                let sessions = sessions.clone();
                async move {
                    let mut ticks = tokio::time::interval(Duration::from_secs(600));
                    loop {
                        ticks.tick().await;
                        if let Err(err) = sessions.delete_expired().await {
                            tracing::warn!(error = %err, "expired-session clean-up failed");
                        }
                    }
                }
            }),
        ]);
        let state = AppState {
            leptos_options: leptos_options(settings, local_addr),
            store: store.clone(),
            handoff: handoff.clone(),
            site: site.clone(),
            assets: Assets::scan(&settings.site_root),
        };
        let proxies = TrustedProxies(settings.trusted_proxies.clone());
        let router = router(state, BackendHandle(backend), sessions, proxies, settings.secure_cookies);
        Ok(Application { listener, router, store, site, local_addr, seeded, handoff, housekeeping })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The URL people reach Baton at: `BATON_PUBLIC_URL`, or the listening address.
    pub fn public_url(&self) -> &str {
        self.site.public_url()
    }

    pub fn seeded(&self) -> &Seeded {
        &self.seeded
    }

    /// The conversations' logic the routes call: for tools that drive it without HTTP
    /// (the load generator's `--in-process` write path).
    pub fn handoff(&self) -> Handoff {
        self.handoff.clone()
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Serves until `shutdown` completes, lets in-flight requests finish, then closes the pool.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        // With each connection's peer address: the client address rate limits count by.
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, service).with_graceful_shutdown(shutdown).await;
        for task in &self.housekeeping {
            task.abort();
        }
        self.store.close().await;
        served
    }
}

fn router(
    state: AppState,
    backend: BackendHandle,
    sessions: SqlSessionStore,
    proxies: TrustedProxies,
    secure_cookies: bool,
) -> Router {
    let routes = generate_route_list(App);
    let urls = state.assets.urls();
    let provide = move || {
        provide_context(backend.clone());
        provide_context(urls.clone());
    };
    let shell_options = state.leptos_options.clone();
    let sessions = SessionManagerLayer::new(sessions)
        .with_name("baton_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(12)));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/live/widget", get(live::widget::widget_socket))
        .route("/live/inbox", get(live::inbox::inbox_socket))
        .route("/demo", get(widget::demo_host_page))
        .route("/pkg/{*file}", get(assets::serve))
        .leptos_routes_with_context(&state, routes, provide, move || shell(shell_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Inner to outer: every layer below runs before the ones above it.
        .layer(middleware::from_fn(typed_api_errors))
        .layer(middleware::from_fn(buffered_api_body))
        .layer(middleware::from_fn(widget::config_cors))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(proxies, client_address))
        // Outside everything that answers, so every response (errors, files, pages) has the headers.
        .layer(middleware::from_fn_with_state(state.store.clone(), security_headers))
        .layer(middleware::from_fn(assets::cache_policy))
        .layer(TraceLayer::new_for_http())
        // Outermost, so the layers inside see plain bodies. A WebSocket upgrade has none to compress.
        // Built files are compressed at build time (`assets`); this covers pages and API answers.
        .layer(CompressionLayer::new().compress_when(DefaultPredicate::new().and(
            |status: StatusCode, _: Version, _: &HeaderMap, extensions: &Extensions| {
                status != StatusCode::SWITCHING_PROTOCOLS && extensions.get::<assets::Built>().is_none()
            },
        )))
        .with_state(state)
}

/// Every `/api/` error leaves as `{"error": {"code", "message"}}` with its code's
/// status, including the ones raised before Baton's code runs (malformed JSON, an
/// unknown call, an oversized body), which the server-function layer would
/// otherwise answer as a plain 500, 404 page or text.
async fn typed_api_errors(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let status = response.status();
    if status.is_success() || status.is_redirection() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.unwrap_or_default();
    let error = match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => AppError::from(body),
        Err(_) => match status {
            StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST
                if bytes.starts_with(b"Could not find a server function") =>
            {
                AppError::NotFound
            }
            StatusCode::NOT_FOUND => AppError::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => AppError::InvalidInput("API calls are POST requests".into()),
            _ if status.is_client_error() => AppError::InvalidInput(String::from_utf8_lossy(&bytes).into_owned()),
            _ => AppError::Internal,
        },
    };
    let mut typed = error.into_response();
    // Keep what the handler set besides the body (cookies, for one).
    for (name, value) in parts.headers.iter() {
        if name != http::header::CONTENT_TYPE && name != http::header::CONTENT_LENGTH {
            typed.headers_mut().entry(name).or_insert(value.clone());
        }
    }
    typed
}

/// Runs `job` every `period`, forever.
async fn every(period: Duration, job: impl Fn() + Send + 'static) {
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        job();
    }
}

/// Leptos' options without any `LEPTOS_*` variable: cargo-leptos bakes the output name
/// in at build time; the site root and address come from Baton's own settings.
fn leptos_options(settings: &Settings, local_addr: SocketAddr) -> LeptosOptions {
    let output_name: Arc<str> = option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("baton").into();
    LeptosOptions::builder()
        .output_name(output_name)
        .site_root(settings.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .env(leptos::config::Env::PROD)
        .site_addr(local_addr)
        .build()
}

/// Resolves on Ctrl-C or SIGTERM, whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
