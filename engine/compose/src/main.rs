//! `docker-compose`: Berth's Compose, run by the docker CLI as its `compose` plugin or on its own.

mod cli;
mod commands;
mod convergence;
mod engine;
mod error;
mod progress;
mod project;

use clap::Parser;

/// The Compose version we present. Tools gate features on Compose v2, whose behaviour this
/// implements; the suffix says whose build it is.
pub const VERSION: &str = concat!("2.39.0-berth.", env!("CARGO_PKG_VERSION"));

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("docker-cli-plugin-metadata") {
        let metadata = serde_json::json!({
            "SchemaVersion": "0.1.0",
            "Vendor": "Berth",
            "Version": format!("v{VERSION}"),
            "ShortDescription": "Docker Compose",
            "URL": "https://github.com/berth-dev/berth",
        });
        println!("{metadata}");
        return;
    }
    init_tracing();
    let (target, args) = cli::split_plugin_args(args);
    let mut cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    cli.project.target = target;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    };
    // Streams left open by a detached attach must not keep the process alive.
    runtime.shutdown_background();
    std::process::exit(code);
}

/// Warnings go to stderr the way Compose prints them; `COMPOSE_LOG_LEVEL`/`RUST_LOG` raise the level.
fn init_tracing() {
    let filter =
        std::env::var("RUST_LOG").or_else(|_| std::env::var("COMPOSE_LOG_LEVEL")).unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
