//! `docker-credential-berth`: the docker-credential-helpers protocol over the
//! operating system's keyring. The desktop app uses the same library to show,
//! add and remove registry logins.

pub mod backend;
#[cfg(target_os = "linux")]
mod keyutils;
pub mod protocol;
pub mod store;

pub use backend::Backend;
pub use protocol::{Credentials, ProtocolError, NOT_FOUND};
pub use store::{MemoryStore, Store, StoreError, Stored};

/// How the binary names itself in `version`.
pub const VERSION_LINE: &str =
    concat!("docker-credential-berth (", env!("CARGO_PKG_REPOSITORY"), ") v", env!("CARGO_PKG_VERSION"));

/// Opens the backend in force (see [`backend::chosen`]), saying which it is.
pub fn open() -> Result<(Backend, Box<dyn Store>), StoreError> {
    let (backend, _) = backend::chosen().map_err(StoreError::Unavailable)?;
    Ok((backend, backend.open()?))
}
