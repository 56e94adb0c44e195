//! Error classification shared by every engine service.
//!
//! Each service has its own `thiserror` error type; all of them say which
//! [`ErrorKind`] they are so the API layer can map them to an HTTP status in
//! one place, without knowing the services' error types.

/// What kind of failure an error is, independent of which service raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object named in the request does not exist.
    NotFound,
    /// The request is malformed or names an impossible value.
    InvalidParameter,
    /// The request conflicts with the current state of an object.
    Conflict,
    /// Credentials are missing or wrong.
    Unauthorized,
    /// The operation is not allowed for this object.
    Forbidden,
    /// A dependency (registry, runtime, kernel feature) is not available.
    Unavailable,
    /// Nothing to do: the object is already in the asked-for state.
    NotModified,
    /// The engine failed; the request was fine.
    Internal,
    /// The object cannot do this by its configuration (logs of a
    /// container that keeps none).
    NotImplemented,
}

/// Implemented by every service error so the API can classify it.
pub trait Classify {
    fn kind(&self) -> ErrorKind;
}

/// The innermost cause of a failed request ("Connection refused (os error
/// 111)"), which says more than reqwest's "error sending request".
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}
