//! Which Compose files make a project, and reading one into a JSON tree: YAML anchors and `<<` merge
//! keys resolved, parse errors with line and column.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::LoadError;

const DEFAULT_NAMES: [&str; 4] = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];

/// The files of a project when none are given with `-f` or `COMPOSE_FILE`: the first default name
/// found walking up from `start`, then its override file beside it.
pub fn discover(start: &Path) -> Result<Vec<PathBuf>, LoadError> {
    for dir in start.ancestors() {
        let Some(found) = DEFAULT_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file()) else {
            continue;
        };
        let stem = if found.file_name().is_some_and(|n| n.to_string_lossy().starts_with("docker-")) {
            "docker-compose"
        } else {
            "compose"
        };
        let mut files = vec![found];
        let overrides = [format!("{stem}.override.yaml"), format!("{stem}.override.yml")];
        if let Some(o) = overrides.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
            files.push(o);
        }
        return Ok(files);
    }
    Err(LoadError::NoConfig)
}

/// Reads and parses one file (`-` is standard input).
pub fn read(path: &Path) -> Result<Value, LoadError> {
    let text =
        if path == Path::new("-") { std::io::read_to_string(std::io::stdin()) } else { std::fs::read_to_string(path) }
            .map_err(|e| LoadError::Read(path.to_path_buf(), e))?;
    parse(&text).map_err(|message| LoadError::Yaml(path.to_path_buf(), message))
}

/// Parses YAML text into a JSON tree; an empty document is an empty mapping.
pub fn parse(text: &str) -> Result<Value, String> {
    let text = legacy_octals(text);
    let mut doc: serde_norway::Value = serde_norway::from_str(&text).map_err(|e| e.to_string())?;
    doc.apply_merge().map_err(|e| e.to_string())?;
    match to_json(doc)? {
        Value::Null => Ok(Value::Object(Map::new())),
        v @ Value::Object(_) => Ok(v),
        _ => Err("Top-level object must be a mapping".into()),
    }
}

/// Compose reads `mode: 0440` as octal, as YAML 1.1 did; YAML 1.2 parsers read it as decimal 440.
/// Plain (unquoted) scalars like that become `0o440` before parsing, so they mean what users meant.
/// A scalar counts when it is a whole value: after `: `, `- `, `[`, `{` or `,`, and followed by the
/// end of the line, a comment, `,`, `]` or `}`. Quoted text is left alone.
fn legacy_octals(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<u8> = None;
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) => {
                // A comment runs to the end of the line.
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            None if b == b'0' && starts_value(bytes, i) => {
                let end = i + bytes[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let digits = &text[i + 1..end];
                if !digits.is_empty() && digits.bytes().all(|c| c <= b'7') && ends_value(bytes, end) {
                    out.push_str(&text[last..i]);
                    out.push_str("0o");
                    out.push_str(digits);
                    last = end;
                }
                i = end;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    if last == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[last..]);
    std::borrow::Cow::Owned(out)
}

fn starts_value(bytes: &[u8], at: usize) -> bool {
    let before = bytes[..at].iter().rposition(|c| *c != b' ');
    match before {
        Some(p) => match bytes[p] {
            b'[' | b'{' | b',' => true,
            // `key: 0440` or `- 0440`, with the space YAML requires.
            b':' | b'-' => p + 1 < at,
            _ => false,
        },
        None => false,
    }
}

fn ends_value(bytes: &[u8], at: usize) -> bool {
    let rest = &bytes[at..];
    let next = rest.iter().position(|c| *c != b' ' && *c != b'\t' && *c != b'\r');
    match next {
        None => true,
        Some(p) => matches!(rest[p], b'\n' | b',' | b']' | b'}') || (rest[p] == b'#' && p > 0),
    }
}

fn to_json(value: serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).map_err(|e| e.to_string())?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("non-scalar key {other:?}")),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => to_json(tagged.value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_and_merge_keys() {
        let doc = parse("x: &base {a: 1, b: 2}\ny:\n  <<: *base\n  b: 3\n").unwrap();
        assert_eq!(doc["y"], serde_json::json!({"a": 1, "b": 3}));
    }

    #[test]
    fn leading_zero_numbers_are_octal() {
        let doc = parse("a:\n  mode: 0440\n  b: '0440'\n  c: 440\n  list:\n    - 01777 # sticky\n  cmd: chmod 0755 /x\n  flow: [{m: 0640}, 0755]\n").unwrap();
        assert_eq!(doc["a"]["mode"], 0o440);
        assert_eq!(doc["a"]["b"], "0440");
        assert_eq!(doc["a"]["c"], 440);
        assert_eq!(doc["a"]["list"][0], 0o1777);
        assert_eq!(doc["a"]["cmd"], "chmod 0755 /x");
        assert_eq!(doc["a"]["flow"], serde_json::json!([{"m": 0o640}, 0o755]));
    }

    #[test]
    fn errors_have_positions() {
        let err = parse("services:\n  web:\n    image: a\n   bad: [\n").unwrap_err();
        assert!(err.contains("line"), "{err}");
        assert_eq!(parse("- a\n").unwrap_err(), "Top-level object must be a mapping");
        assert_eq!(parse("").unwrap(), serde_json::json!({}));
    }

    #[test]
    fn discovery_walks_up_and_finds_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), "").unwrap();
        std::fs::write(dir.path().join("compose.override.yml"), "").unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let files = discover(&sub).unwrap();
        assert_eq!(files, vec![dir.path().join("compose.yaml"), dir.path().join("compose.override.yml")]);
    }
}
