//! Turns Dockerfile text into global ARGs and stages of typed instructions, following
//! Docker's parser: directives, comments, line continuations, heredocs, flags, exec vs
//! shell form and the per-instruction argument rules with Docker's error messages.
//!
//! Arguments are kept raw (unexpanded, quotes intact) where Docker expands them at
//! build time, so that the builder can expand them with [`crate::expand`] against the
//! environment in effect at each instruction.

use thiserror::Error;

use crate::duration::parse_duration;
use crate::expand::{is_blank, split_first_blank_run, split_key_values, split_words_raw, words_keep_unset};
use crate::expand::{KeyValue, PairsError};
use crate::json::{parse_string_array, JsonArgs};

mod instruction;

use instruction::parse_instruction;

/// Why a Dockerfile was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// Only comments, blank lines or directives.
    #[error("file with no instructions")]
    NoInstructions,
    /// Global ARGs but no FROM.
    #[error("dockerfile contains no stages to build")]
    NoStages,
    /// An error tied to the instruction starting at `line` (1-based).
    #[error("Dockerfile parse error line {line}: {message}")]
    Line { line: usize, message: String },
}

impl ParseError {
    /// The 1-based line of the offending instruction, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::Line { line, .. } => Some(*line),
            _ => None,
        }
    }

    fn at(line: usize, message: impl Into<String>) -> Self {
        ParseError::Line { line, message: message.into() }
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The escape character: `\` unless changed by `# escape=`.
    pub escape: char,
    /// The `# syntax=` directive, if any. The classic builder ignores it.
    pub syntax: Option<String>,
    /// ARG instructions before the first FROM; only they may be used in FROM lines.
    pub global_args: Vec<Instruction>,
    pub stages: Vec<Stage>,
    /// Non-fatal remarks (empty continuation lines), for the build output.
    pub warnings: Vec<String>,
}

impl Dockerfile {
    /// Every instruction in the order the classic builder prints `Step N/M : ...`:
    /// global ARGs, then for each stage its FROM followed by its instructions.
    pub fn steps(&self) -> impl Iterator<Item = &Instruction> + '_ {
        let stages = self.stages.iter().flat_map(|stage| std::iter::once(&stage.from).chain(&stage.instructions));
        self.global_args.iter().chain(stages)
    }

    /// The `M` of `Step N/M`.
    pub fn step_count(&self) -> usize {
        self.global_args.len() + self.stages.iter().map(|s| 1 + s.instructions.len()).sum::<usize>()
    }

    /// Index of the stage called `name` (case-insensitive, as names are lowercased) or,
    /// for a number, of that stage index. `None` means `name` refers to an image.
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        let lower = name.to_ascii_lowercase();
        if let Some(index) = self.stages.iter().position(|s| s.name.as_deref() == Some(lower.as_str())) {
            return Some(index);
        }
        name.parse::<usize>().ok().filter(|i| *i < self.stages.len())
    }
}

/// One build stage: a FROM and the instructions up to the next FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// `AS name`, lowercased as Docker does.
    pub name: Option<String>,
    /// The base image (or earlier stage) as written, before ARG expansion.
    pub base: String,
    /// `--platform=` as written, before ARG expansion.
    pub platform: Option<String>,
    /// Line of the FROM.
    pub line: usize,
    /// The FROM instruction itself, which is also a build step.
    pub from: Instruction,
    pub instructions: Vec<Instruction>,
}

/// One instruction with its position and the text Docker prints for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line where the instruction starts.
    pub line: usize,
    /// The logical line (continuations joined, comment lines dropped) trimmed, as the
    /// classic builder prints it in `Step N/M : <original>`. Heredoc bodies excluded.
    pub original: String,
    /// `--name[=value]` flags before the arguments, quotes removed, in order.
    pub flags: Vec<Flag>,
    /// Heredocs introduced on the line, in order, with their bodies.
    pub heredocs: Vec<Heredoc>,
    pub kind: InstructionKind,
}

impl Instruction {
    /// The instruction keyword in upper case, e.g. `RUN`.
    pub fn keyword(&self) -> &'static str {
        self.kind.keyword()
    }

    /// The last flag called `name`.
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == name)
    }

    /// The value of flag `name`; `None` if absent or given without `=`.
    pub fn flag_value(&self, name: &str) -> Option<&str> {
        self.flag(name).and_then(|f| f.value.as_deref())
    }

    /// Every value of a repeatable flag such as `--mount` or `--exclude`.
    pub fn flag_values(&self, name: &str) -> Vec<&str> {
        self.flags.iter().filter(|f| f.name == name).filter_map(|f| f.value.as_deref()).collect()
    }

    /// A boolean flag such as `--link`: present without value, or `=true`.
    pub fn flag_bool(&self, name: &str) -> bool {
        match self.flag(name) {
            None => false,
            Some(Flag { value: None, .. }) => true,
            Some(Flag { value: Some(v), .. }) => v.eq_ignore_ascii_case("true"),
        }
    }

    /// `COPY --from=` (stage name, index or image), unexpanded.
    pub fn copy_from(&self) -> Option<&str> {
        self.flag_value("from")
    }

    /// `COPY/ADD --chown=`, unexpanded.
    pub fn chown(&self) -> Option<&str> {
        self.flag_value("chown")
    }

    /// `COPY/ADD --chmod=`, unexpanded.
    pub fn chmod(&self) -> Option<&str> {
        self.flag_value("chmod")
    }
}

