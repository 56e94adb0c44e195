//! Berth Compose as users run it: `docker compose ...` through the real docker CLI, our plugin
//! installed in the CLI's plugin directory, against berthd, with images from the local registry.

use std::collections::BTreeMap;
use std::path::Path;

use berth_e2e::{engine_with_busybox, text, Berthd};
use serde_json::Value;

/// A web server with a healthcheck, a one-off migration writing to a named volume, workers that
/// wait for both, on a custom network, with variables from `.env` and a profile-gated service.
const PROJECT: &str = r#"
name: shop
services:
  web:
    image: ${IMG}
    command: ["sh", "-c", "mkdir -p /www && echo it works > /www/index.html && httpd -f -p 80 -h /www"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]
      interval: 500ms
      retries: 20
    stop_grace_period: 1s
    ports: ["80"]
    networks:
      back:
        aliases: [frontend]
  migrate:
    image: ${IMG}
    command: ["sh", "-c", "echo migrated > /data/state && echo migration done"]
    volumes: [data:/data]
  worker:
    image: ${IMG}
    command: ["sh", "-c", "echo worker says $$GREETING; cat /data/state; exec sleep 1000"]
    environment:
      GREETING: ${GREETING:?set GREETING in .env}
    depends_on:
      web: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
    volumes: [data:/data]
    networks: [back]
    deploy: {replicas: 2}
    stop_signal: SIGKILL
  debug:
    image: ${IMG}
    profiles: [debug]
    command: ["echo", "debugging"]
volumes:
  data:
networks:
  back:
"#;

fn project(img: &str, greeting: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), PROJECT).unwrap();
    write_env(dir.path(), img, greeting);
    dir
}

fn write_env(dir: &Path, img: &str, greeting: &str) {
    std::fs::write(dir.join(".env"), format!("IMG={img}\nGREETING={greeting}\n")).unwrap();
}

/// `ps --format json`: one object per line, keyed by container name.
fn ps(d: &Berthd, dir: &Path, args: &[&str]) -> BTreeMap<String, Value> {
    let mut all = vec!["ps", "--format", "json"];
    all.extend_from_slice(args);
    let (out, _) = d.compose_ok(dir, &all);
    out.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .map(|v| (v["Name"].as_str().unwrap().to_string(), v))
        .collect()
}

fn ids(rows: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    rows.iter().map(|(k, v)| (k.clone(), v["ID"].as_str().unwrap().to_string())).collect()
}

