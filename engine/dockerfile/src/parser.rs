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

/// Splits a logical line into keyword, raw flags and the remaining arguments.
fn split_command(line: &str) -> (&str, Vec<String>, String) {
    let line = line.trim();
    match split_first_blank_run(line) {
        Some((keyword, rest)) => {
            let (rest, flags) = extract_flags(rest);
            (keyword, flags, rest.trim().to_string())
        }
        None => (line, Vec::new(), String::new()),
    }
}

/// Takes the leading `--flag` words off `text`. Like Docker this happens for every
/// instruction (so `CMD --help` is a flag error) and uses `\` as the escape char
/// whatever the escape directive says; a bare `--` ends the flags.
fn extract_flags(text: &str) -> (&str, Vec<String>) {
    let mut flags = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if !rest.starts_with("--") {
            return (rest, flags);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut chars = rest.char_indices();
        let mut end = rest.len();
        while let Some((index, c)) = chars.next() {
            match quote {
                Some(q) if c == q => quote = None,
                None if c.is_whitespace() => {
                    end = index;
                    break;
                }
                None if c == '\'' || c == '"' => quote = Some(c),
                _ if c == '\\' => {
                    if let Some((_, next)) = chars.next() {
                        word.push(next);
                    }
                }
                _ => word.push(c),
            }
        }
        rest = &rest[end..];
        if word == "--" {
            return (rest, flags);
        }
        flags.push(word);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FlagType {
    Str,
    Bool,
    List,
}

enum FlagSpec {
    /// RUN: any flag, kept for the builder to accept or refuse.
    Any,
    Only(&'static [(&'static str, FlagType)]),
}

/// Known instructions and the flags each accepts; `None` for an unknown instruction.
fn flag_spec(keyword: &str) -> Option<FlagSpec> {
    use FlagType::*;
    Some(match keyword {
        "run" => FlagSpec::Any,
        "from" => FlagSpec::Only(&[("platform", Str)]),
        "copy" => FlagSpec::Only(&[
            ("from", Str),
            ("chown", Str),
            ("chmod", Str),
            ("link", Bool),
            ("parents", Bool),
            ("exclude", List),
        ]),
        "add" => FlagSpec::Only(&[
            ("chown", Str),
            ("chmod", Str),
            ("link", Bool),
            ("keep-git-dir", Bool),
            ("checksum", Str),
            ("unpack", Bool),
            ("exclude", List),
        ]),
        "healthcheck" => FlagSpec::Only(&[
            ("interval", Str),
            ("timeout", Str),
            ("start-period", Str),
            ("start-interval", Str),
            ("retries", Str),
        ]),
        "cmd" | "entrypoint" | "env" | "arg" | "label" | "expose" | "workdir" | "user" | "volume" | "shell"
        | "stopsignal" | "onbuild" | "maintainer" => FlagSpec::Only(&[]),
        _ => return None,
    })
}

fn parse_flags(raw: &[String], spec: &FlagSpec) -> Result<Vec<Flag>, String> {
    let mut flags: Vec<Flag> = Vec::new();
    for arg in raw {
        let body = arg.strip_prefix("--").unwrap_or(arg);
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        if let FlagSpec::Only(known) = spec {
            let Some(&(_, kind)) = known.iter().find(|(n, _)| *n == name) else {
                return Err(format!("unknown flag: {name}"));
            };
            if kind != FlagType::List && flags.iter().any(|f| f.name == name) {
                return Err(format!("duplicate flag specified: {name}"));
            }
            match (kind, value) {
                (FlagType::Bool, Some("")) | (FlagType::Str | FlagType::List, None) => {
                    return Err(format!("missing a value on flag: {name}"));
                }
                (FlagType::Bool, Some(v)) if !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false") => {
                    return Err(format!("expecting boolean value for flag {name}, not: {v}"));
                }
                _ => {}
            }
        }
        flags.push(Flag { name: name.to_string(), value: value.map(str::to_string) });
    }
    Ok(flags)
}

