//! Shell-style word processing, as Docker's builder applies it to the arguments of
//! ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR and ARG.
//!
//! This is not a shell: there is no command substitution, globbing or arithmetic. It
//! removes quotes, handles the escape character and expands `$VAR` / `${VAR...}`.

use thiserror::Error;

/// Why a word could not be expanded. Messages follow Docker's wording.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExpandError {
    /// A quote was opened and never closed; the payload is `single-quote` or `double-quote`.
    #[error("unexpected end of statement while looking for matching {0}")]
    UnterminatedQuote(&'static str),
    /// `${` without its closing brace.
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    /// `${}`, `${:...}` or `${{...`.
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    /// An operator other than `-`, `+`, `?` (optionally after `:`).
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(String),
    /// `${VAR?msg}` / `${VAR:?msg}` on an unset (or empty) variable.
    #[error("{name}: {message}")]
    Required { name: String, message: String },
}

/// Expands one word: quote removal, escapes and variable expansion. Whitespace is kept
/// as is, so the result is always a single string (Docker's `ProcessWord`).
///
/// `lookup` returns `None` for an unset variable, which expands to the empty string.
pub fn expand_word(raw: &str, escape: char, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, ExpandError> {
    Lexer::new(raw, escape, lookup, false).run(None).map(|(word, _)| word)
}

/// Expands and splits on unquoted whitespace, including whitespace that comes from an
/// unquoted variable's value (Docker's `ProcessWords`). Empty words are dropped.
pub fn expand_words(
    raw: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, ExpandError> {
    Lexer::new(raw, escape, lookup, false).run(None).map(|(_, words)| words.finish())
}

/// Like [`expand_words`] with no variables, but unset references are left verbatim.
/// Used for heredoc delimiters, which Docker lexes the same way.
pub(crate) fn words_keep_unset(raw: &str) -> Result<Vec<String>, ExpandError> {
    Lexer::new(raw, '\\', &|_| None, true).run(None).map(|(_, words)| words.finish())
}

/// One `name=value` (or legacy `name value`) entry of ENV or LABEL. Both sides are raw:
/// quotes and escapes are kept so that the builder can expand them with [`expand_word`]
/// against the environment in effect at that instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// Why a pair list could not be split.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PairsError {
    /// Legacy form (`ENV name value`) with only a name.
    #[error("must have two arguments")]
    MissingValue,
    /// New form with a word that has no `=`.
    #[error("Syntax error - can't find = in {0:?}. Must be of the form: name=value")]
    MissingEquals(String),
    /// `=value` with nothing before the `=`.
    #[error("names can not be blank")]
    BlankName,
}

/// Splits text on unquoted whitespace, keeping quotes and escapes in the words. This is
/// how Docker's parser tokenises ENV, LABEL and ARG before anything is expanded.
pub fn split_words_raw(text: &str, escape: char) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        // The escape char protects the next char, except inside single quotes; a
        // trailing escape has nothing to protect and is dropped, as Docker does.
        let escapes = ch == escape && quote != Some('\'');
        if escapes {
            if let Some(&next) = chars.get(i + 1) {
                word.push(ch);
                word.push(next);
            }
            i += 2;
            continue;
        }
        match quote {
            Some(q) => {
                if ch == q {
                    quote = None;
                }
                word.push(ch);
            }
            None if ch.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            None => {
                if ch == '\'' || ch == '"' {
                    quote = Some(ch);
                }
                word.push(ch);
            }
        }
        i += 1;
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Splits the arguments of ENV or LABEL into raw key/value pairs.
///
/// Docker decides the form from the first word: without `=` it is the legacy
/// `name value...` form (the value is the rest of the text), otherwise every word must
/// be `name=value`. An empty text gives an empty list.
pub fn split_key_values(text: &str, escape: char) -> Result<Vec<KeyValue>, PairsError> {
    let text = text.trim();
    let words = split_words_raw(text, escape);
    let Some(first) = words.first() else { return Ok(Vec::new()) };
    if !first.contains('=') {
        let Some((key, value)) = split_first_blank_run(text) else { return Err(PairsError::MissingValue) };
        return Ok(vec![KeyValue { key: key.to_string(), value: value.to_string() }]);
    }
    words
        .into_iter()
        .map(|word| {
            let Some((key, value)) = word.split_once('=') else { return Err(PairsError::MissingEquals(word)) };
            if key.is_empty() {
                return Err(PairsError::BlankName);
            }
            Ok(KeyValue { key: key.to_string(), value: value.to_string() })
        })
        .collect()
}

/// Docker's line-level whitespace (`[\t\v\f\r ]`), narrower than `char::is_whitespace`.
pub(crate) fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{b}' | '\u{c}' | '\r')
}