#[tokio::test]
async fn multi_service_project_lifecycle() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.install_compose();
    let dir = project(&img, "hello");
    let p = dir.path();

    let (_, progress) = d.compose_ok(p, &["up", "-d", "--wait"]);
    assert!(progress.contains(" Container shop-web-1 Healthy "), "{progress}");
    let rows = ps(&d, p, &["-a"]);
    let names: Vec<&str> = rows.keys().map(String::as_str).collect();
    assert_eq!(names, ["shop-migrate-1", "shop-web-1", "shop-worker-1", "shop-worker-2"]);
    assert_eq!(rows["shop-web-1"]["Health"], "healthy");
    assert_eq!(rows["shop-web-1"]["Service"], "web");
    assert_eq!(rows["shop-migrate-1"]["State"], "exited");
    assert_eq!(rows["shop-migrate-1"]["ExitCode"], 0);
    assert_eq!(rows["shop-worker-2"]["State"], "running");
    assert_eq!(ps(&d, p, &[]).len(), 3, "ps without -a lists running containers");

    // Labels are how Compose and the desktop app find the project's objects again.
    let labels = d.docker_ok(&["inspect", "--format", "{{json .Config.Labels}}", "shop-worker-1"]);
    let labels: Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(labels["com.docker.compose.project"], "shop");
    assert_eq!(labels["com.docker.compose.service"], "worker");
    assert_eq!(labels["com.docker.compose.container-number"], "1");
    assert_eq!(labels["com.docker.compose.oneoff"], "False");
    assert_eq!(labels["com.docker.compose.project.working_dir"], p.to_str().unwrap());
    assert_eq!(d.docker_ok(&["volume", "ls", "-q"]).trim(), "shop_data");
    let nets =
        d.docker_ok(&["network", "ls", "--filter", "label=com.docker.compose.project=shop", "--format", "{{.Name}}"]);
    assert_eq!(nets.lines().collect::<Vec<_>>(), ["shop_back", "shop_default"]);

    // Logs with service prefixes; the worker saw the variable and the migration's output.
    let (logs, _) = d.compose_ok(p, &["logs", "--no-color", "worker"]);
    assert!(logs.contains("worker-1  | worker says hello"), "{logs}");
    assert!(logs.contains("worker-2  | migrated"), "{logs}");
    let (logs, _) = d.compose_ok(p, &["logs", "--no-log-prefix", "migrate"]);
    assert_eq!(logs, "migration done\n");

    // exec, and the workers reach the web server by service name and alias over their network.
    let (out, _) = d.compose_ok(p, &["exec", "-T", "web", "cat", "/www/index.html"]);
    assert_eq!(out, "it works\n");
    for host in ["web", "frontend"] {
        let (out, _) =
            d.compose_ok(p, &["exec", "-T", "--index", "2", "worker", "wget", "-q", "-O-", &format!("http://{host}/")]);
        assert_eq!(out, "it works\n", "{host}");
    }
    let code = d.compose(p, &["exec", "-T", "web", "sh", "-c", "exit 7"]).status.code();
    assert_eq!(code, Some(7), "exec passes the exit code through");

    // The published port answers on the host.
    let (port, _) = d.compose_ok(p, &["port", "web", "80"]);
    let host_port = port.trim().rsplit(':').next().unwrap().to_string();
    let served = std::process::Command::new("busybox")
        .args(["wget", "-q", "-O-", &format!("http://127.0.0.1:{host_port}/")])
        .output()
        .unwrap();
    assert_eq!(text(&served.stdout), "it works\n", "{}", text(&served.stderr));

    // A one-off container runs, reports its output and code, and is removed with --rm.
    let (out, _) = d.compose_ok(p, &["run", "--rm", "-T", "worker", "cat", "/data/state"]);
    assert_eq!(out, "migrated\n");
    assert_eq!(
        d.compose(p, &["run", "--rm", "-T", "--no-deps", "worker", "sh", "-c", "exit 3"]).status.code(),
        Some(3)
    );
    let oneoffs = d.docker_ok(&["ps", "-aq", "--filter", "label=com.docker.compose.oneoff=True"]);
    assert_eq!(oneoffs, "", "one-off containers left behind");

    // The profile-gated service stays out unless its profile is on.
    let (services, _) = d.compose_ok(p, &["config", "--services"]);
    assert_eq!(services, "migrate\nweb\nworker\n");
    let (out, _) = d.compose_ok(p, &["--profile", "debug", "run", "--rm", "-T", "debug"]);
    assert_eq!(out, "debugging\n");

    // A second `up` changes nothing.
    let before = ids(&ps(&d, p, &["-a"]));
    let (_, progress) = d.compose_ok(p, &["up", "-d", "--wait"]);
    assert!(!progress.contains("Recreate") && !progress.contains("Creating"), "{progress}");
    assert_eq!(ids(&ps(&d, p, &["-a"])), before);

    // A changed variable recreates only the service that uses it.
    write_env(p, &img, "changed");
    let (_, progress) = d.compose_ok(p, &["up", "-d", "--wait"]);
    assert!(progress.contains(" Container shop-worker-1 Recreated "), "{progress}");
    assert!(!progress.contains("shop-web-1 Recreate"), "{progress}");
    let after = ids(&ps(&d, p, &["-a"]));
    assert_eq!(after["shop-web-1"], before["shop-web-1"]);
    assert_eq!(after["shop-migrate-1"], before["shop-migrate-1"]);
    assert_ne!(after["shop-worker-1"], before["shop-worker-1"]);
    assert_ne!(after["shop-worker-2"], before["shop-worker-2"]);
    let (logs, _) = d.compose_ok(p, &["logs", "--no-color", "worker"]);
    assert!(logs.contains("worker-1  | worker says changed"), "{logs}");

    // Scaling down removes the highest numbers.
    d.compose_ok(p, &["up", "-d", "--scale", "worker=1", "worker"]);
    assert!(!ps(&d, p, &["-a"]).contains_key("shop-worker-2"));

    // `down -v` leaves nothing of the project behind.
    d.compose_ok(p, &["down", "-v"]);
    assert_eq!(d.docker_ok(&["ps", "-aq"]), "");
    assert_eq!(d.docker_ok(&["volume", "ls", "-q"]), "");
    let nets = d.docker_ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert_eq!(nets, "bridge\nhost\nnone\n");
}

