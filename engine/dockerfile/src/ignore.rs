//! `.dockerignore` matching with Docker's semantics.
//!
//! Patterns are cleaned like Go's `filepath.Clean` with any leading `/` dropped; `*`,
//! `?` and `[...]` never cross a `/`; `**` spans any number of directories; `!pattern`
//! re-includes; the last matching pattern wins; and a pattern matching a parent
//! directory matches everything below it. The glob matcher is our own: it is small, and
//! Docker's `**` rules differ from what common glob crates implement.

use thiserror::Error;

/// A `.dockerignore` line that Docker would refuse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(".dockerignore line {line}: {message}")]
pub struct IgnoreError {
    pub line: usize,
    pub message: String,
}

/// Parsed `.dockerignore` patterns, in file order.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    /// Cleaned text without the leading `!`.
    text: String,
    exception: bool,
    matcher: Matcher,
    /// Per `/`-separated segment; `None` where the segment holds `**` (or could not be
    /// compiled alone), i.e. it may match any depth.
    segments: Vec<Option<Vec<Token>>>,
}

#[derive(Debug, Clone)]
enum Matcher {
    Glob(Vec<Token>),
    /// Docker matches a pattern that starts with `**` and has no other wildcard by
    /// plain suffix, so `**foo` also matches `xfoo`.
    Suffix(String),
}

#[derive(Debug, Clone)]
enum Token {
    Literal(char),
    /// `?`: one character other than `/`.
    One,
    /// `*`: any run of characters other than `/`.
    Star,
    /// `**` followed by more pattern: nothing, or anything ending in `/`.
    AnyDirs,
    /// `**` at the end: anything at all.
    AnyAll,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

const BAD_PATTERN: &str = "syntax error in pattern";

impl DockerIgnore {
    /// Parses `.dockerignore` text. Like Docker, only a `#` in the very first column
    /// starts a comment, and surrounding whitespace is trimmed from patterns.
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut patterns = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let error = |message: &str| IgnoreError { line: index + 1, message: message.to_string() };
            if line.starts_with('#') {
                continue;
            }
            let mut pattern = line.trim();
            if pattern.is_empty() {
                continue;
            }
            let exception = pattern.starts_with('!');
            if exception {
                pattern = pattern[1..].trim();
                if pattern.is_empty() {
                    return Err(error("illegal exclusion pattern: \"!\""));
                }
            }
            let mut text = clean(pattern);
            if text.len() > 1 && text.starts_with('/') {
                text.remove(0);
            }
            let tokens = compile(&text).ok_or_else(|| error(BAD_PATTERN))?;
            let matcher = match text.strip_prefix("**") {
                Some(suffix) if !suffix.contains(['*', '?', '[', ']']) => Matcher::Suffix(suffix.to_string()),
                _ => Matcher::Glob(tokens),
            };
            let segments =
                text.split('/').map(|segment| if segment.contains("**") { None } else { compile(segment) }).collect();
            patterns.push(Pattern { text, exception, matcher, segments });
        }
        Ok(DockerIgnore { patterns })
    }

    /// True when there are no patterns at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// True when some pattern is an exception (`!pattern`).
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }

    /// The cleaned patterns, exceptions prefixed with `!`, in file order.
    pub fn patterns(&self) -> impl Iterator<Item = String> + '_ {
        self.patterns.iter().map(|p| if p.exception { format!("!{}", p.text) } else { p.text.clone() })
    }

    /// Whether `rel_path` (relative to the context root, `/`-separated) is left out of
    /// the build context. Docker's patterns cannot target directories only (a trailing
    /// `/` is cleaned away), so `is_dir` does not change the answer; it is taken so that
    /// callers walking a tree need not care.
    pub fn is_excluded(&self, rel_path: &str, is_dir: bool) -> bool {
        let _ = is_dir;
        let path = normalize(rel_path);
        if path == "." || path.is_empty() {
            return false;
        }
        let parents: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
        let mut excluded = false;
        for pattern in &self.patterns {
            // An exclusion cannot change an excluded path, nor an exception an included one.
            if pattern.exception != excluded {
                continue;
            }
            if pattern.matches(&path) || parents.iter().any(|parent| pattern.matches(parent)) {
                excluded = !pattern.exception;
            }
        }
        excluded
    }

    /// Whether a walker must descend into directory `rel_dir`: either it is not
    /// excluded, or it is but an exception pattern could re-include something below it
    /// (e.g. `node_modules` then `!node_modules/keep`). Entries found below must still be
    /// checked with [`DockerIgnore::is_excluded`].
    pub fn must_walk(&self, rel_dir: &str) -> bool {
        if !self.is_excluded(rel_dir, true) {
            return true;
        }
        let dir = normalize(rel_dir);
        let dir_segments: Vec<&str> = dir.split('/').collect();
        self.patterns.iter().any(|p| p.exception && p.could_match_below(&dir_segments))
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Glob(tokens) => glob_match(tokens, path),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str()) || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
        }
    }

    /// Whether this pattern could match some path strictly inside `dir`.
    fn could_match_below(&self, dir: &[&str]) -> bool {
        for (index, name) in dir.iter().enumerate() {
            match self.segments.get(index) {
                None => return false,
                Some(None) => return true,
                Some(Some(tokens)) if !glob_match(tokens, name) => return false,
                Some(Some(_)) => {}
            }
        }
        self.segments.len() > dir.len()
    }
}