/// Splits at the first run of blanks: `("a", "b c")` for `"a  b c"`.
pub(crate) fn split_first_blank_run(text: &str) -> Option<(&str, &str)> {
    let start = text.find(is_blank)?;
    Some((&text[..start], text[start..].trim_start_matches(is_blank)))
}

/// Word accumulator for [`expand_words`]: tracks which characters may split words.
#[derive(Default)]
struct Words {
    words: Vec<String>,
    word: String,
}

impl Words {
    /// A character that splits words when it is whitespace (unquoted text, `$` values).
    fn add_char(&mut self, ch: char) {
        if !ch.is_whitespace() {
            self.word.push(ch);
        } else if !self.word.is_empty() {
            self.words.push(std::mem::take(&mut self.word));
        }
    }

    fn add_str(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }

    /// Quoted or escaped text: never splits.
    fn add_raw(&mut self, s: &str) {
        self.word.push_str(s);
    }

    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(self.word);
        }
        self.words
    }
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    escape: char,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    /// Leave unset references as written instead of expanding them to nothing.
    keep_unset: bool,
}

impl<'a> Lexer<'a> {
    fn new(raw: &str, escape: char, lookup: &'a dyn Fn(&str) -> Option<String>, keep_unset: bool) -> Self {
        Lexer { chars: raw.chars().collect(), pos: 0, escape, lookup, keep_unset }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let ch = self.peek();
        if ch.is_some() {
            self.pos += 1;
        }
        ch
    }