#[tokio::test]
async fn attached_up_and_exit_codes() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.install_compose();
    let dir = tempfile::tempdir().unwrap();
    let compose = format!(
        "services:\n  job:\n    image: {img}\n    command: [\"sh\", \"-c\", \"echo from job; sleep 0.5; exit 3\"]\n  \
         server:\n    image: {img}\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; echo from server; while true; do sleep 0.1; done\"]\n"
    );
    std::fs::write(dir.path().join("docker-compose.yml"), compose).unwrap();
    let out = d.compose(dir.path(), &["-p", "att", "up", "--no-color", "--exit-code-from", "job"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("Attaching to job-1, server-1"), "{stdout}");
    assert!(stdout.contains("job-1     | from job"), "{stdout}");
    assert!(stdout.contains("server-1  | from server"), "{stdout}");
    assert!(stdout.contains("job-1 exited with code 3"), "{stdout}");
    // Everything was stopped on the way out; `down` by project name alone needs no files.
    let states = d.docker_ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]);
    assert!(!states.contains("running"), "{states}");
    let elsewhere = tempfile::tempdir().unwrap();
    d.compose_ok(elsewhere.path(), &["-p", "att", "down"]);
    assert_eq!(d.docker_ok(&["ps", "-aq"]), "");
}

/// Each broken project is refused with a clear message before anything is created.
#[tokio::test]
async fn bad_projects_are_refused_before_anything_is_created() {
    let d = Berthd::start();
    d.install_compose();
    let cases: [(&str, &str, &str); 7] = [
        ("services:\n  web:\n    image: busybox\n   bad: [\n", "", "line 4"),
        ("services:\n  web:\n    image: busybox\n    ports: {a: 1}\n", "", "services.web.ports"),
        ("services:\n  web:\n    image: busybox\n    depends_on: [db]\n", "", "depends on undefined service \"db\""),
        (
            "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n",
            "",
            "dependency cycle detected",
        ),
        (
            "services:\n  web:\n    image: \"busybox:${TAG:?TAG must be set}\"\n",
            "",
            "required variable TAG is missing a value: TAG must be set",
        ),
        ("services:\n  web:\n    image: busybox\n    env_file: missing.env\n", "", "missing.env not found"),
        ("services:\n  web:\n    image: busybox\n", "name: Bad Name\n", "not a valid project name"),
    ];
    for (compose, extra, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), format!("{extra}{compose}")).unwrap();
        let out = d.compose(dir.path(), &["up", "-d"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{compose}: {stderr}");
        assert!(stderr.contains(expected), "{compose}: expected {expected:?} in {stderr}");
    }
    let none = tempfile::tempdir().unwrap();
    let out = d.compose(none.path(), &["ps"]);
    assert!(text(&out.stderr).contains("no configuration file provided: not found"), "{}", text(&out.stderr));
    assert_eq!(d.docker_ok(&["ps", "-aq"]), "");
    assert_eq!(d.docker_ok(&["network", "ls", "--format", "{{.Name}}"]), "bridge\nhost\nnone\n");
}

