//! The helper binary the docker CLI runs as `docker-credential-berth ACTION`.

use std::io::Read;
use std::process::ExitCode;

use berth_credential::backend::{self, Backend, Source};

const USAGE: &str = "Usage: docker-credential-berth <store|get|erase|list|version|backend [NAME]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Like every credential helper, failures go to stdout: that is what the
    // docker CLI reads back.
    match run(&args) {
        Ok(out) => {
            if !out.is_empty() {
                println!("{out}");
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            println!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<String, String> {
    let action = args.first().map(String::as_str).ok_or(USAGE)?;
    match action {
        "version" | "-v" | "--version" => Ok(berth_credential::VERSION_LINE.into()),
        "-h" | "--help" | "help" => Ok(USAGE.into()),
        "backend" => backend_command(args.get(1).map(String::as_str)),
        "store" | "get" | "erase" | "list" => {
            let mut input = String::new();
            if action != "list" {
                std::io::stdin().read_to_string(&mut input).map_err(|e| format!("error reading stdin: {e}"))?;
            }
            let (_, store) = berth_credential::open().map_err(|e| e.to_string())?;
            berth_credential::protocol::run(store.as_ref(), action, &input).map_err(|e| e.to_string())
        }
        other => Err(format!("Unknown credential action `{other}`")),
    }
}

/// `backend` reports the keyring in use; `backend NAME` chooses one, after
/// checking that it answers.
fn backend_command(name: Option<&str>) -> Result<String, String> {
    let Some(name) = name else {
        let (b, source) = backend::chosen()?;
        let why = match source {
            Source::Default => "the default for this system".to_string(),
            Source::Env => format!("set by {}", backend::ENV),
            Source::File(p) => format!("chosen in {}", p.display()),
        };
        return Ok(format!("{} ({}), {why}", b.name(), b.label()));
    };
    let b = Backend::named(name)?;
    b.open().map_err(|e| e.to_string())?;
    let path = backend::choose(b)?;
    Ok(format!("credentials now go to the {} (saved in {})", b.label(), path.display()))
}
