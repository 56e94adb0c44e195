//! `docker build` (the classic builder) and `docker commit` with the real
//! docker CLI, on a busybox base from the local registry.

use std::path::Path;
use std::process::{Command, Stdio};

use berth_e2e::{engine_with_busybox, text, Berthd};

fn write(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// `docker build` with its output; the step lines are in stdout.
fn build(d: &Berthd, args: &[&str]) -> (bool, String) {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    let out = d.docker(&all);
    (out.status.success(), format!("{}{}", text(&out.stdout), text(&out.stderr)))
}

fn built_id(output: &str) -> String {
    output.lines().find_map(|l| l.strip_prefix("Successfully built ")).unwrap_or_else(|| panic!("{output}")).to_string()
}

#[tokio::test]
async fn build_run_cache_and_config() {
    let (_reg, d, img) = engine_with_busybox().await;
    let ctx = tempfile::tempdir().unwrap();
    let c = ctx.path();
    write(c, "app/hello.txt", "hello\n");
    write(c, "app/debug.log", "noise\n");
    write(c, ".dockerignore", "**/*.log\n");
    write(
        c,
        "Dockerfile",
        &format!(
            "# a comment\nARG BASE={img}\nFROM $BASE\nARG WHO=world\nENV GREETING=hi \\\n    PLACE=\"the dock\"\n\
             WORKDIR /srv\nCOPY app/ ./app/\nRUN echo \"$GREETING $WHO at $PLACE\" > greeting && ls app > listing\n\
             RUN <<EOF\nset -e\necho heredoc > /srv/heredoc\nEOF\nUSER 1000:1000\nEXPOSE 8080\n\
             LABEL org.example.role=web\nHEALTHCHECK --interval=5s CMD true\nSTOPSIGNAL SIGINT\n\
             ENTRYPOINT [\"cat\"]\nCMD [\"/srv/greeting\"]\n"
        ),
    );
    let dir = c.to_str().unwrap();
    let (ok, out) = build(&d, &["-t", "site:1", "--build-arg", "WHO=berth", dir]);
    assert!(ok, "{out}");
    assert!(out.contains("Step 1/15 : ARG BASE=") && out.contains("Step 15/15 : CMD"), "{out}");
    assert!(out.contains(" ---> Running in ") && out.contains("Successfully tagged site:1"), "{out}");
    let first = built_id(&out);

    assert_eq!(d.docker_ok(&["run", "--rm", "site:1"]), "hi berth at the dock\n");
    let listing = d.docker_ok(&["run", "--rm", "site:1", "/srv/listing"]);
    assert_eq!(listing, "hello.txt\n", ".dockerignore must keep debug.log out");
    assert_eq!(d.docker_ok(&["run", "--rm", "site:1", "/srv/heredoc"]), "heredoc\n");
    let fmt = "{{.Config.User}}|{{.Config.WorkingDir}}|{{json .Config.ExposedPorts}}|{{index .Config.Labels \"org.example.role\"}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{.Config.StopSignal}}|{{json .Config.Healthcheck.Test}}";
    let config = d.docker_ok(&["image", "inspect", "--format", fmt, "site:1"]);
    assert_eq!(
        config.trim(),
        r#"1000:1000|/srv|{"8080/tcp":{}}|web|["cat"]|["/srv/greeting"]|SIGINT|["CMD-SHELL","true"]"#
    );
    let env = d.docker_ok(&["image", "inspect", "--format", "{{json .Config.Env}}", "site:1"]);
    assert!(env.contains("\"GREETING=hi\"") && env.contains("\"PLACE=the dock\""), "{env}");
    assert!(!env.contains("WHO"), "build args stay out of the image: {env}");

    // Unchanged: every step from the cache, the same image.
    let (ok, again) = build(&d, &["-t", "site:1", "--build-arg", "WHO=berth", dir]);
    assert!(ok, "{again}");
    assert_eq!(again.matches("Using cache").count(), 13, "{again}");
    assert_eq!(built_id(&again), first);
    // A changed file invalidates its COPY and what follows, not before.
    write(c, "app/hello.txt", "changed\n");
    let (ok, changed) = build(&d, &["--build-arg", "WHO=berth", dir]);
    assert!(ok, "{changed}");
    let copy_at = changed.find("COPY app/").unwrap();
    assert_eq!(changed[..copy_at].matches("Using cache").count(), 3, "{changed}");
    assert!(!changed[copy_at..].contains("Using cache"), "{changed}");
    // A different build arg misses the RUN that sees it.
    let (_, other_arg) = build(&d, &["--build-arg", "WHO=you", dir]);
    let run_at = other_arg.find("RUN echo").unwrap();
    assert!(!other_arg[run_at..].split("Step").nth(1).unwrap_or("").contains("Using cache"), "{other_arg}");

    // Intermediate images stay out of `docker images` but not `-a`.
    let top = d.docker_ok(&["images", "-q"]).lines().count();
    let all = d.docker_ok(&["images", "-aq"]).lines().count();
    assert!(all > top + 10, "{top} vs {all}");
    // No step container is left behind.
    assert_eq!(d.docker_ok(&["ps", "-aq"]), "");

    // The cache survives a restart of the engine, and prune frees it.
    let mut d = d;
    d.crash_and_restart();
    write(c, "app/hello.txt", "hello\n");
    let (_, after) = build(&d, &["--build-arg", "WHO=berth", dir]);
    assert_eq!(built_id(&after), first, "{after}");
    let pruned = d.docker_ok(&["builder", "prune", "-f"]);
    assert!(pruned.contains("Deleted build cache objects") && pruned.contains("Total reclaimed space"), "{pruned}");
    let (_, cold) = build(&d, &["--build-arg", "WHO=berth", dir]);
    assert!(!cold.contains("Using cache"), "{cold}");
}

#[tokio::test]
async fn multi_stage_target_stdin_and_failures() {
    let (_reg, d, img) = engine_with_busybox().await;
    let ctx = tempfile::tempdir().unwrap();
    let c = ctx.path();
    write(
        c,
        "build.Dockerfile",
        &format!(
            "FROM {img} AS builder\nRUN mkdir /out && echo artifact > /out/a && echo extra > /out/b\n\
             FROM {img} AS unused\nRUN echo never-run\n\
             FROM {img} AS final\nCOPY --from=builder /out/a /dist/\nCOPY --from=0 /out /all\nCMD [\"cat\", \"/dist/a\"]\n\
             FROM final AS debug\nRUN echo debug > /dist/d\n"
        ),
    );
    let dir = c.to_str().unwrap();
    let file = format!("{dir}/build.Dockerfile");
    let (ok, out) = build(&d, &["-f", &file, "--target", "final", "-t", "multi", dir]);
    assert!(ok, "{out}");
    assert!(!out.contains("never-run") && !out.contains("echo debug"), "only needed stages: {out}");
    assert_eq!(d.docker_ok(&["run", "--rm", "multi"]), "artifact\n");
    assert_eq!(d.docker_ok(&["run", "--rm", "multi", "cat", "/all/b"]), "extra\n");
    let (ok, missing) = build(&d, &["-f", &file, "--target", "nope", dir]);
    assert!(!ok && missing.contains("failed to reach build target nope"), "{missing}");

    // A context piped in as a tar on stdin.
    write(c, "Dockerfile", &format!("FROM {img}\nCOPY build.Dockerfile /copied\n"));
    let tar = Command::new("tar").args(["-C", dir, "-cf", "-", "."]).output().unwrap().stdout;
    let mut child = d
        .docker_cmd()
        .args(["build", "-q", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &tar).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_string();
    assert!(id.starts_with("sha256:"), "{id}");
    assert!(d.docker_ok(&["run", "--rm", &id, "cat", "/copied"]).contains("AS builder"));

    // A failing RUN reports its exit code and leaves nothing behind.
    write(c, "Dockerfile", &format!("FROM {img}\nRUN echo before\nRUN exit 7\n"));
    let images_before = d.docker_ok(&["images", "-aq"]);
    let failed = d.docker(&["build", dir]);
    assert_eq!(failed.status.code(), Some(7));
    assert!(
        text(&failed.stderr).contains("The command '/bin/sh -c exit 7' returned a non-zero code: 7"),
        "{}",
        text(&failed.stderr)
    );
    assert_eq!(d.docker_ok(&["ps", "-aq"]), "");
    let images_after = d.docker_ok(&["images", "-aq"]);
    assert_eq!(images_after.lines().count(), images_before.lines().count() + 1, "only the cached first RUN stays");

    // A bad Dockerfile is refused before anything runs, with its line.
    write(c, "Dockerfile", &format!("FROM {img}\nFROBNICATE now\n"));
    let (ok, parse) = build(&d, &[dir]);
    assert!(!ok && parse.contains("line 2") && parse.contains("unknown instruction"), "{parse}");
    // The CLI checks -f itself; other clients hear it from the engine.
    let r = d.request("POST", "/v1.50/build?dockerfile=Missing", &[("Content-Type", "application/x-tar")], &tar);
    assert_eq!(r.status, 400);
    assert!(text(&r.body).contains("Cannot locate specified Dockerfile: Missing"), "{}", text(&r.body));
}

#[tokio::test]
async fn commit_a_container() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "--name", "work", &img, "sh", "-c", "echo made > /made && rm /bin/vi"]);
    let id = d.docker_ok(&[
        "commit",
        "--author",
        "Berth Tests",
        "--message",
        "snapshot",
        "--change",
        "ENV STAGE=committed",
        "--change",
        "CMD [\"cat\", \"/made\"]",
        "work",
        "snap:1",
    ]);
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert_eq!(d.docker_ok(&["run", "--rm", "snap:1"]), "made\n");
    let gone = d.docker(&["run", "--rm", "snap:1", "ls", "/bin/vi"]);
    assert!(!gone.status.success(), "a deleted file stays deleted");
    let meta = d.docker_ok(&["image", "inspect", "--format", "{{.Author}}|{{.Comment}}|{{.Parent}}", "snap:1"]);
    let parent = d.docker_ok(&["image", "inspect", "--format", "{{.Id}}", &img]);
    assert_eq!(meta.trim(), format!("Berth Tests|snapshot|{}", parent.trim()));
    let env = d.docker_ok(&["image", "inspect", "--format", "{{json .Config.Env}}", "snap:1"]);
    assert!(env.contains("STAGE=committed"), "{env}");
    let history = d.docker_ok(&["history", "--format", "{{.Comment}}", "snap:1"]);
    assert_eq!(history.lines().next(), Some("snapshot"));
    let missing = d.docker(&["commit", "nope"]);
    assert!(text(&missing.stderr).contains("No such container: nope"), "{}", text(&missing.stderr));
}

