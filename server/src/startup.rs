//! Builds the whole application (database, migrations, first-start seed, routes) and
//! serves it until a shutdown signal. Tests start it on port 0.

use std::{future::Future, io, net::SocketAddr, sync::Arc};

use app::{shell, App};
use axum::{extract::FromRef, routing::get, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::{
    config::Settings,
    demo::{self, SeedError, Seeded},
    health,
    store::{Backend, Store, StoreError},
};

/// Everything a request handler or server function may need, cloned cheaply per request.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
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
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    store: Store,
    local_addr: SocketAddr,
    seeded: Seeded,
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Application, StartError> {
        std::fs::create_dir_all(&settings.data_dir).map_err(|source| StartError::DataDir {
            path: settings.data_dir.display().to_string(),
            source,
        })?;
        let store = Store::connect(&settings.database_url(), settings.db_max_connections).await?;
        store.migrate().await?;
        let seeded =
            demo::seed_if_empty(&store, &settings.admin_email, settings.admin_password.as_deref())
                .await?;

        let listener = TcpListener::bind(settings.addr)
            .await
            .map_err(|source| StartError::Bind { addr: settings.addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr: settings.addr, source })?;

        let state = AppState { leptos_options: leptos_options(settings, local_addr), store: store.clone() };
        let router = router(state);
        Ok(Application { listener, router, store, local_addr, seeded })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn seeded(&self) -> &Seeded {
        &self.seeded
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Serves until `shutdown` completes, lets in-flight requests finish, then closes the pool.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let served = axum::serve(self.listener, self.router.into_make_service())
            .with_graceful_shutdown(shutdown)
            .await;
        self.store.close().await;
        served
    }
}

fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context_state = state.clone();
    let provide_state = move || provide_context(context_state.clone());
    let shell_options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .leptos_routes_with_context(&state, routes, provide_state, move || shell(shell_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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
