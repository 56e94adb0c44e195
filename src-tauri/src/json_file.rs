//! JSON files shared with other programs (the docker CLI's config.json, Berth's settings): read
//! as a whole, changed in place, written back atomically so a crash never leaves half a file.

use std::io::{Error, ErrorKind};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{json, Value};

/// The file's JSON object; a missing file is an empty object.
pub fn read_object(path: &Path) -> std::io::Result<Value> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(json!({})),
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(v) if v.is_object() => Ok(v),
            Ok(_) => Err(Error::new(ErrorKind::InvalidData, format!("{}: not a JSON object", path.display()))),
            Err(e) => Err(Error::new(ErrorKind::InvalidData, format!("{}: {e}", path.display()))),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(json!({})),
        Err(e) => Err(e),
    }
}

/// Writes `value` (indented, as the CLI writes it) through a temp file and a rename, owner-only:
/// these files can hold credentials.
pub fn write(path: &Path, value: &Value) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp-berth");
    std::fs::write(&tmp, serde_json::to_vec_pretty(value).expect("JSON serializes"))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(tmp, path)
}