/// An HTTP server on 127.0.0.1 answering `/files/hello.txt` (with a
/// Last-Modified time) and 404 for anything else; returns its port.
fn serve_files() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut conn = std::io::BufReader::new(conn);
            let mut request = String::new();
            let _ = std::io::BufRead::read_line(&mut conn, &mut request);
            let mut line = String::new();
            while std::io::BufRead::read_line(&mut conn, &mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let reply = if request.starts_with("GET /files/hello.txt ") {
                "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nLast-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n\
                 Connection: close\r\n\r\nhello remote\n"
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            };
            let _ = std::io::Write::write_all(conn.get_mut(), reply.as_bytes());
        }
    });
    port
}

#[tokio::test]
async fn add_from_urls_and_chown_by_name() {
    let (_reg, d, img) = engine_with_busybox().await;
    let port = serve_files();
    let ctx = tempfile::tempdir().unwrap();
    let c = ctx.path();
    write(c, "f.txt", "owned\n");
    write(
        c,
        "Dockerfile",
        &format!(
            "FROM {img}\n\
             RUN echo 'app:x:1000:1001::/:/bin/sh' >> /etc/passwd && echo 'crew:x:1001:' >> /etc/group\n\
             ADD http://127.0.0.1:{port}/files/hello.txt /remote/\n\
             ADD http://127.0.0.1:{port}/files/hello.txt /renamed.txt\n\
             COPY --chown=app:crew f.txt /owned.txt\n\
             COPY --chown=1000 f.txt /numeric.txt\n"
        ),
    );
    let (ok, out) = build(&d, &["-t", "remote:1", c.to_str().unwrap()]);
    assert!(ok, "{out}");
    let check = "cat /remote/hello.txt /renamed.txt; stat -c '%a %Y' /remote/hello.txt; \
                 stat -c '%u:%g' /owned.txt /numeric.txt";
    let seen = d.docker_ok(&["run", "--rm", "remote:1", "sh", "-c", check]);
    assert_eq!(seen, "hello remote\nhello remote\n600 1445412480\n1000:1001\n1000:1000\n");

    // Unknown names, a missing file and a closed port fail with what went wrong.
    for (line, message) in [
        ("COPY --chown=nobody-here f.txt /x".to_string(), "can't find uid for user nobody-here".to_string()),
        (
            format!("ADD http://127.0.0.1:{port}/missing /x"),
            format!("failed to GET http://127.0.0.1:{port}/missing with status 404"),
        ),
        (format!("ADD http://127.0.0.1:{}/x /x", berth_e2e::registry::free_port()), "Connection refused".to_string()),
    ] {
        write(c, "Dockerfile", &format!("FROM {img}\n{line}\n"));
        let (ok, out) = build(&d, &[c.to_str().unwrap()]);
        assert!(!ok && out.contains(&message), "{line}: {out}");
    }
}