/// Parses one logical line. Heredoc bodies are read afterwards by the caller.
fn parse_instruction(line: &str, line_number: usize, escape: char) -> Result<Instruction, String> {
    let (keyword, raw_flags, rest) = split_command(line);
    let lower = keyword.to_ascii_lowercase();
    let Some(spec) = flag_spec(&lower) else { return Err(format!("unknown instruction: {keyword}")) };
    let flags = parse_flags(&raw_flags, &spec)?;
    let upper = lower.to_ascii_uppercase();
    let mut heredocs = Vec::new();
    // Heredocs are only recognised in shell-form RUN, COPY and ADD.
    let mut find_heredocs = |json: bool| {
        if !json && line.contains("<<") {
            heredocs = heredocs_in_line(line, escape);
        }
    };

    let kind = match lower.as_str() {
        "from" => {
            let args = split_blanks(&rest);
            let name = stage_name(&args)?;
            let platform = flags.iter().rev().find(|f| f.name == "platform").and_then(|f| f.value.clone());
            InstructionKind::From { base: args[0].clone(), name, platform: platform.filter(|p| !p.is_empty()) }
        }
        "run" => {
            let (command, json) = maybe_json(&rest)?;
            find_heredocs(json);
            InstructionKind::Run(command)
        }
        "cmd" => InstructionKind::Cmd(maybe_json(&rest)?.0),
        "entrypoint" => InstructionKind::Entrypoint(maybe_json(&rest)?.0),
        "shell" => match maybe_json(&rest)?.0 {
            command if command.is_empty() => return Err("SHELL requires at least one argument".into()),
            Command::Exec(args) => InstructionKind::Shell(args),
            Command::Shell(_) => return Err("SHELL requires the arguments to be in JSON form".into()),
        },
        "env" | "label" => {
            let pairs = split_key_values(&rest, escape).map_err(|e| pairs_message(e, &upper))?;
            if pairs.is_empty() {
                return Err(format!("{upper} requires at least one argument"));
            }
            if lower == "env" {
                InstructionKind::Env(pairs)
            } else {
                InstructionKind::Label(pairs)
            }
        }
        "arg" => InstructionKind::Arg(parse_arg_decls(&rest, escape)?),
        "expose" => {
            let ports = split_blanks(&rest);
            if ports.is_empty() {
                return Err("EXPOSE requires at least one argument".into());
            }
            InstructionKind::Expose(ports)
        }
        "workdir" | "user" | "stopsignal" | "maintainer" => {
            if rest.is_empty() {
                return Err(format!("{upper} requires exactly one argument"));
            }
            match lower.as_str() {
                "workdir" => InstructionKind::Workdir(rest),
                "user" => InstructionKind::User(rest),
                "stopsignal" => InstructionKind::Stopsignal(rest),
                _ => InstructionKind::Maintainer(rest),
            }
        }
        "volume" => {
            let (paths, _) = maybe_json_list(&rest)?;
            if paths.is_empty() {
                return Err("VOLUME requires at least one argument".into());
            }
            if paths.iter().any(|p| p.trim().is_empty()) {
                return Err("VOLUME specified can not be an empty string".into());
            }
            InstructionKind::Volume(paths.iter().map(|p| p.trim().to_string()).collect())
        }
        "copy" | "add" => {
            let (args, json) = maybe_json_list(&rest)?;
            let Some((dest, sources)) = args.split_last().filter(|_| args.len() >= 2) else {
                return Err(format!(
                    "{upper} requires at least two arguments, but only one was provided. \
                     Destination could not be determined"
                ));
            };
            find_heredocs(json);
            if !json && parse_heredoc_word(dest).is_some() {
                return Err(format!("{upper} cannot accept a heredoc as a destination"));
            }
            let sources = sources
                .iter()
                .map(|source| match parse_heredoc_word(source).filter(|_| !json) {
                    Some(heredoc) => CopySource::Heredoc(heredoc),
                    None => CopySource::Path(source.clone()),
                })
                .collect();
            let args = CopyArgs { sources, dest: dest.clone(), json };
            if lower == "copy" {
                InstructionKind::Copy(args)
            } else {
                InstructionKind::Add(args)
            }
        }
        "healthcheck" => InstructionKind::Healthcheck(parse_healthcheck(&rest, &flags)?),
        "onbuild" => {
            if rest.is_empty() {
                return Err("ONBUILD requires at least one argument".into());
            }
            let trigger_keyword = rest.split(is_blank).next().unwrap_or_default().to_ascii_uppercase();
            match trigger_keyword.as_str() {
                "ONBUILD" => return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into()),
                "MAINTAINER" | "FROM" => return Err(format!("{trigger_keyword} isn't allowed as an ONBUILD trigger")),
                _ => {}
            }
            let trigger = parse_instruction(&rest, line_number, escape)?;
            heredocs.clone_from(&trigger.heredocs);
            let text = line.trim_start();
            let expression = text.get("ONBUILD".len()..).unwrap_or_default().trim_start().to_string();
            InstructionKind::Onbuild(Onbuild { expression, trigger: Box::new(trigger) })
        }
        _ => return Err(format!("unknown instruction: {keyword}")),
    };
    Ok(Instruction { line: line_number, original: line.trim().to_string(), flags, heredocs, kind })
}

impl Instruction {
    /// Copies heredoc bodies read after the line into the places that refer to them.
    fn attach_heredoc_bodies(&mut self) {
        let heredocs = self.heredocs.clone();
        match &mut self.kind {
            InstructionKind::Copy(args) | InstructionKind::Add(args) => {
                for source in &mut args.sources {
                    if let CopySource::Heredoc(heredoc) = source {
                        // Docker looks bodies up by name; the last one of a name wins.
                        if let Some(found) = heredocs.iter().rev().find(|h| h.name == heredoc.name) {
                            heredoc.body.clone_from(&found.body);
                        }
                    }
                }
            }
            InstructionKind::Onbuild(onbuild) => {
                onbuild.trigger.heredocs.clone_from(&heredocs);
                onbuild.trigger.attach_heredoc_bodies();
                for heredoc in &heredocs {
                    onbuild.expression.push('\n');
                    onbuild.expression.push_str(&heredoc.body);
                    onbuild.expression.push_str(&heredoc.name);
                }
            }
            _ => {}
        }
    }
}

/// Docker's whitespace split, used for FROM, EXPOSE and the shell form of COPY, ADD and
/// VOLUME: quotes are not special here.
fn split_blanks(text: &str) -> Vec<String> {
    text.split(is_blank).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Exec form if `text` is a JSON string array, shell form if it is not JSON at all.
fn maybe_json(text: &str) -> Result<(Command, bool), String> {
    if text.is_empty() {
        return Ok((Command::Shell(String::new()), false));
    }
    match parse_string_array(text) {
        JsonArgs::Strings(args) => Ok((Command::Exec(args), true)),
        JsonArgs::NotStrings => Err(NOT_STRINGS.into()),
        JsonArgs::NotJson => Ok((Command::Shell(text.to_string()), false)),
    }
}

/// Like [`maybe_json`], but the shell form is split on whitespace.
fn maybe_json_list(text: &str) -> Result<(Vec<String>, bool), String> {
    match parse_string_array(text) {
        JsonArgs::Strings(args) => Ok((args, true)),
        JsonArgs::NotStrings => Err(NOT_STRINGS.into()),
        JsonArgs::NotJson => Ok((split_blanks(text), false)),
    }
}

fn stage_name(args: &[String]) -> Result<Option<String>, String> {
    match args {
        [_] => Ok(None),
        [_, as_word, name] if as_word.eq_ignore_ascii_case("as") => {
            let lower = name.to_ascii_lowercase();
            let valid = lower.starts_with(|c: char| c.is_ascii_lowercase())
                && lower.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
            if !valid {
                return Err(format!(
                    "invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
                ));
            }
            Ok(Some(lower))
        }
        _ => Err("FROM requires either one or three arguments".into()),
    }
}

fn pairs_message(error: PairsError, keyword: &str) -> String {
    match error {
        PairsError::MissingValue => format!("{keyword} must have two arguments"),
        PairsError::BlankName => format!("{keyword} names can not be blank"),
        other => other.to_string(),
    }
}

fn parse_arg_decls(text: &str, escape: char) -> Result<Vec<ArgDecl>, String> {
    let words = split_words_raw(text, escape);
    if words.is_empty() {
        return Err("ARG requires at least one argument".into());
    }
    words
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some(("", _)) => Err("ARG names can not be blank".to_string()),
            Some((name, default)) => Ok(ArgDecl { name: name.to_string(), default: Some(default.to_string()) }),
            None => Ok(ArgDecl { name: word, default: None }),
        })
        .collect()
}

