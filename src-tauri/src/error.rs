//! The one error the UI sees: a human-readable message (commands reject with it).

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CommandError(pub String);

impl serde::Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl From<bollard::errors::Error> for CommandError {
    fn from(e: bollard::errors::Error) -> Self {
        match e {
            bollard::errors::Error::DockerResponseServerError { message, .. } => CommandError(message),
            bollard::errors::Error::DockerStreamError { error } => CommandError(error),
            other => CommandError(other.to_string()),
        }
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
