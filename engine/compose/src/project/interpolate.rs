//! Variable substitution in Compose files: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?err}`,
//! `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}` and `$$` for a literal dollar. Defaults and alternatives
//! may themselves hold variables, which are only resolved when used.

use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InterpolateError {
    #[error("required variable {name} is missing a value{}", reason_suffix(.reason))]
    Required { name: String, reason: String },
    #[error("invalid interpolation format for {0}")]
    Invalid(String),
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

/// Where variable values come from, and who hears about variables that are not set.
pub trait Variables {
    fn get(&self, name: &str) -> Option<String>;
    /// Called for every variable used without a value or a default (Compose warns about them).
    fn unset(&self, _name: &str) {}
}

/// Substitutes every variable in `input`.
pub fn substitute(input: &str, vars: &dyn Variables) -> Result<String, InterpolateError> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = closing_brace(body).ok_or_else(|| InterpolateError::Invalid(input.to_string()))?;
            out.push_str(&braced(&body[..end], input, vars)?);
            rest = &body[end + 1..];
        } else {
            let len = name_len(after);
            if len == 0 {
                return Err(InterpolateError::Invalid(input.to_string()));
            }
            out.push_str(&plain(&after[..len], vars));
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn name_len(s: &str) -> usize {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, c)) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return 0,
    }
    chars.find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_')).map_or(s.len(), |(i, _)| i)
}

/// Index of the `}` that closes an expression whose `${` has been consumed.
fn closing_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn plain(name: &str, vars: &dyn Variables) -> String {
    vars.get(name).unwrap_or_else(|| {
        vars.unset(name);
        String::new()
    })
}

fn braced(expr: &str, whole: &str, vars: &dyn Variables) -> Result<String, InterpolateError> {
    let len = name_len(expr);
    if len == 0 {
        return Err(InterpolateError::Invalid(whole.to_string()));
    }
    let (name, op) = expr.split_at(len);
    let value = vars.get(name);
    let set_nonempty = value.as_deref().is_some_and(|v| !v.is_empty());
    let (check_empty, kind, arg) = if let Some(arg) = op.strip_prefix(':') {
        (true, arg.chars().next(), arg.get(1..).unwrap_or(""))
    } else {
        (false, op.chars().next(), op.get(1..).unwrap_or(""))
    };
    let present = if check_empty { set_nonempty } else { value.is_some() };
    match kind {
        None if !check_empty => Ok(plain(name, vars)),
        Some('-') => match present {
            true => Ok(value.unwrap_or_default()),
            false => substitute(arg, vars),
        },
        Some('+') => match present {
            true => substitute(arg, vars),
            false => Ok(String::new()),
        },
        Some('?') => match present {
            true => Ok(value.unwrap_or_default()),
            false => Err(InterpolateError::Required { name: name.to_string(), reason: substitute(arg, vars)? }),
        },
        _ => Err(InterpolateError::Invalid(whole.to_string())),
    }
}

/// An interpolation error with the dotted path of the value it happened in.
#[derive(Debug, thiserror::Error)]
#[error("error while interpolating {path}: {source}")]
pub struct PathError {
    pub path: String,
    #[source]
    pub source: InterpolateError,
}

/// Substitutes variables in every string of a parsed Compose document (values, not keys).
pub fn interpolate_tree(value: &mut Value, vars: &dyn Variables) -> Result<(), PathError> {
    walk(value, &mut Vec::new(), vars)
}

fn walk(value: &mut Value, path: &mut Vec<String>, vars: &dyn Variables) -> Result<(), PathError> {
    match value {
        Value::String(s) => {
            *s = substitute(s, vars).map_err(|source| PathError { path: path.join("."), source })?;
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(format!("[{i}]"));
                walk(item, path, vars)?;
                path.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                path.push(key.clone());
                walk(item, path, vars)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    struct Env(HashMap<&'static str, &'static str>, RefCell<Vec<String>>);

    impl Variables for Env {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| v.to_string())
        }
        fn unset(&self, name: &str) {
            self.1.borrow_mut().push(name.to_string());
        }
    }

    fn env() -> Env {
        Env(HashMap::from([("A", "a"), ("EMPTY", ""), ("TAG", "1.2")]), RefCell::default())
    }

    fn sub(s: &str) -> Result<String, InterpolateError> {
        substitute(s, &env())
    }

    #[test]
    fn plain_and_braced() {
        assert_eq!(sub("x$A-${A}y").unwrap(), "xa-ay");
        assert_eq!(sub("img:${TAG}").unwrap(), "img:1.2");
        assert_eq!(sub("$$A costs $$5").unwrap(), "$A costs $5");
    }

    #[test]
    fn defaults_distinguish_unset_from_empty() {
        assert_eq!(sub("${EMPTY:-d}").unwrap(), "d");
        assert_eq!(sub("${EMPTY-d}").unwrap(), "");
        assert_eq!(sub("${NOPE-d}").unwrap(), "d");
        assert_eq!(sub("${NOPE:-${A}-x}").unwrap(), "a-x");
        assert_eq!(sub("${A:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${NOPE+alt}").unwrap(), "alt||alt|");
    }

    #[test]
    fn required_variables() {
        assert_eq!(
            sub("${NOPE:?set it}").unwrap_err().to_string(),
            "required variable NOPE is missing a value: set it"
        );
        assert_eq!(sub("${EMPTY?}").unwrap(), "");
        assert_eq!(sub("${EMPTY:?}").unwrap_err().to_string(), "required variable EMPTY is missing a value");
    }

    #[test]
    fn unset_variables_are_reported_and_blank() {
        let e = env();
        assert_eq!(substitute("<$NOPE><${ALSO}>", &e).unwrap(), "<><>");
        assert_eq!(*e.1.borrow(), ["NOPE", "ALSO"]);
    }

    #[test]
    fn malformed_templates() {
        for bad in ["${A", "${}", "${A:x}", "price 5$", "$ sign", "${-x}"] {
            assert!(matches!(sub(bad), Err(InterpolateError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn tree_errors_name_the_path() {
        let mut doc = serde_json::json!({"services": {"web": {"image": "x:${NOPE:?tag please}"}}});
        let err = interpolate_tree(&mut doc, &env()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "error while interpolating services.web.image: required variable NOPE is missing a value: tag please"
        );
    }
}