/// Heredoc words on a line, in order. Like Docker, the whole line is tokenised with
/// quotes respected, so `"<<EOF"` (quoted) and `a<<EOF` (glued) are not heredocs.
fn heredocs_in_line(line: &str, escape: char) -> Vec<Heredoc> {
    split_words_raw(line, escape).iter().filter_map(|word| parse_heredoc_word(word)).collect()
}

/// `[n]<<[-]NAME`, where NAME may be quoted (which disables expansion of the body).
fn parse_heredoc_word(word: &str) -> Option<Heredoc> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit()).strip_prefix("<<")?;
    let (strip_tabs, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let mut names = words_keep_unset(rest).ok()?;
    if names.len() != 1 {
        return None;
    }
    Some(Heredoc { name: names.remove(0), body: String::new(), expand: !has_quoting(rest), strip_tabs })
}

/// Whether a quote character acts as quoting (not escaped) somewhere in `text`.
fn has_quoting(text: &str) -> bool {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '\'' | '"' => return true,
            _ => {}
        }
    }
    false
}

fn parse_healthcheck(text: &str, flags: &[Flag]) -> Result<Healthcheck, String> {
    if text.is_empty() {
        return Err("HEALTHCHECK requires at least one argument".into());
    }
    let (kind, args) = match text.find(char::is_whitespace) {
        Some(at) => (&text[..at], text[at..].trim_start()),
        None => (text, ""),
    };
    let kind = kind.to_ascii_uppercase();
    if kind == "NONE" {
        if !args.is_empty() {
            return Err("HEALTHCHECK NONE takes no arguments".into());
        }
        return Ok(Healthcheck::None);
    }
    if kind != "CMD" {
        return Err(format!("Unknown type {kind:?} in HEALTHCHECK (try CMD)"));
    }
    let (test, _) = maybe_json(args)?;
    if test.is_empty() {
        return Err("Missing command after HEALTHCHECK CMD".into());
    }
    let flag = |name: &str| flags.iter().rev().find(|f| f.name == name).and_then(|f| f.value.as_deref());
    let interval = |name: &str| -> Result<Option<i64>, String> {
        let Some(text) = flag(name).filter(|v| !v.is_empty()) else { return Ok(None) };
        match parse_duration(text)? {
            0 => Ok(None),
            d if d < 1_000_000 => Err(format!("Interval {name:?} cannot be less than 1ms")),
            d => Ok(Some(d)),
        }
    };
    let retries = match flag("retries").filter(|v| !v.is_empty()) {
        None => None,
        Some(text) => {
            let retries = parse_int32(text)?;
            if retries < 0 {
                return Err(format!("--retries cannot be negative ({retries})"));
            }
            Some(retries as u32)
        }
    };
    Ok(Healthcheck::Cmd(HealthcheckCmd {
        test,
        interval: interval("interval")?,
        timeout: interval("timeout")?,
        start_period: interval("start-period")?,
        start_interval: interval("start-interval")?,
        retries,
    }))
}