    /// Processes up to `stop` (consumed) or the end of input. `stop` is `}` when reading
    /// the word of a `${VAR:-word}` operator, where reaching the end is an error.
    fn run(&mut self, stop: Option<char>) -> Result<(String, Words), ExpandError> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.pos += 1;
                return Ok((result, words));
            }
            match ch {
                '\'' => {
                    let text = self.single_quoted()?;
                    words.add_raw(&text);
                    result.push_str(&text);
                }
                '"' => {
                    let text = self.double_quoted()?;
                    words.add_raw(&text);
                    result.push_str(&text);
                }
                '$' => {
                    let text = self.dollar()?;
                    words.add_str(&text);
                    result.push_str(&text);
                }
                _ => {
                    self.pos += 1;
                    if ch == self.escape {
                        // Outside quotes the escape char makes the next one literal;
                        // at the very end it is simply dropped.
                        let Some(next) = self.bump() else { break };
                        words.add_raw(next.encode_utf8(&mut [0; 4]));
                        result.push(next);
                    } else {
                        words.add_char(ch);
                        result.push(ch);
                    }
                }
            }
        }
        if stop.is_some() {
            return Err(ExpandError::MissingBrace);
        }
        Ok((result, words))
    }

    fn single_quoted(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(ExpandError::UnterminatedQuote("single-quote")),
                Some('\'') => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quoted(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(ExpandError::UnterminatedQuote("double-quote")),
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('$') => out.push_str(&self.dollar()?),
                Some(c) => {
                    self.pos += 1;
                    // Only `"`, `$` and the escape char itself can be escaped inside
                    // double quotes; any other escape char stays literal.
                    if c == self.escape {
                        if let Some(next @ ('"' | '$')) = self.peek() {
                            self.pos += 1;
                            out.push(next);
                            continue;
                        }
                        if self.peek() == Some(self.escape) {
                            self.pos += 1;
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    fn dollar(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".to_string());
            }
            return Ok(match self.get(&name) {
                Some(value) => value,
                None if self.keep_unset => format!("${name}"),
                None => String::new(),
            });
        }
        self.pos += 1;
        match self.peek() {
            None => return Err(ExpandError::MissingBrace),
            Some('{' | '}' | ':') => return Err(ExpandError::BadSubstitution),
            _ => {}
        }
        let name = self.name();
        let Some(op) = self.bump() else { return Err(ExpandError::MissingBrace) };
        match op {
            '}' => Ok(match self.get(&name) {
                Some(value) => value,
                None if self.keep_unset => format!("${{{name}}}"),
                None => String::new(),
            }),
            ':' | '-' | '+' | '?' => {
                let mut modifier = op.to_string();
                let null_is_unset = op == ':';
                let op = if null_is_unset {
                    let Some(next) = self.bump() else { return Err(ExpandError::MissingBrace) };
                    modifier.push(next);
                    next
                } else {
                    op
                };
                // The word is itself expanded (quotes, nested `${...}`) before use.
                let (word, _) = self.run(Some('}'))?;
                let value = self.get(&name);
                if self.keep_unset && value.is_none() {
                    return Ok(format!("${{{name}{modifier}{word}}}"));
                }
                let unset = match &value {
                    None => true,
                    Some(v) => null_is_unset && v.is_empty(),
                };
                match op {
                    '-' => Ok(if unset { word } else { value.unwrap_or_default() }),
                    '+' => Ok(if unset { String::new() } else { word }),
                    '?' if value.is_none() => Err(required(name, word, "is not allowed to be unset")),
                    '?' if unset => Err(required(name, word, "is not allowed to be empty")),
                    '?' => Ok(value.unwrap_or_default()),
                    _ => Err(ExpandError::UnsupportedModifier(modifier)),
                }
            }
            other => Err(ExpandError::UnsupportedModifier(other.to_string())),
        }
    }

    /// Reads a variable name: letters, digits and `_`, or all leading digits
    /// (positional), or one special parameter character.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_ascii_digit() {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    name.push(d);
                    self.pos += 1;
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!') {
                self.pos += 1;
                return ch.to_string();
            }
            if !ch.is_alphanumeric() && ch != '_' {
                break;
            }
            name.push(ch);
            self.pos += 1;
        }
        name
    }
}

