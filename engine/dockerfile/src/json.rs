//! Docker's exec form (`["a", "b"]`) versus its shell form: the whole text
//! is decoded as JSON first; invalid JSON falls back to shell form, while
//! valid JSON that is not an array of strings is an error.

/// What an instruction's argument text turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JsonArgs {
    /// Not a JSON array: the caller uses shell form.
    NotJson,
    /// A valid JSON array with an element that is not a string.
    NotStrings,
    Strings(Vec<String>),
}

pub(crate) fn parse_string_array(text: &str) -> JsonArgs {
    if !text.trim_start().starts_with('[') {
        return JsonArgs::NotJson;
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Some(s),
                _ => None,
            })
            .collect::<Option<Vec<String>>>()
            .map_or(JsonArgs::NotStrings, JsonArgs::Strings),
        _ => JsonArgs::NotJson,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_form_or_shell_form() {
        assert_eq!(parse_string_array(r#" ["a", "b c"] "#), JsonArgs::Strings(vec!["a".into(), "b c".into()]));
        assert_eq!(parse_string_array(r#"["\u00e9\n"]"#), JsonArgs::Strings(vec!["é\n".into()]));
        assert_eq!(parse_string_array("[]"), JsonArgs::Strings(vec![]));
        assert_eq!(parse_string_array(r#"["a", 1]"#), JsonArgs::NotStrings);
        assert_eq!(parse_string_array("[a, b]"), JsonArgs::NotJson);
        assert_eq!(parse_string_array(r#"["a"] trailing"#), JsonArgs::NotJson);
        assert_eq!(parse_string_array("echo [x]"), JsonArgs::NotJson);
    }
}
