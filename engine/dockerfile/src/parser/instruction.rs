//! One logical line to one instruction: keyword, flags checked against Docker's sets,
//! exec or shell form, and each instruction's argument rules with Docker's messages.

use super::*;

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
pub(super) fn parse_instruction(line: &str, line_number: usize, escape: char) -> Result<Instruction, String> {
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
    pub(super) fn attach_heredoc_bodies(&mut self) {
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
pub(super) fn parse_heredoc_word(word: &str) -> Option<Heredoc> {
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