/// `--cache-from`: an image pulled from a registry serves a build on a
/// machine without its local cache, down to the same image ID; a changed
/// file misses from its COPY on.
#[tokio::test]
async fn cache_from_a_pulled_image() {
    let (reg, d, img) = engine_with_busybox().await;
    let ctx = tempfile::tempdir().unwrap();
    let c = ctx.path();
    write(c, "conf.txt", "v1\n");
    write(
        c,
        "Dockerfile",
        &format!("FROM {img}\nENV MODE=ci\nRUN echo built > /stamp\nCOPY conf.txt /etc/\nCMD [\"cat\", \"/stamp\"]\n"),
    );
    let dir = c.to_str().unwrap();
    let name = format!("{}/berth/cached:1", reg.addr);
    let (ok, out) = build(&d, &["-t", &name, dir]);
    assert!(ok, "{out}");
    let id = built_id(&out);
    d.docker_ok(&["push", &name]);

    // As on a fresh CI machine: no build cache, no built images; then the pull.
    d.docker_ok(&["rmi", &name]);
    d.docker_ok(&["builder", "prune", "-af"]);
    d.docker_ok(&["pull", &name]);
    let (ok, out) = build(&d, &["--cache-from", &name, "-t", "again:1", dir]);
    assert!(ok, "{out}");
    assert_eq!(out.matches(" ---> Using cache").count(), 4, "{out}");
    assert!(!out.contains("Running in"), "{out}");
    assert_eq!(built_id(&out), id, "the pulled image itself is the result");

    // Sources only, as dockerd: the local cache (now full) counts only along
    // their lineage, and a missing source has none.
    let (ok, out) = build(&d, &["--cache-from", "missing:1", dir]);
    assert!(ok, "{out}");
    assert!(!out.contains("Using cache") && out.contains("Running in"), "{out}");

    write(c, "conf.txt", "v2\n");
    let (ok, out) = build(&d, &["--cache-from", &name, "--cache-from", "missing:1", "-t", "again:2", dir]);
    assert!(ok, "{out}");
    assert_eq!(out.matches(" ---> Using cache").count(), 2, "ENV and RUN only: {out}");
    assert_ne!(built_id(&out), id);
    assert_eq!(d.docker_ok(&["run", "--rm", "again:2"]), "built\n");
    assert_eq!(d.docker_ok(&["run", "--rm", "again:2", "cat", "/etc/conf.txt"]), "v2\n");
    // The restored steps are images of their own, with the pulled layers.
    let layers = |image: &str| d.docker_ok(&["image", "inspect", "--format", "{{len .RootFS.Layers}}", image]);
    assert_eq!(layers("again:2"), layers(&name));
}

/// A step's stderr reaches the stream in red, as the classic builder sends it
/// (docker-py's test_build_stderr_data), and a second `dockerfile` parameter
/// does not override the first (docker-py sends the text after the name).
#[tokio::test]
async fn step_stderr_in_red_and_first_dockerfile_wins() {
    let (_reg, d, img) = engine_with_busybox().await;
    let ctx = tempfile::tempdir().unwrap();
    write(ctx.path(), "Real.dockerfile", &format!("FROM {img}\nRUN echo warned >&2\n"));
    let tar = Command::new("tar").args(["-C", ctx.path().to_str().unwrap(), "-c", "."]).output().unwrap().stdout;
    let r = d.request("POST", "/build?dockerfile=Real.dockerfile&dockerfile=FROM+nothing", &[], &tar);
    assert_eq!(r.status, 200, "{}", r.message());
    let body = text(&r.body);
    assert!(body.contains(r#""stream":"\u001b[91mwarned\n\u001b[0m""#), "{body}");
}
