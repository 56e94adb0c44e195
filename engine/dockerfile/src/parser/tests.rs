use super::instruction::parse_heredoc_word;
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
        InstructionKind::Arg(vec![arg("A", Some("1")), arg("B", None), arg("C", Some("\"x y\"")), arg("D", Some(""))])
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
    assert_eq!(err("FROM x\nRUN a\nRUN <<EOF\nnever ends\n"), "Dockerfile parse error line 3: unterminated heredoc");
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
    let InstructionKind::Healthcheck(Healthcheck::Cmd(check)) = kind("HEALTHCHECK cmd [\"/bin/check\", \"-v\"]") else {
        panic!()
    };
    assert_eq!(check.test, exec(&["/bin/check", "-v"]));
    assert_eq!((check.interval, check.retries), (None, None));

    let e = |text: &str| err(&format!("FROM x\n{text}"));
    assert_eq!(e("HEALTHCHECK"), "Dockerfile parse error line 2: HEALTHCHECK requires at least one argument");
    assert_eq!(e("HEALTHCHECK NONE x"), "Dockerfile parse error line 2: HEALTHCHECK NONE takes no arguments");
    assert_eq!(e("HEALTHCHECK CMD"), "Dockerfile parse error line 2: Missing command after HEALTHCHECK CMD");
    assert_eq!(e("HEALTHCHECK RUN x"), "Dockerfile parse error line 2: Unknown type \"RUN\" in HEALTHCHECK (try CMD)");
    assert_eq!(
        e("HEALTHCHECK --interval=5 CMD x"),
        "Dockerfile parse error line 2: time: missing unit in duration \"5\""
    );
    assert_eq!(
        e("HEALTHCHECK --timeout=10us CMD x"),
        "Dockerfile parse error line 2: Interval \"timeout\" cannot be less than 1ms"
    );
    assert_eq!(e("HEALTHCHECK --retries=-1 CMD x"), "Dockerfile parse error line 2: --retries cannot be negative (-1)");
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
