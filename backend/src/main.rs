use backend::config::{Command, Settings};
use backend::startup::Application;
use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let settings = Settings::parse();
    if let Err(e) = backend::telemetry::init(&settings.log_filter) {
        eprintln!("chat-server: {e:#}");
        return std::process::ExitCode::from(2);
    }
    if let Some(Command::Seed(args)) = &settings.command {
        return match backend::cli::seed(&settings, args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("chat-server seed: {e:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::Admin { action }) = &settings.command {
        return match backend::cli::run_admin(&settings, action) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("chat-server admin: {e:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let app = match Application::build(settings) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("chat-server: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    app.shutdown_on_signals();
    match app.run_until_stopped().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