/// Cleans a relative path the way patterns are cleaned, without a leading `/`.
fn normalize(path: &str) -> String {
    let cleaned = clean(path);
    match cleaned.strip_prefix('/') {
        Some("") => ".".to_string(),
        Some(rest) => rest.to_string(),
        None => cleaned,
    }
}

/// Go's `filepath.Clean` for `/`-separated paths.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Compiles a pattern; `None` when Go's `filepath.Match` would report a bad pattern.
fn compile(pattern: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                // `**/` behaves as `**`.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                tokens.push(if i == chars.len() { Token::AnyAll } else { Token::AnyDirs });
                continue;
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::One),
            '\\' => {
                i += 1;
                tokens.push(Token::Literal(*chars.get(i)?));
            }
            '[' => {
                i += 1;
                let negated = chars.get(i) == Some(&'^');
                if negated {
                    i += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    if chars.get(i) == Some(&']') && !ranges.is_empty() {
                        break;
                    }
                    let low = class_char(&chars, &mut i)?;
                    let high = if chars.get(i) == Some(&'-') {
                        i += 1;
                        class_char(&chars, &mut i)?
                    } else {
                        low
                    };
                    if high < low {
                        return None;
                    }
                    ranges.push((low, high));
                }
                tokens.push(Token::Class { negated, ranges });
            }
            c => tokens.push(Token::Literal(c)),
        }
        i += 1;
    }
    Some(tokens)
}

/// One (possibly escaped) character of a `[...]` class; `-` and `]` must be escaped.
fn class_char(chars: &[char], i: &mut usize) -> Option<char> {
    let mut c = *chars.get(*i)?;
    if c == '-' || c == ']' {
        return None;
    }
    if c == '\\' {
        *i += 1;
        c = *chars.get(*i)?;
    }
    *i += 1;
    Some(c)
}

/// Dynamic programming over (token, position) so that patterns full of stars stay
/// linear in practice instead of backtracking.
fn glob_match(tokens: &[Token], path: &str) -> bool {
    let text: Vec<char> = path.chars().collect();
    let len = text.len();
    // `next[j]`: the tokens after the current one match `text[j..]`.
    let mut next = vec![false; len + 1];
    next[len] = true;
    for token in tokens.iter().rev() {
        let mut current = vec![false; len + 1];
        match token {
            Token::Star => {
                for j in (0..=len).rev() {
                    current[j] = next[j] || (j < len && text[j] != '/' && current[j + 1]);
                }
            }
            Token::AnyAll => {
                for j in (0..=len).rev() {
                    current[j] = next[j] || (j < len && current[j + 1]);
                }
            }
            Token::AnyDirs => {
                let mut through_slash = false;
                for j in (0..=len).rev() {
                    through_slash |= j < len && text[j] == '/' && next[j + 1];
                    current[j] = next[j] || through_slash;
                }
            }
            single => {
                for j in 0..len {
                    current[j] = next[j + 1] && char_matches(single, text[j]);
                }
            }
        }
        next = current;
    }
    next[0]
}

