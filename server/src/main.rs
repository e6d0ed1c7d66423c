//! `server`: reads settings, builds the application, serves until SIGTERM or Ctrl-C.

use std::{io::Write, process::ExitCode};

use clap::Parser;
use server::{
    admin, brain,
    config::{AddMember, Cli, Command},
    demo::Seeded,
    startup::shutdown_signal,
    store::Store,
    telemetry, Application, Settings,
};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.settings).await,
        Command::Migrate => migrate(cli.settings).await,
        Command::AddMember(add) => add_member(cli.settings, add).await,
        Command::TrainBrain => train_brain(cli.settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("baton: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let app = Application::build(&settings).await.map_err(|e| e.to_string())?;
    let url = format!("http://{}", app.local_addr());
    tracing::info!(%url, backend = ?app.backend(), "Baton is listening");
    print_banner(&url, app.public_url(), app.seeded());
    app.run_until_stopped(shutdown_signal()).await.map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(settings: Settings) -> Result<(), String> {
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| e.to_string())?;
    let store = Store::connect(&settings.database_url(), 1).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    store.close().await;
    tracing::info!("migrations applied");
    Ok(())
}

fn train_brain(settings: Settings) -> Result<(), String> {
    let installed = brain::meaning::install(&settings.model_dir).map_err(|e| e.to_string())?;
    let line = format!(
        "Trained the brain on {} examples in {:.1} s: {}\n",
        installed.examples,
        installed.took.as_secs_f64(),
        installed.path.display()
    );
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
    Ok(())
}

async fn add_member(settings: Settings, add: AddMember) -> Result<(), String> {
    let password = admin::read_password()?;
    let (member, workspace) = admin::add_member(&settings, add, password).await?;
    let line = format!("Added {} <{}> as {} to {workspace}.\n", member.name, member.email, member.role.as_str());
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
    Ok(())
}

/// How to sign in and where the demo is, on stdout where a person starting Baton looks.
/// Written without `println!`: a closed stdout must never bring the server down.
fn print_banner(url: &str, public_url: &str, seeded: &Seeded) {
    let sign_in = match seeded {
        Seeded::Created { admin_email, generated_password: Some(password) } => format!(
            "sign in as {admin_email} with password {}\n  \
             (This password is shown only now. Set BATON_ADMIN_PASSWORD before the first start to choose it.)",
            password.expose()
        ),
        Seeded::Created { admin_email, generated_password: None } => {
            format!("sign in as {admin_email} with the password in BATON_ADMIN_PASSWORD")
        }
        Seeded::AlreadyThere { admin_email: Some(email) } => {
            format!("sign in as {email} (password as set at first start)")
        }
        Seeded::AlreadyThere { admin_email: None } => "sign in with your team account".to_owned(),
    };
    let public = if public_url == url { String::new() } else { format!("  Public URL (BATON_PUBLIC_URL): {public_url}\n") };
    let banner = format!(
        "\n  Baton is running at {url}\n{public}  Demo website with the chat widget: {url}/demo\n  \
         Inbox: {url}/inbox   {sign_in}\n\n"
    );
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(banner.as_bytes()).and_then(|()| stdout.flush());
}