/// Go's `strconv.ParseInt(text, 10, 32)` with its error messages.
fn parse_int32(text: &str) -> Result<i32, String> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.ParseInt: parsing {text:?}: invalid syntax"));
    }
    text.parse::<i32>().map_err(|_| format!("strconv.ParseInt: parsing {text:?}: value out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Dockerfile {
        match parse(text) {
            Ok(file) => file,
            Err(e) => panic!("parse failed: {e}\n{text}"),
        }
    }

    fn err(text: &str) -> String {
        parse(text).expect_err("expected a parse error").to_string()
    }

    /// The instructions of the only stage.
    fn body(text: &str) -> Vec<Instruction> {
        let mut file = ok(text);
        assert_eq!(file.stages.len(), 1);
        file.stages.remove(0).instructions
    }

    fn one(text: &str) -> Instruction {
        let mut instructions = body(&format!("FROM scratch\n{text}"));
        assert_eq!(instructions.len(), 1, "{instructions:?}");
        instructions.remove(0)
    }

    fn kind(text: &str) -> InstructionKind {
        one(text).kind
    }

    fn shell(text: &str) -> Command {
        Command::Shell(text.to_string())
    }

    fn exec(args: &[&str]) -> Command {
        Command::Exec(args.iter().map(|s| s.to_string()).collect())
    }

    fn kv(key: &str, value: &str) -> KeyValue {
        KeyValue { key: key.into(), value: value.into() }
    }

    fn paths(sources: &[&str]) -> Vec<CopySource> {
        sources.iter().map(|s| CopySource::Path(s.to_string())).collect()
    }

    #[test]
    fn minimal_file_and_steps() {
        let file = ok("FROM busybox\nRUN echo hi\nCMD [\"sh\"]\n");
        assert_eq!(file.escape, '\\');
        assert_eq!(file.syntax, None);
        assert_eq!(file.stages.len(), 1);
        let stage = &file.stages[0];
        assert_eq!((stage.base.as_str(), stage.name.as_ref(), stage.line), ("busybox", None, 1));
        assert_eq!(file.step_count(), 3);
        let steps: Vec<&str> = file.steps().map(|i| i.original.as_str()).collect();
        assert_eq!(steps, ["FROM busybox", "RUN echo hi", "CMD [\"sh\"]"]);
        let lines: Vec<usize> = file.steps().map(|i| i.line).collect();
        assert_eq!(lines, [1, 2, 3]);
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let file = ok("from alpine AS Build\nrun echo\nCopy a b\n");
        assert_eq!(file.stages[0].name.as_deref(), Some("build"));
        let keywords: Vec<&str> = file.steps().map(Instruction::keyword).collect();
        assert_eq!(keywords, ["FROM", "RUN", "COPY"]);
        assert_eq!(file.stages[0].instructions[0].original, "run echo");
    }

    #[test]
    fn directives() {
        let file = ok("# syntax=docker/dockerfile:1\n#ESCAPE = `\nFROM x\nRUN a `\n  b\n");
        assert_eq!(file.syntax.as_deref(), Some("docker/dockerfile:1"));
        assert_eq!(file.escape, '`');
        assert_eq!(file.stages[0].instructions[0].original, "RUN a   b");

        // After an instruction, a comment or a blank line, directives are comments.
        for text in ["FROM x\n# escape=`\nRUN a `\n", "# hello\n# escape=`\nFROM x\n", "\n# escape=`\nFROM x\n"] {
            assert_eq!(ok(text).escape, '\\', "{text}");
        }
        // An unknown directive ends directive processing.
        let file = ok("# foo=bar\n# escape=`\nFROM x\n");
        assert_eq!(file.escape, '\\');

        assert_eq!(
            err("# escape=\\\n# escape=`\nFROM x"),
            "Dockerfile parse error line 2: only one escape parser directive can be used"
        );
        assert_eq!(
            err("# escape=x\nFROM x"),
            "Dockerfile parse error line 1: invalid escape token 'x' does not match ` or \\"
        );
    }

    #[test]
    fn windows_style_escape() {
        let file =
            ok("# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir c:\\ `\n    && echo done\nCOPY a` b c:\\dest\\\n");
        let instructions = &file.stages[0].instructions;
        assert_eq!(instructions[0].kind, InstructionKind::Run(shell("dir c:\\     && echo done")));
        assert_eq!(instructions[1].line, 5);
        // Shell-form COPY splits on whitespace only; the escape is applied at expansion.
        let InstructionKind::Copy(copy) = &instructions[1].kind else { panic!() };
        assert_eq!(copy.sources, paths(&["a`", "b"]));
        assert_eq!(copy.dest, "c:\\dest\\");
    }

    #[test]
    fn comments_blank_lines_and_continuations() {
        let text = "\n# leading comment\n  # indented comment\nFROM x\n\nRUN apt-get update && \\\n# comment inside\n    apt-get install -y \\\n      curl \\  \n\n    wget\nRUN echo '# not a comment'\n";
        let file = ok(text);
        let run = &file.stages[0].instructions;
        assert_eq!(run[0].line, 6);
        assert_eq!(run[0].original, "RUN apt-get update &&     apt-get install -y       curl     wget");
        assert_eq!(run[1].line, 12);
        assert_eq!(run[1].kind, InstructionKind::Run(shell("echo '# not a comment'")));
        assert_eq!(file.warnings.len(), 1);
        assert!(file.warnings[0].starts_with("Empty continuation line found in: RUN apt-get"));
    }

    #[test]
    fn continuation_at_end_of_file_and_crlf() {
        let file = ok("FROM x\r\nRUN a \\\r\n  b\r\nRUN c \\");
        let run = &file.stages[0].instructions;
        assert_eq!(run[0].kind, InstructionKind::Run(shell("a   b")));
        assert_eq!(run[1].kind, InstructionKind::Run(shell("c")));
        assert_eq!(ok("\u{feff}FROM x").stages[0].base, "x");
    }

    #[test]
    fn global_args_and_stages() {
        let text = "ARG VERSION=3.19\nARG OTHER\nFROM alpine:${VERSION} AS Builder\nARG VERSION\nRUN make\nFROM --platform=$BUILDPLATFORM scratch as final\nCOPY --from=builder /out /\n";
        let file = ok(text);
        assert_eq!(file.global_args.len(), 2);
        assert_eq!(
            file.global_args[0].kind,
            InstructionKind::Arg(vec![ArgDecl { name: "VERSION".into(), default: Some("3.19".into()) }])
        );
        assert_eq!(file.stages.len(), 2);
        assert_eq!(file.stages[0].base, "alpine:${VERSION}");
        assert_eq!(file.stages[0].name.as_deref(), Some("builder"));
        assert_eq!(file.stages[0].instructions.len(), 2);
        assert_eq!(file.stages[1].platform.as_deref(), Some("$BUILDPLATFORM"));
        assert_eq!(file.stages[1].name.as_deref(), Some("final"));
        assert_eq!(file.stages[1].line, 6);
        assert_eq!(file.stages[1].from.original, "FROM --platform=$BUILDPLATFORM scratch as final");
        assert_eq!(file.step_count(), 7);
        assert_eq!(file.steps().count(), 7);
        assert_eq!(file.stage_index("BUILDER"), Some(0));
        assert_eq!(file.stage_index("1"), Some(1));
        assert_eq!(file.stage_index("2"), None);
        assert_eq!(file.stage_index("alpine"), None);
        assert_eq!(file.stages[1].instructions[0].copy_from(), Some("builder"));
    }

    #[test]
    fn from_errors() {
        assert_eq!(err("FROM"), "Dockerfile parse error line 1: FROM requires either one or three arguments");
        assert_eq!(err("FROM a b"), "Dockerfile parse error line 1: FROM requires either one or three arguments");
        assert_eq!(err("FROM a is b"), "Dockerfile parse error line 1: FROM requires either one or three arguments");
        assert_eq!(
            err("FROM a AS 1st"),
            "Dockerfile parse error line 1: invalid name for build stage: \"1st\", name can't start with a number or contain symbols"
        );
        assert!(err("FROM a AS x$y").contains("invalid name for build stage"));
        assert_eq!(err("FROM a AS x\nFROM b AS X"), "Dockerfile parse error line 2: x stage name already used");
        assert_eq!(
            err("FROM --platform linux/amd64 a"),
            "Dockerfile parse error line 1: missing a value on flag: platform"
        );
        assert_eq!(err("FROM --pull a"), "Dockerfile parse error line 1: unknown flag: pull");
    }

    #[test]
    fn structural_errors() {
        assert_eq!(parse(""), Err(ParseError::NoInstructions));
        assert_eq!(parse("# only\n\n# comments\n"), Err(ParseError::NoInstructions));
        assert_eq!(err("  \n"), "file with no instructions");
        assert_eq!(parse("ARG A=1\n"), Err(ParseError::NoStages));
        assert_eq!(err("FROM x\nRUN a\nFOO bar\n"), "Dockerfile parse error line 3: unknown instruction: FOO");
        assert_eq!(err("FROM x\n\nfoo bar\n"), "Dockerfile parse error line 3: unknown instruction: foo");
        assert_eq!(err("ARG A\nRUN echo\nFROM x"), "Dockerfile parse error line 2: no build stage in current context");
        assert_eq!(parse("ENV A=b\nFROM x").unwrap_err().line(), Some(1));
    }

    #[test]
    fn run_cmd_entrypoint_forms() {
        assert_eq!(kind("RUN echo \"a b\" && ls"), InstructionKind::Run(shell("echo \"a b\" && ls")));
        assert_eq!(
            kind("RUN [\"/bin/sh\", \"-c\", \"echo hi\"]"),
            InstructionKind::Run(exec(&["/bin/sh", "-c", "echo hi"]))
        );
        assert_eq!(kind("CMD [ \"a\" ,\"b\" ]"), InstructionKind::Cmd(exec(&["a", "b"])));
        assert_eq!(kind("CMD []"), InstructionKind::Cmd(exec(&[])));
        assert_eq!(kind("CMD"), InstructionKind::Cmd(shell("")));
        assert_eq!(kind("ENTRYPOINT exec top -b"), InstructionKind::Entrypoint(shell("exec top -b")));
        assert_eq!(kind("ENTRYPOINT [\"top\", \"-b\"]"), InstructionKind::Entrypoint(exec(&["top", "-b"])));
        // Invalid JSON falls back to shell form, as in Docker.
        assert_eq!(kind("CMD [\"a\", 'b']"), InstructionKind::Cmd(shell("[\"a\", 'b']")));
        assert_eq!(kind("RUN [ -f /x ] && echo"), InstructionKind::Run(shell("[ -f /x ] && echo")));
        assert_eq!(
            err("FROM x\nCMD [\"a\", 1]"),
            "Dockerfile parse error line 2: when using JSON array syntax, arrays must be comprised of strings only"
        );
    }

    #[test]
    fn run_flags_are_generic() {
        let run = one("RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=x --network=none --security=insecure echo hi");
        assert_eq!(run.kind, InstructionKind::Run(shell("echo hi")));
        assert_eq!(run.flag_values("mount"), ["type=cache,target=/root/.cache", "type=secret,id=x"]);
        assert_eq!(run.flag_value("network"), Some("none"));
        assert_eq!(run.flags.len(), 4);
        let run = one("RUN --weird --quoted=\"a b\" -- --not-a-flag");
        assert_eq!(
            run.flags,
            [Flag { name: "weird".into(), value: None }, Flag { name: "quoted".into(), value: Some("a b".into()) }]
        );
        assert_eq!(run.kind, InstructionKind::Run(shell("--not-a-flag")));
        // Single dash is not a flag.
        assert_eq!(kind("RUN -x"), InstructionKind::Run(shell("-x")));
    }

    #[test]
    fn flags_on_instructions_without_flags_are_refused() {
        assert_eq!(err("FROM x\nCMD --help"), "Dockerfile parse error line 2: unknown flag: help");
        assert_eq!(err("FROM x\nENV --a=b c=d"), "Dockerfile parse error line 2: unknown flag: a");
        assert_eq!(kind("CMD [\"--help\"]"), InstructionKind::Cmd(exec(&["--help"])));
    }

    #[test]
    fn env_and_label() {
        assert_eq!(kind("ENV PATH /usr/bin:$PATH"), InstructionKind::Env(vec![kv("PATH", "/usr/bin:$PATH")]));
        assert_eq!(kind("ENV A long  value"), InstructionKind::Env(vec![kv("A", "long  value")]));
        assert_eq!(
            kind("ENV A=1 B=\"two words\" C=three\\ words D="),
            InstructionKind::Env(vec![kv("A", "1"), kv("B", "\"two words\""), kv("C", "three\\ words"), kv("D", "")])
        );
        assert_eq!(
            kind("LABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0 multi=\"a \\\n  b\""),
            InstructionKind::Label(vec![
                kv("\"com.example.vendor\"", "\"ACME Inc\""),
                kv("version", "1.0"),
                kv("multi", "\"a   b\"")
            ])
        );
        assert_eq!(kind("LABEL maintainer someone"), InstructionKind::Label(vec![kv("maintainer", "someone")]));
        assert_eq!(err("FROM x\nENV"), "Dockerfile parse error line 2: ENV requires at least one argument");
        assert_eq!(err("FROM x\nENV =x"), "Dockerfile parse error line 2: ENV names can not be blank");
        assert_eq!(err("FROM x\nENV ONLY"), "Dockerfile parse error line 2: ENV must have two arguments");
        assert_eq!(err("FROM x\nLABEL"), "Dockerfile parse error line 2: LABEL requires at least one argument");
        assert_eq!(
            err("FROM x\nLABEL a=b c"),
            "Dockerfile parse error line 2: Syntax error - can't find = in \"c\". Must be of the form: name=value"
        );
    }

    #[test]
    fn arg() {
        let arg = |name: &str, default: Option<&str>| ArgDecl { name: name.into(), default: default.map(Into::into) };
        assert_eq!(kind("ARG A"), InstructionKind::Arg(vec![arg("A", None)]));
        assert_eq!(
            kind("ARG A=1 B C=\"x y\" D="),
            InstructionKind::Arg(vec![
                arg("A", Some("1")),
                arg("B", None),
                arg("C", Some("\"x y\"")),
                arg("D", Some(""))
            ])
        );
        assert_eq!(err("FROM x\nARG"), "Dockerfile parse error line 2: ARG requires at least one argument");
        assert_eq!(err("FROM x\nARG =1"), "Dockerfile parse error line 2: ARG names can not be blank");
    }

    #[test]
    fn simple_instructions() {
        assert_eq!(
            kind("EXPOSE 80/tcp  443 ${PORT}"),
            InstructionKind::Expose(vec!["80/tcp".into(), "443".into(), "${PORT}".into()])
        );
        assert_eq!(kind("WORKDIR /app dir"), InstructionKind::Workdir("/app dir".into()));
        assert_eq!(kind("USER app:app"), InstructionKind::User("app:app".into()));
        assert_eq!(kind("STOPSIGNAL SIGKILL"), InstructionKind::Stopsignal("SIGKILL".into()));
        assert_eq!(
            kind("MAINTAINER Jane <jane@example.com>"),
            InstructionKind::Maintainer("Jane <jane@example.com>".into())
        );
        for keyword in ["WORKDIR", "USER", "STOPSIGNAL", "MAINTAINER"] {
            assert_eq!(
                err(&format!("FROM x\n{keyword}")),
                format!("Dockerfile parse error line 2: {keyword} requires exactly one argument")
            );
        }
        assert_eq!(err("FROM x\nEXPOSE"), "Dockerfile parse error line 2: EXPOSE requires at least one argument");
    }

    #[test]
    fn volume() {
        assert_eq!(kind("VOLUME /data /logs"), InstructionKind::Volume(vec!["/data".into(), "/logs".into()]));
        assert_eq!(
            kind("VOLUME [\"/data\", \"/with space\"]"),
            InstructionKind::Volume(vec!["/data".into(), "/with space".into()])
        );
        assert_eq!(kind("VOLUME [/data]"), InstructionKind::Volume(vec!["[/data]".into()]));
        assert_eq!(err("FROM x\nVOLUME"), "Dockerfile parse error line 2: VOLUME requires at least one argument");
        assert_eq!(
            err("FROM x\nVOLUME [\"\"]"),
            "Dockerfile parse error line 2: VOLUME specified can not be an empty string"
        );
    }

    #[test]
    fn copy_and_add() {
        let copy = one("COPY --from=build --chown=1000:1000 --chmod=755 --link a b* /dest/");
        assert_eq!(copy.copy_from(), Some("build"));
        assert_eq!(copy.chown(), Some("1000:1000"));
        assert_eq!(copy.chmod(), Some("755"));
        assert!(copy.flag_bool("link"));
        assert!(!copy.flag_bool("parents"));
        assert_eq!(
            copy.kind,
            InstructionKind::Copy(CopyArgs { sources: paths(&["a", "b*"]), dest: "/dest/".into(), json: false })
        );

        let copy = one("COPY [\"my file\", \"/dest dir/\"]");
        assert_eq!(
            copy.kind,
            InstructionKind::Copy(CopyArgs { sources: paths(&["my file"]), dest: "/dest dir/".into(), json: true })
        );

        let copy = one("COPY --parents --link=false --exclude=*.md --exclude=*.txt ./src/ /app");
        assert!(!copy.flag_bool("link"));
        assert!(copy.flag_bool("parents"));
        assert_eq!(copy.flag_values("exclude"), ["*.md", "*.txt"]);

        let add = one("ADD --checksum=sha256:abc --keep-git-dir=true https://example.com/x.tar.gz /x/");
        assert_eq!(add.flag_value("checksum"), Some("sha256:abc"));
        assert_eq!(
            add.kind,
            InstructionKind::Add(CopyArgs {
                sources: paths(&["https://example.com/x.tar.gz"]),
                dest: "/x/".into(),
                json: false
            })
        );

        assert_eq!(
            err("FROM x\nCOPY onlyone"),
            "Dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"
        );
        assert!(err("FROM x\nADD [\"a\"]").contains("ADD requires at least two arguments"));
        assert_eq!(err("FROM x\nCOPY --from a b"), "Dockerfile parse error line 2: missing a value on flag: from");
        assert_eq!(
            err("FROM x\nCOPY --from=a --from=b c d"),
            "Dockerfile parse error line 2: duplicate flag specified: from"
        );
        assert_eq!(
            err("FROM x\nCOPY --link=maybe a b"),
            "Dockerfile parse error line 2: expecting boolean value for flag link, not: maybe"
        );
        assert_eq!(err("FROM x\nCOPY --link= a b"), "Dockerfile parse error line 2: missing a value on flag: link");
        assert_eq!(err("FROM x\nCOPY --checksum=x a b"), "Dockerfile parse error line 2: unknown flag: checksum");
        assert_eq!(err("FROM x\nADD --from=x a b"), "Dockerfile parse error line 2: unknown flag: from");
    }

    #[test]
    fn heredoc_run() {
        let run = one("RUN <<EOF\napt-get update\n  echo \"$HOME\"\nEOF");
        assert_eq!(run.kind, InstructionKind::Run(shell("<<EOF")));
        assert_eq!(run.original, "RUN <<EOF");
        assert_eq!(
            run.heredocs,
            [Heredoc {
                name: "EOF".into(),
                body: "apt-get update\n  echo \"$HOME\"\n".into(),
                expand: true,
                strip_tabs: false
            }]
        );

        let run = one("RUN python3 <<EOF\nprint('hi')\nEOF");
        assert_eq!(run.kind, InstructionKind::Run(shell("python3 <<EOF")));
        assert_eq!(run.heredocs[0].body, "print('hi')\n");

        let run = one("RUN <<-EOT bash\n\tif true; then\n\t\techo yes\n\tfi\n\tEOT");
        assert_eq!(run.heredocs[0].body, "if true; then\necho yes\nfi\n");
        assert!(run.heredocs[0].strip_tabs);

        // Without `-`, a tab-indented terminator is content and the doc never ends.
        assert_eq!(err("FROM x\nRUN <<EOF\n\tEOF\n"), "Dockerfile parse error line 2: unterminated heredoc");
    }

    #[test]
    fn heredoc_quoting_and_several() {
        let run = one("RUN <<\"EOF\" cat && cat <<'END' && 3<<-X\n$A\nEOF\n$B\nEND\n\t$C\nX\n");
        let summary: Vec<(&str, &str, bool, bool)> =
            run.heredocs.iter().map(|h| (h.name.as_str(), h.body.as_str(), h.expand, h.strip_tabs)).collect();
        assert_eq!(summary, [("EOF", "$A\n", false, false), ("END", "$B\n", false, false), ("X", "$C\n", true, true)]);
        let run = one("RUN <<E\\\"OF cat\nx\nE\"OF");
        assert_eq!((run.heredocs[0].name.as_str(), run.heredocs[0].expand), ("E\"OF", true));
        let run = one("RUN <<'E'OF\nx\nEOF");
        assert_eq!((run.heredocs[0].name.as_str(), run.heredocs[0].expand), ("EOF", false));
    }

    #[test]
    fn not_heredocs() {
        // Quoted, glued, `<<<` and JSON form are not heredocs; the next line is an instruction.
        for text in ["RUN echo \"<<EOF\"", "RUN cat a<<EOF", "RUN cat <<<word", "RUN [\"cat\", \"<<EOF\"]"] {
            let file = ok(&format!("FROM x\n{text}\nRUN next\n"));
            let run = &file.stages[0].instructions;
            assert_eq!(run.len(), 2, "{text}");
            assert!(run[0].heredocs.is_empty(), "{text}");
        }
    }

    #[test]
    fn heredoc_after_continuation_and_line_numbers() {
        let file = ok("FROM x\nRUN --mount=type=cache,target=/c \\\n  <<EOF\necho 1\nEOF\nRUN after\n");
        let run = &file.stages[0].instructions;
        assert_eq!(run[0].heredocs[0].body, "echo 1\n");
        assert_eq!(run[0].flag_value("mount"), Some("type=cache,target=/c"));
        assert_eq!((run[1].line, run[1].original.as_str()), (6, "RUN after"));
        assert_eq!(
            err("FROM x\nRUN a\nRUN <<EOF\nnever ends\n"),
            "Dockerfile parse error line 3: unterminated heredoc"
        );
    }

    #[test]
    fn heredoc_copy() {
        let copy = one("COPY --chmod=644 <<robots.txt <<-\"humans.txt\" local /usr/share/\nUser-agent: *\nrobots.txt\n\thi $X\n\thumans.txt\n");
        let InstructionKind::Copy(args) = &copy.kind else { panic!("{copy:?}") };
        assert_eq!(args.dest, "/usr/share/");
        assert_eq!(args.sources.len(), 3);
        assert_eq!(
            args.sources[0],
            CopySource::Heredoc(Heredoc {
                name: "robots.txt".into(),
                body: "User-agent: *\n".into(),
                expand: true,
                strip_tabs: false
            })
        );
        assert_eq!(
            args.sources[1],
            CopySource::Heredoc(Heredoc {
                name: "humans.txt".into(),
                body: "hi $X\n".into(),
                expand: false,
                strip_tabs: true
            })
        );
        assert_eq!(args.sources[2], CopySource::Path("local".into()));
        assert_eq!(copy.heredocs.len(), 2);
        assert_eq!(
            err("FROM x\nCOPY a <<EOF\nx\nEOF"),
            "Dockerfile parse error line 2: COPY cannot accept a heredoc as a destination"
        );
    }

    #[test]
    fn healthcheck() {
        assert_eq!(kind("HEALTHCHECK NONE"), InstructionKind::Healthcheck(Healthcheck::None));
        assert_eq!(kind("HEALTHCHECK none"), InstructionKind::Healthcheck(Healthcheck::None));
        let s = 1_000_000_000;
        assert_eq!(
            kind("HEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms --start-interval=0s --retries=3 CMD curl -f http://localhost/ || exit 1"),
            InstructionKind::Healthcheck(Healthcheck::Cmd(HealthcheckCmd {
                test: shell("curl -f http://localhost/ || exit 1"),
                interval: Some(30 * s),
                timeout: Some(90 * s),
                start_period: Some(s / 2),
                start_interval: None,
                retries: Some(3),
            }))
        );
        let InstructionKind::Healthcheck(Healthcheck::Cmd(check)) = kind("HEALTHCHECK cmd [\"/bin/check\", \"-v\"]")
        else {
            panic!()
        };
        assert_eq!(check.test, exec(&["/bin/check", "-v"]));
        assert_eq!((check.interval, check.retries), (None, None));

        let e = |text: &str| err(&format!("FROM x\n{text}"));
        assert_eq!(e("HEALTHCHECK"), "Dockerfile parse error line 2: HEALTHCHECK requires at least one argument");
        assert_eq!(e("HEALTHCHECK NONE x"), "Dockerfile parse error line 2: HEALTHCHECK NONE takes no arguments");
        assert_eq!(e("HEALTHCHECK CMD"), "Dockerfile parse error line 2: Missing command after HEALTHCHECK CMD");
        assert_eq!(
            e("HEALTHCHECK RUN x"),
            "Dockerfile parse error line 2: Unknown type \"RUN\" in HEALTHCHECK (try CMD)"
        );
        assert_eq!(
            e("HEALTHCHECK --interval=5 CMD x"),
            "Dockerfile parse error line 2: time: missing unit in duration \"5\""
        );
        assert_eq!(
            e("HEALTHCHECK --timeout=10us CMD x"),
            "Dockerfile parse error line 2: Interval \"timeout\" cannot be less than 1ms"
        );
        assert_eq!(
            e("HEALTHCHECK --retries=-1 CMD x"),
            "Dockerfile parse error line 2: --retries cannot be negative (-1)"
        );
        assert_eq!(
            e("HEALTHCHECK --retries=x CMD x"),
            "Dockerfile parse error line 2: strconv.ParseInt: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            e("HEALTHCHECK --retries=9999999999 CMD x"),
            "Dockerfile parse error line 2: strconv.ParseInt: parsing \"9999999999\": value out of range"
        );
        assert_eq!(e("HEALTHCHECK --foo=1 CMD x"), "Dockerfile parse error line 2: unknown flag: foo");
    }

    #[test]
    fn shell_instruction() {
        assert_eq!(
            kind("SHELL [\"powershell\", \"-command\"]"),
            InstructionKind::Shell(vec!["powershell".into(), "-command".into()])
        );
        assert_eq!(
            err("FROM x\nSHELL /bin/bash -c"),
            "Dockerfile parse error line 2: SHELL requires the arguments to be in JSON form"
        );
        assert_eq!(err("FROM x\nSHELL []"), "Dockerfile parse error line 2: SHELL requires at least one argument");
        assert_eq!(err("FROM x\nSHELL"), "Dockerfile parse error line 2: SHELL requires at least one argument");
    }

    #[test]
    fn onbuild() {
        let onbuild = one("ONBUILD RUN echo hi");
        let InstructionKind::Onbuild(on) = &onbuild.kind else { panic!() };
        assert_eq!(on.expression, "RUN echo hi");
        assert_eq!(on.trigger.kind, InstructionKind::Run(shell("echo hi")));
        assert_eq!(onbuild.original, "ONBUILD RUN echo hi");

        let onbuild = one("onbuild copy --chown=1 <<EOF /x\nhello\nEOF");
        let InstructionKind::Onbuild(on) = &onbuild.kind else { panic!() };
        assert_eq!(on.expression, "copy --chown=1 <<EOF /x\nhello\nEOF");
        assert_eq!(on.trigger.chown(), Some("1"));
        let InstructionKind::Copy(args) = &on.trigger.kind else { panic!() };
        assert!(matches!(&args.sources[0], CopySource::Heredoc(h) if h.body == "hello\n"));

        assert_eq!(
            err("FROM x\nONBUILD ONBUILD RUN x"),
            "Dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
        );
        assert_eq!(
            err("FROM x\nONBUILD from y"),
            "Dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger"
        );
        assert_eq!(
            err("FROM x\nONBUILD MAINTAINER me"),
            "Dockerfile parse error line 2: MAINTAINER isn't allowed as an ONBUILD trigger"
        );
        assert_eq!(err("FROM x\nONBUILD"), "Dockerfile parse error line 2: ONBUILD requires at least one argument");
        assert_eq!(err("FROM x\nONBUILD BOGUS y"), "Dockerfile parse error line 2: unknown instruction: BOGUS");
    }

    #[test]
    fn multi_stage_full_example() {
        let text = r#"# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app

FROM gcr.io/distroless/static AS runtime
COPY --from=build /out/app /app
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=10s CMD ["/app", "health"]
ENTRYPOINT ["/app"]
"#;
        let file = ok(text);
        assert_eq!(file.global_args.len(), 1);
        assert_eq!(file.stages.iter().map(|s| s.name.as_deref()).collect::<Vec<_>>(), [Some("build"), Some("runtime")]);
        assert_eq!(file.step_count(), 13);
        let first_lines: Vec<usize> = file.steps().map(|i| i.line).take(3).collect();
        assert_eq!(first_lines, [2, 4, 5]);
        assert_eq!(file.steps().last().map(|i| i.original.as_str()), Some("ENTRYPOINT [\"/app\"]"));
    }

    #[test]
    fn heredoc_word_parsing() {
        assert_eq!(parse_heredoc_word("<<EOF").map(|h| h.name), Some("EOF".into()));
        assert_eq!(parse_heredoc_word("2<<EOF").map(|h| h.name), Some("EOF".into()));
        assert!(parse_heredoc_word("<<").is_none());
        assert!(parse_heredoc_word("<<-").is_none());
        assert!(parse_heredoc_word("x<<EOF").is_none());
        assert!(parse_heredoc_word("<<\"unterminated").is_none());
    }
}