fn char_matches(token: &Token, c: char) -> bool {
    match token {
        Token::Literal(l) => *l == c,
        Token::One => c != '/',
        Token::Class { negated, ranges } => c != '/' && ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated,
        Token::Star | Token::AnyDirs | Token::AnyAll => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text).unwrap()
    }

    fn excluded(text: &str, path: &str) -> bool {
        ignore(text).is_excluded(path, false)
    }

    #[test]
    fn clean_like_go() {
        assert_eq!(clean("a/../b"), "b");
        assert_eq!(clean("./a//b/"), "a/b");
        assert_eq!(clean("/abs/./x"), "/abs/x");
        assert_eq!(clean("/.."), "/");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean("a/.."), ".");
        assert_eq!(clean(""), ".");
    }

    #[test]
    fn comments_blank_lines_and_cleaning() {
        let ig = ignore("# comment\n\n  \n/abs\na/../b\n ./c/ \n  # not a comment\n!/d/./e\n");
        assert_eq!(ig.patterns().collect::<Vec<_>>(), ["abs", "b", "c", "# not a comment", "!d/e"]);
        assert!(ig.is_excluded("abs", false));
        assert!(ig.is_excluded("abs/inner", false));
        assert!(ig.is_excluded("b", false));
        assert!(!ig.is_excluded("a", true));
        assert!(ig.is_excluded("c/file", false));
        assert!(ig.is_excluded("# not a comment", false));
        assert!(!ig.is_excluded("comment", false));
    }

    #[test]
    fn star_and_question_mark_do_not_cross_slash() {
        assert!(excluded("*.log", "a.log"));
        assert!(!excluded("*.log", "dir/a.log"));
        assert!(excluded("*/*.log", "dir/a.log"));
        assert!(excluded("file?.txt", "file1.txt"));
        assert!(!excluded("file?.txt", "file10.txt"));
        assert!(!excluded("a?b", "a/b"));
        // A wildcard segment matching a parent directory excludes its contents.
        assert!(excluded("*", "dir/deep/file"));
    }

    #[test]
    fn double_star() {
        let ig = ignore("**/*.log");
        assert!(ig.is_excluded("a.log", false));
        assert!(ig.is_excluded("x/y/z.log", false));
        assert!(!ig.is_excluded("x/y/z.txt", false));
        assert!(excluded("a/**/b", "a/b"));
        assert!(excluded("a/**/b", "a/x/y/b"));
        assert!(!excluded("a/**/b", "a/x/y/c"));
        assert!(excluded("a/**", "a/x/y"));
        assert!(!excluded("a/**", "ab"));
        assert!(excluded("**", "anything/at/all"));
        assert!(excluded("**/node_modules", "node_modules"));
        assert!(excluded("**/node_modules", "pkg/node_modules/x.js"));
        // Docker matches `**name` by plain suffix.
        assert!(excluded("**foo", "dir/xfoo"));
    }

    #[test]
    fn character_classes() {
        assert!(excluded("file[0-9].txt", "file7.txt"));
        assert!(!excluded("file[0-9].txt", "filex.txt"));
        assert!(excluded("file[^0-9].txt", "filex.txt"));
        assert!(!excluded("file[^0-9].txt", "file7.txt"));
        assert!(!excluded("a[^x]b", "a/b"));
        assert!(excluded("[\\]]", "]"));
        assert!(excluded("lit\\*", "lit*"));
        assert!(!excluded("lit\\*", "litx"));
    }

    #[test]
    fn regex_metacharacters_are_literal() {
        assert!(excluded("a.b", "a.b"));
        assert!(!excluded("a.b", "axb"));
        assert!(excluded("(x)+{y}$", "(x)+{y}$"));
    }

    #[test]
    fn exceptions_and_last_match_wins() {
        let ig = ignore("*.log\n!keep.log");
        assert!(ig.is_excluded("a.log", false));
        assert!(!ig.is_excluded("keep.log", false));
        let ig = ignore("!keep.log\n*.log");
        assert!(ig.is_excluded("keep.log", false));
        let ig = ignore("*\n!src\nsrc/*.tmp");
        assert!(ig.is_excluded("README", false));
        assert!(!ig.is_excluded("src/main.rs", false));
        assert!(ig.is_excluded("src/x.tmp", false));
        assert!(ig.has_exceptions());
    }

    #[test]
    fn parent_directory_excludes_children() {
        let ig = ignore("node_modules\ndir");
        assert!(ig.is_excluded("node_modules", true));
        assert!(ig.is_excluded("node_modules/a/b", false));
        assert!(ig.is_excluded("dir/x/y", false));
        assert!(!ig.is_excluded("dirx/y", false));
        assert!(!ig.is_excluded("src/node_modules", true));
        assert!(ig.is_excluded("./dir/x", false));
        assert!(ig.is_excluded("/dir/x", false));
        assert!(!ig.is_excluded(".", true));
        assert!(!ig.is_excluded("", true));
    }

    #[test]
    fn walking_excluded_directories() {
        let ig = ignore("node_modules\n!node_modules/keep/me.txt\nbuild\n");
        assert!(ig.must_walk("src"));
        assert!(ig.must_walk("node_modules"));
        assert!(ig.must_walk("node_modules/keep"));
        assert!(!ig.must_walk("node_modules/other"));
        assert!(!ig.must_walk("build"));
        assert!(!ig.is_excluded("node_modules/keep/me.txt", false));
        assert!(ig.is_excluded("node_modules/keep/other.txt", false));

        let ig = ignore("vendor\n!vendor/*/LICENSE\n!**/important");
        assert!(ig.must_walk("vendor"));
        assert!(ig.must_walk("vendor/lib"));
        assert!(!ig.is_excluded("vendor/lib/LICENSE", false));
        assert!(!ig.is_excluded("vendor/a/b/important", false));

        let ig = ignore("tmp");
        assert!(!ig.must_walk("tmp"));
        assert!(!ig.has_exceptions());
    }

    #[test]
    fn invalid_patterns() {
        assert_eq!(
            DockerIgnore::parse("ok\n!\n").unwrap_err(),
            IgnoreError { line: 2, message: "illegal exclusion pattern: \"!\"".into() }
        );
        assert_eq!(DockerIgnore::parse("a[").unwrap_err().message, BAD_PATTERN);
        assert_eq!(DockerIgnore::parse("a[]").unwrap_err().line, 1);
        assert!(DockerIgnore::parse("x\\").is_err());
        assert!(DockerIgnore::parse("[z-a]").is_err());
        assert!(DockerIgnore::parse("[-]").is_err());
    }

    #[test]
    fn empty_and_crlf() {
        let ig = ignore("");
        assert!(ig.is_empty());
        assert!(!ig.is_excluded("a", false));
        let ig = ignore("\u{feff}a\r\nb\r\n");
        assert!(ig.is_excluded("a", false));
        assert!(ig.is_excluded("b", false));
    }
}