/// A `--name` or `--name=value` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
}

/// A here-document (`<<EOF ... EOF`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter with quotes removed.
    pub name: String,
    /// The content, each line ending with `\n`; leading tabs already removed when
    /// `strip_tabs` is set.
    pub body: String,
    /// False when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`): no expansion.
    pub expand: bool,
    /// `<<-EOF`: leading tabs were stripped from the body and the terminator.
    pub strip_tabs: bool,
}

/// Exec form (`["a", "b"]`) or shell form (text run by the stage's SHELL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Exec(Vec<String>),
    /// The text as written; empty when the instruction had no arguments.
    Shell(String),
}

impl Command {
    pub fn is_empty(&self) -> bool {
        match self {
            Command::Exec(args) => args.is_empty(),
            Command::Shell(text) => text.is_empty(),
        }
    }
}

/// An ARG declaration: `name` or `name=default`, both raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: String,
    pub default: Option<String>,
}

/// Arguments of COPY and ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyArgs {
    pub sources: Vec<CopySource>,
    /// Destination, unexpanded.
    pub dest: String,
    /// Written in JSON form; paths are still expanded by Docker.
    pub json: bool,
}

/// A COPY/ADD source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopySource {
    /// A path, URL or pattern, unexpanded. Shell form splits on whitespace only, so
    /// quotes here are literal until expanded; paths with spaces need JSON form.
    Path(String),
    /// An inline file (`COPY <<EOF /dest`); its name is the file name.
    Heredoc(Heredoc),
}

/// HEALTHCHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable any inherited check.
    None,
    Cmd(HealthcheckCmd),
}

/// `HEALTHCHECK [options] CMD ...`. Durations are nanoseconds; `None` means "inherit",
/// which is also what Docker makes of an explicit zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthcheckCmd {
    /// Exec form becomes Docker's `["CMD", ...]`, shell form `["CMD-SHELL", text]`.
    pub test: Command,
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub start_period: Option<i64>,
    pub start_interval: Option<i64>,
    pub retries: Option<u32>,
}

/// ONBUILD: a trigger stored in the image for builds that use it as a base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onbuild {
    /// The text Docker stores in the image config (`ONBUILD ` removed, heredoc bodies
    /// appended).
    pub expression: String,
    /// The trigger, parsed to reject invalid ones now.
    pub trigger: Box<Instruction>,
}

/// What an instruction does. Strings are raw (unexpanded) unless stated otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstructionKind {
    From {
        base: String,
        name: Option<String>,
        platform: Option<String>,
    },
    /// RUN; for heredocs (`RUN <<EOF`, `RUN python3 <<EOF`) the command is the text as
    /// written and the bodies are in [`Instruction::heredocs`].
    Run(Command),
    Cmd(Command),
    Entrypoint(Command),
    Env(Vec<KeyValue>),
    Arg(Vec<ArgDecl>),
    Label(Vec<KeyValue>),
    Expose(Vec<String>),
    Workdir(String),
    User(String),
    Volume(Vec<String>),
    Copy(CopyArgs),
    Add(CopyArgs),
    Healthcheck(Healthcheck),
    Shell(Vec<String>),
    Stopsignal(String),
    Onbuild(Onbuild),
    Maintainer(String),
}

impl InstructionKind {
    pub fn keyword(&self) -> &'static str {
        match self {
            InstructionKind::From { .. } => "FROM",
            InstructionKind::Run(_) => "RUN",
            InstructionKind::Cmd(_) => "CMD",
            InstructionKind::Entrypoint(_) => "ENTRYPOINT",
            InstructionKind::Env(_) => "ENV",
            InstructionKind::Arg(_) => "ARG",
            InstructionKind::Label(_) => "LABEL",
            InstructionKind::Expose(_) => "EXPOSE",
            InstructionKind::Workdir(_) => "WORKDIR",
            InstructionKind::User(_) => "USER",
            InstructionKind::Volume(_) => "VOLUME",
            InstructionKind::Copy(_) => "COPY",
            InstructionKind::Add(_) => "ADD",
            InstructionKind::Healthcheck(_) => "HEALTHCHECK",
            InstructionKind::Shell(_) => "SHELL",
            InstructionKind::Stopsignal(_) => "STOPSIGNAL",
            InstructionKind::Onbuild(_) => "ONBUILD",
            InstructionKind::Maintainer(_) => "MAINTAINER",
        }
    }
}