/// The plugin finds the engine the way the CLI does: through a docker context.
#[tokio::test]
async fn plugin_metadata_and_contexts() {
    let d = Berthd::start();
    d.install_compose();
    let out = d.docker_ok(&["compose", "version"]);
    assert!(out.starts_with("Docker Compose version v2."), "{out}");
    let plugins = d.docker_ok(&["info", "--format", "{{json .ClientInfo.Plugins}}"]);
    assert!(plugins.contains("\"Name\":\"compose\"") && plugins.contains("Berth"), "{plugins}");

    d.docker_ok(&["context", "create", "berth-test", "--docker", &format!("host={}", d.host())]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), "services:\n  s:\n    image: busybox\n").unwrap();
    let out = d
        .docker_cmd()
        .env_remove("DOCKER_HOST")
        .current_dir(dir.path())
        .args(["--context", "berth-test", "compose", "ls", "-a"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("NAME"), "{}", text(&out.stdout));
    // Without the context, the default socket is used, and failing to reach it is an error.
    let out = d
        .docker_cmd()
        .env("DOCKER_HOST", "unix:///nonexistent/berth.sock")
        .current_dir(dir.path())
        .args(["compose", "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// Secrets and configs from files, the environment and inline content appear where Compose puts
/// them; `cp` copies both ways, into running and stopped containers.
#[tokio::test]
async fn secrets_configs_and_cp() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.install_compose();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("db_password.txt"), "s3cret\n").unwrap();
    let compose = format!(
        r#"
services:
  app:
    image: {img}
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
    secrets:
      - db_password
      - source: token
        target: api.token
    configs:
      - source: settings
        target: /etc/app/settings.ini
secrets:
  db_password:
    file: ./db_password.txt
  token:
    environment: API_TOKEN
configs:
  settings:
    content: |
      mode=${{MODE:-dev}}
"#
    );
    std::fs::write(p.join("compose.yaml"), compose).unwrap();
    let up = d.docker_cmd().current_dir(p).env("API_TOKEN", "tok-123").args(["compose", "up", "-d"]).output().unwrap();
    assert!(up.status.success(), "{}", text(&up.stderr));
    let read = |path: &str| d.compose_ok(p, &["exec", "-T", "app", "cat", path]).0;
    assert_eq!(read("/run/secrets/db_password"), "s3cret\n");
    assert_eq!(read("/run/secrets/api.token"), "tok-123");
    assert_eq!(read("/etc/app/settings.ini"), "mode=dev\n");

    // cp out to a new name, into a directory, and back in.
    d.compose_ok(
        p,
        &["exec", "-T", "app", "sh", "-c", "mkdir -p /out/sub && echo deep > /out/sub/f && echo top > /out/a"],
    );
    d.compose_ok(p, &["cp", "app:/out/a", "copied.txt"]);
    assert_eq!(std::fs::read_to_string(p.join("copied.txt")).unwrap(), "top\n");
    std::fs::create_dir(p.join("into")).unwrap();
    d.compose_ok(p, &["cp", "app:/out", "into"]);
    assert_eq!(std::fs::read_to_string(p.join("into/out/sub/f")).unwrap(), "deep\n");
    d.compose_ok(p, &["stop"]);
    d.compose_ok(p, &["cp", "copied.txt", "app:/out/renamed.txt"]);
    d.compose_ok(p, &["cp", "into/out/sub", "app:/out"]);
    d.compose_ok(p, &["start"]);
    assert_eq!(read("/out/renamed.txt"), "top\n");
    assert_eq!(read("/out/sub/f"), "deep\n");
    d.compose_ok(p, &["down"]);
}

/// A service with a `build` section is built by `up` when its image is missing, then reused.
#[tokio::test]
async fn build_then_up() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.install_compose();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir(p.join("app")).unwrap();
    std::fs::write(
        p.join("app/Dockerfile"),
        "ARG BASE\nFROM $BASE\nARG WORD\nRUN echo built-$WORD > /built\nCMD [\"cat\", \"/built\"]\n",
    )
    .unwrap();
    let compose = format!(
        "name: b\nservices:\n  app:\n    build:\n      context: app\n      args: {{BASE: \"{img}\", WORD: w1}}\n"
    );
    std::fs::write(p.join("compose.yaml"), compose).unwrap();
    d.compose_ok(p, &["up", "-d"]);
    assert_eq!(d.docker_ok(&["images", "-q", "b-app"]).lines().count(), 1);
    d.compose_ok(p, &["wait", "app"]);
    let (logs, _) = d.compose_ok(p, &["logs", "--no-log-prefix", "app"]);
    assert_eq!(logs, "built-w1\n");
    let (_, progress) = d.compose_ok(p, &["up", "-d"]);
    assert!(!progress.contains("Recreate"), "an unchanged build is not rebuilt: {progress}");
    let (images, _) = d.compose_ok(p, &["images", "--format", "json"]);
    assert!(images.contains("\"Repository\":\"b-app\""), "{images}");
    d.compose_ok(p, &["down", "--rmi", "local"]);
    assert_eq!(d.docker_ok(&["images", "-q", "b-app"]), "");
}

/// `pid` and `ipc` shared with another service (`service:NAME`), and `cgroup`.
#[tokio::test]
async fn namespaces_shared_between_services() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.install_compose();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let compose = format!(
        r#"name: ns
services:
  app:
    image: {img}
    command: ["sh", "-c", "echo from-app > /dev/shm/note; exec sleep 1000"]
    ipc: shareable
    cgroup: private
  sidecar:
    image: {img}
    command: ["sleep", "1000"]
    pid: service:app
    ipc: service:app
    depends_on: [app]
"#
    );
    std::fs::write(p.join("compose.yaml"), compose).unwrap();
    d.compose_ok(p, &["up", "-d"]);
    let (seen, _) =
        d.compose_ok(p, &["exec", "-T", "sidecar", "sh", "-c", "cat /dev/shm/note; ps -o args | grep -c '^sleep'"]);
    assert_eq!(seen, "from-app\n2\n", "the app's /dev/shm and both sleeps in one PID namespace");
    let modes =
        d.docker_ok(&["inspect", "--format", "{{.HostConfig.IpcMode}} {{.HostConfig.CgroupnsMode}}", "ns-app-1"]);
    assert_eq!(modes.trim(), "shareable private");
    d.compose_ok(p, &["down", "-t", "0"]);
}
