//! The `.env` / `env_file` format as Compose reads it: `KEY=VALUE` lines, `export` prefixes, comments,
//! single quotes (literal), double quotes (escapes and variables, may span lines), unquoted values with
//! ` #` comments, and a bare `KEY` that takes its value from the environment.

use super::interpolate::{self, Variables};

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DotenvError {
    pub line: usize,
    pub message: String,
}

/// One parsed entry: a bare `KEY` whose variable is not set has no value.
pub type Entry = (String, Option<String>);

/// Parses `text`; `outer` resolves bare keys and variables not defined earlier in the file.
pub fn parse(text: &str, outer: &dyn Variables) -> Result<Vec<Entry>, DotenvError> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, raw)) = lines.next() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map(str::trim_start).unwrap_or(line);
        let err = |message: String| DotenvError { line: index + 1, message };
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim_end(), Some(v.trim_start())),
            None => (line.trim_end(), None),
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(err(format!("unexpected character in variable name {key:?}")));
        }
        let Some(value) = value else {
            entries.push((key.to_string(), outer.get(key)));
            continue;
        };
        let known = Known { entries: &entries, outer };
        let value = if let Some(body) = value.strip_prefix('\'') {
            let mut text = body.to_string();
            let end = loop {
                if let Some(end) = text.find('\'') {
                    break end;
                }
                let (_, next) = lines.next().ok_or_else(|| err("unterminated single-quoted value".into()))?;
                text.push('\n');
                text.push_str(next);
            };
            text[..end].to_string()
        } else if let Some(body) = value.strip_prefix('"') {
            let mut text = body.to_string();
            let end = loop {
                if let Some(end) = unescaped_quote(&text) {
                    break end;
                }
                let (_, next) = lines.next().ok_or_else(|| err("unterminated double-quoted value".into()))?;
                text.push('\n');
                text.push_str(next);
            };
            let unescaped = unescape(&text[..end]);
            interpolate::substitute(&unescaped, &known).map_err(|e| err(e.to_string()))?
        } else {
            let value = match value.find(" #") {
                Some(at) => &value[..at],
                None => value,
            };
            interpolate::substitute(value.trim_end(), &known).map_err(|e| err(e.to_string()))?
        };
        entries.push((key.to_string(), Some(value)));
    }
    Ok(entries)
}

/// Variables seen so far in the file shadow the outer environment, later lines win.
struct Known<'a> {
    entries: &'a [Entry],
    outer: &'a dyn Variables,
}

impl Variables for Known<'_> {
    fn get(&self, name: &str) -> Option<String> {
        match self.entries.iter().rev().find(|(k, _)| k == name) {
            Some((_, v)) => v.clone(),
            None => self.outer.get(name),
        }
    }
}

fn unescaped_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Outer;
    impl Variables for Outer {
        fn get(&self, name: &str) -> Option<String> {
            (name == "HOME").then(|| "/root".to_string())
        }
    }

    fn parsed(text: &str) -> Vec<(String, Option<String>)> {
        parse(text, &Outer).unwrap()
    }

    #[test]
    fn the_usual_forms() {
        let text = "# comment\n\nA=1\nexport B = two words  # note\nC='lit $A #x'\nD=\"q $A\\n\\\"x\\\"\"\nE=\nHOME\nMISSING\nF=${A}-${HOME}\n";
        assert_eq!(
            parsed(text),
            vec![
                ("A".into(), Some("1".into())),
                ("B".into(), Some("two words".into())),
                ("C".into(), Some("lit $A #x".into())),
                ("D".into(), Some("q 1\n\"x\"".into())),
                ("E".into(), Some(String::new())),
                ("HOME".into(), Some("/root".into())),
                ("MISSING".into(), None),
                ("F".into(), Some("1-/root".into())),
            ]
        );
    }

    #[test]
    fn multiline_quotes() {
        assert_eq!(
            parsed("K=\"a\nb\"\nL='c\nd'"),
            vec![("K".into(), Some("a\nb".into())), ("L".into(), Some("c\nd".into()))]
        );
    }

    #[test]
    fn errors_carry_line_numbers() {
        assert_eq!(parse("A=1\nB C=2", &Outer).unwrap_err().line, 2);
        assert_eq!(parse("A=\"open", &Outer).unwrap_err().to_string(), "line 1: unterminated double-quoted value");
    }
}