fn required(name: String, word: String, default: &str) -> ExpandError {
    let message = if word.is_empty() { default.to_string() } else { word };
    ExpandError::Required { name, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn word(raw: &str) -> Result<String, ExpandError> {
        let lookup = env(&[("A", "alpha"), ("E", ""), ("S", "x y  z"), ("NUM", "42"), ("1", "one")]);
        expand_word(raw, '\\', &lookup)
    }

    fn words(raw: &str) -> Vec<String> {
        let lookup = env(&[("A", "alpha"), ("S", "x y  z")]);
        expand_words(raw, '\\', &lookup).unwrap()
    }

    #[test]
    fn plain_and_simple_variables() {
        assert_eq!(word("hello world").unwrap(), "hello world");
        assert_eq!(word("$A").unwrap(), "alpha");
        assert_eq!(word("${A}").unwrap(), "alpha");
        assert_eq!(word("pre-$A-post").unwrap(), "pre-alpha-post");
        assert_eq!(word("${A}bet").unwrap(), "alphabet");
        assert_eq!(word("$Abet").unwrap(), "");
        assert_eq!(word("$UNSET").unwrap(), "");
        assert_eq!(word("a${UNSET}b").unwrap(), "ab");
        assert_eq!(word("$1x").unwrap(), "onex");
        assert_eq!(word("$").unwrap(), "$");
        assert_eq!(word("a$/b").unwrap(), "a$/b");
        assert_eq!(word("$NUM.5").unwrap(), "42.5");
    }

    #[test]
    fn default_and_alternative_operators() {
        assert_eq!(word("${A:-def}").unwrap(), "alpha");
        assert_eq!(word("${UNSET:-def}").unwrap(), "def");
        assert_eq!(word("${E:-def}").unwrap(), "def");
        assert_eq!(word("${E-def}").unwrap(), "");
        assert_eq!(word("${UNSET-def}").unwrap(), "def");
        assert_eq!(word("${A:+alt}").unwrap(), "alt");
        assert_eq!(word("${E:+alt}").unwrap(), "");
        assert_eq!(word("${E+alt}").unwrap(), "alt");
        assert_eq!(word("${UNSET+alt}").unwrap(), "");
        assert_eq!(word("${UNSET:+alt}").unwrap(), "");
        assert_eq!(word("${UNSET:-}").unwrap(), "");
    }

    #[test]
    fn required_operator() {
        assert_eq!(word("${A:?boom}").unwrap(), "alpha");
        assert_eq!(word("${E?boom}").unwrap(), "");
        assert_eq!(
            word("${UNSET:?must be set}"),
            Err(ExpandError::Required { name: "UNSET".into(), message: "must be set".into() })
        );
        assert_eq!(word("${UNSET?}").unwrap_err().to_string(), "UNSET: is not allowed to be unset");
        assert_eq!(word("${E:?}").unwrap_err().to_string(), "E: is not allowed to be empty");
    }

    #[test]
    fn nested_expansion_in_operator_word() {
        assert_eq!(word("${UNSET:-${A}}").unwrap(), "alpha");
        assert_eq!(word("${UNSET:-${OTHER:-deep}}").unwrap(), "deep");
        assert_eq!(word("${UNSET:-pre-$A}").unwrap(), "pre-alpha");
        assert_eq!(word("${A:+[${A}]}").unwrap(), "[alpha]");
        assert_eq!(word("${UNSET:-\"a b\"}").unwrap(), "a b");
        assert_eq!(word("${UNSET:-'$A'}").unwrap(), "$A");
        assert_eq!(word("${UNSET:-a\\}b}").unwrap(), "a}b");
    }

    #[test]
    fn quotes() {
        assert_eq!(word("'$A \"x\"'").unwrap(), "$A \"x\"");
        assert_eq!(word("\"$A 'x'\"").unwrap(), "alpha 'x'");
        assert_eq!(word("\"a\\\"b\"").unwrap(), "a\"b");
        assert_eq!(word("\"a\\$A\"").unwrap(), "a$A");
        assert_eq!(word("\"a\\nb\"").unwrap(), "a\\nb");
        assert_eq!(word("\"a\\\\b\"").unwrap(), "a\\b");
        assert_eq!(word("'a\\b'").unwrap(), "a\\b");
        assert_eq!(word("x\"\"y").unwrap(), "xy");
        assert_eq!(word("\"${A}\"'${A}'").unwrap(), "alpha${A}");
    }

    #[test]
    fn escapes_outside_quotes() {
        assert_eq!(word("\\$A").unwrap(), "$A");
        assert_eq!(word("a\\ b").unwrap(), "a b");
        assert_eq!(word("\\\"x\\\"").unwrap(), "\"x\"");
        assert_eq!(word("trailing\\").unwrap(), "trailing");
        // With the backtick escape, backslashes are ordinary characters (Windows paths).
        assert_eq!(expand_word("C:\\dir\\$A", '`', &env(&[("A", "x")])).unwrap(), "C:\\dir\\x");
        assert_eq!(expand_word("`$A", '`', &env(&[("A", "x")])).unwrap(), "$A");
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(word("'abc"), Err(ExpandError::UnterminatedQuote("single-quote")));
        assert_eq!(
            word("\"abc").unwrap_err().to_string(),
            "unexpected end of statement while looking for matching double-quote"
        );
        assert_eq!(word("${A"), Err(ExpandError::MissingBrace));
        assert_eq!(word("${A:-x"), Err(ExpandError::MissingBrace));
        assert_eq!(word("${"), Err(ExpandError::MissingBrace));
        assert_eq!(word("${}"), Err(ExpandError::BadSubstitution));
        assert_eq!(word("${:-x}"), Err(ExpandError::BadSubstitution));
        assert_eq!(word("${A!}").unwrap_err().to_string(), "unsupported modifier (!) in substitution");
        assert_eq!(word("${A:x}").unwrap_err().to_string(), "unsupported modifier (:x) in substitution");
    }

    #[test]
    fn words_split_on_unquoted_whitespace() {
        assert_eq!(words("a  b\tc"), ["a", "b", "c"]);
        assert_eq!(words("a \"b c\" 'd e'"), ["a", "b c", "d e"]);
        assert_eq!(words("$S"), ["x", "y", "z"]);
        assert_eq!(words("\"$S\""), ["x y  z"]);
        assert_eq!(words("pre$S"), ["prex", "y", "z"]);
        assert_eq!(words("a\\ b c"), ["a b", "c"]);
        assert_eq!(words("a \"\" b"), ["a", "b"]);
        assert_eq!(words("   "), Vec::<String>::new());
        assert_eq!(words("${UNSET:-p q}"), ["p", "q"]);
    }

    #[test]
    fn keep_unset_for_heredoc_names() {
        assert_eq!(words_keep_unset("\"EOF\"").unwrap(), ["EOF"]);
        assert_eq!(words_keep_unset("$X").unwrap(), ["$X"]);
        assert_eq!(words_keep_unset("${X}").unwrap(), ["${X}"]);
        assert_eq!(words_keep_unset("${X:-y}").unwrap(), ["${X:-y}"]);
    }

    #[test]
    fn raw_word_splitting_keeps_quotes() {
        assert_eq!(split_words_raw("a=1 b=\"x y\"  c='p q'", '\\'), ["a=1", "b=\"x y\"", "c='p q'"]);
        assert_eq!(split_words_raw("a=x\\ y b", '\\'), ["a=x\\ y", "b"]);
        assert_eq!(split_words_raw("a='x\\' b", '\\'), ["a='x\\'", "b"]);
        assert_eq!(split_words_raw("a=\"x\\\" y\" b", '\\'), ["a=\"x\\\" y\"", "b"]);
        assert_eq!(split_words_raw("a=x` y b", '`'), ["a=x` y", "b"]);
        assert_eq!(split_words_raw("  ", '\\'), Vec::<String>::new());
        assert_eq!(split_words_raw("a \\", '\\'), ["a"]);
    }

    #[test]
    fn key_value_pairs() {
        let kv = |k: &str, v: &str| KeyValue { key: k.into(), value: v.into() };
        assert_eq!(split_key_values("k=v k2=\"v 2\"", '\\').unwrap(), [kv("k", "v"), kv("k2", "\"v 2\"")]);
        assert_eq!(split_key_values("\"my key\"=x", '\\').unwrap(), [kv("\"my key\"", "x")]);
        assert_eq!(split_key_values("k=", '\\').unwrap(), [kv("k", "")]);
        assert_eq!(split_key_values("k=a=b", '\\').unwrap(), [kv("k", "a=b")]);
        assert_eq!(split_key_values("NAME some  long value", '\\').unwrap(), [kv("NAME", "some  long value")]);
        assert_eq!(split_key_values("NAME \"quoted\"", '\\').unwrap(), [kv("NAME", "\"quoted\"")]);
        assert_eq!(split_key_values("", '\\').unwrap(), []);
        assert_eq!(split_key_values("ALONE", '\\'), Err(PairsError::MissingValue));
        assert_eq!(split_key_values("a=1 b", '\\'), Err(PairsError::MissingEquals("b".into())));
        assert_eq!(split_key_values("=x", '\\'), Err(PairsError::BlankName));
        assert_eq!(
            PairsError::MissingEquals("b".into()).to_string(),
            "Syntax error - can't find = in \"b\". Must be of the form: name=value"
        );
    }

    #[test]
    fn pairs_then_expand_values() {
        let lookup = env(&[("HOME", "/root")]);
        let pairs = split_key_values("P=$HOME/bin Q=\"a $HOME\" R='$HOME'", '\\').unwrap();
        let values: Vec<String> = pairs.iter().map(|p| expand_word(&p.value, '\\', &lookup).unwrap()).collect();
        assert_eq!(values, ["/root/bin", "a /root", "$HOME"]);
    }
}
