//! Everything a command can fail with, worded as Compose words it.

use crate::engine::EngineError;
use crate::project::LoadError;

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Dependency(#[from] crate::project::DependencyError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{}", engine_message(.0))]
    Api(#[from] bollard::errors::Error),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

fn engine_message(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => {
            format!("Error response from daemon: {message}")
        }
        other => other.to_string(),
    }
}

pub fn is_status(e: &bollard::errors::Error, code: u16) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code, .. } if *status_code == code)
}

pub type Result<T, E = ComposeError> = std::result::Result<T, E>;