const NOT_STRINGS: &str = "when using JSON array syntax, arrays must be comprised of strings only";

/// Parses a Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Lines { lines: text.lines().collect(), next: 0 };
    let mut escape = '\\';
    let mut syntax = None;
    let mut directives_done = false;
    let mut seen_directives: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    let mut instructions = Vec::new();

    while let Some((start, raw)) = reader.next_line() {
        let token = raw.trim_start();
        // Directives are only recognised before anything else, even a blank line.
        if !directives_done {
            match parse_directive(token) {
                Some((name, value)) if matches!(name.as_str(), "escape" | "syntax" | "check") => {
                    if seen_directives.contains(&name) {
                        return Err(ParseError::at(start, format!("only one {name} parser directive can be used")));
                    }
                    match name.as_str() {
                        "escape" => escape = parse_escape(&value).map_err(|m| ParseError::at(start, m))?,
                        "syntax" => syntax = Some(value),
                        _ => {}
                    }
                    seen_directives.push(name);
                    continue;
                }
                _ => directives_done = true,
            }
        }
        let token = if token.starts_with('#') { "" } else { token };
        let (first, mut complete) = trim_continuation(token, escape);
        if complete && first.is_empty() {
            continue;
        }
        let mut line = first.to_string();
        let mut empty_continuation = false;
        while !complete {
            let Some((_, raw)) = reader.next_line() else { break };
            // Comment lines inside a continuation are dropped; continuation lines keep
            // their leading whitespace, as in Docker.
            if is_comment(raw) {
                continue;
            }
            if raw.trim().is_empty() {
                empty_continuation = true;
                continue;
            }
            let (part, done) = trim_continuation(raw, escape);
            line.push_str(part);
            complete = done;
        }
        if empty_continuation {
            warnings.push(format!("Empty continuation line found in: {}", line.trim()));
        }

        let mut instruction = parse_instruction(&line, start, escape).map_err(|m| ParseError::at(start, m))?;
        for heredoc in &mut instruction.heredocs {
            heredoc.body = reader
                .heredoc_body(&heredoc.name, heredoc.strip_tabs)
                .ok_or_else(|| ParseError::at(start, "unterminated heredoc"))?;
        }
        instruction.attach_heredoc_bodies();
        instructions.push(instruction);
    }

    if instructions.is_empty() {
        return Err(ParseError::NoInstructions);
    }
    let mut global_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for instruction in instructions {
        if let InstructionKind::From { base, name, platform } = &instruction.kind {
            if let Some(name) = name {
                if stages.iter().any(|s| s.name.as_ref() == Some(name)) {
                    return Err(ParseError::at(instruction.line, format!("{name} stage name already used")));
                }
            }
            stages.push(Stage {
                name: name.clone(),
                base: base.clone(),
                platform: platform.clone(),
                line: instruction.line,
                from: instruction,
                instructions: Vec::new(),
            });
            continue;
        }
        match stages.last_mut() {
            Some(stage) => stage.instructions.push(instruction),
            None if matches!(instruction.kind, InstructionKind::Arg(_)) => global_args.push(instruction),
            None => return Err(ParseError::at(instruction.line, "no build stage in current context")),
        }
    }
    if stages.is_empty() {
        return Err(ParseError::NoStages);
    }
    Ok(Dockerfile { escape, syntax, global_args, stages, warnings })
}

/// Physical lines with 1-based numbers. `str::lines` also drops the `\r` of CRLF.
struct Lines<'a> {
    lines: Vec<&'a str>,
    next: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        let line = *self.lines.get(self.next)?;
        self.next += 1;
        Some((self.next, line))
    }

    /// Reads up to the terminator line; `None` if the input ends first.
    fn heredoc_body(&mut self, name: &str, strip_tabs: bool) -> Option<String> {
        let mut body = String::new();
        while let Some((_, raw)) = self.next_line() {
            let line = if strip_tabs { raw.trim_start_matches('\t') } else { raw };
            if line == name {
                return Some(body);
            }
            body.push_str(line);
            body.push('\n');
        }
        None
    }
}

/// `# name = value` with a directive-shaped name; the caller decides if it is known.
fn parse_directive(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let name_len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
    let name = &rest[..name_len];
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[name_len..].trim_start().strip_prefix('=')?.trim();
    if value.is_empty() {
        return None;
    }
    Some((name.to_ascii_lowercase(), value.to_string()))
}

fn parse_escape(value: &str) -> Result<char, String> {
    match value {
        "\\" => Ok('\\'),
        "`" => Ok('`'),
        _ => Err(format!("invalid escape token '{value}' does not match ` or \\")),
    }
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Removes a trailing escape char (plus trailing blanks after it). The bool is true when
/// the line does not continue.
fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    match line.trim_end_matches([' ', '\t']).strip_suffix(escape) {
        Some(rest) => (rest, false),
        None => (line, true),
    }
}

#[cfg(test)]
mod tests;
