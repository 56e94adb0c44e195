//! Containers with the real docker CLI: run, exit codes, stdio, TTY,
//! detached containers with logs/stop/kill/wait, names, removal, and an
//! engine crash with containers running.

use std::process::Stdio;
use std::time::Duration;

use berth_e2e::{engine_with_busybox, text};

#[tokio::test]
async fn run_prints_output_and_returns_exit_codes() {
    let (_reg, d, img) = engine_with_busybox().await;
    assert_eq!(d.docker_ok(&["run", "--rm", &img, "echo", "hello", "berth"]), "hello berth\n");

    let out = d.docker(&["run", "--name", "three", &img, "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stdout), "out\n");
    assert_eq!(text(&out.stderr), "err\n");
    let ps = d.docker_ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    assert!(ps.starts_with("three Exited (3)"), "{ps}");
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.ExitCode}} {{.State.Status}}", "three"]), "3 exited\n");

    // --rm leaves nothing behind.
    assert_eq!(d.docker_ok(&["ps", "-a", "-q"]).lines().count(), 1);

    let bad = d.docker(&["run", "--rm", &img, "no-such-command"]);
    assert_eq!(bad.status.code(), Some(127), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("executable file not found"), "{}", text(&bad.stderr));

    let info = d.docker_ok(&["info", "--format", "{{.Containers}} {{.ContainersStopped}}"]);
    assert_eq!(info.trim(), "1 1");
    let df = d.docker_ok(&["system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"]);
    assert!(df.contains("Containers 1 0"), "{df}");
    let images = d.docker_ok(&["system", "df", "-v", "--format", "{{range .Containers}}{{.Names}}{{end}}"]);
    assert_eq!(images.trim(), "three");
}

#[tokio::test]
async fn stdin_env_workdir_and_user() {
    let (_reg, d, img) = engine_with_busybox().await;
    let mut child = d
        .docker_cmd()
        .args(["run", "-i", "--rm", &img, "sh", "-c", "cat; echo done"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"from stdin\n").unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "from stdin\ndone\n");

    let out =
        d.docker_ok(&["run", "--rm", "-e", "GREETING=ahoy", "-w", "/tmp", &img, "sh", "-c", "echo $GREETING $(pwd)"]);
    assert_eq!(out, "ahoy /tmp\n");
    assert_eq!(d.docker_ok(&["run", "--rm", "--user", "nobody", &img, "id", "-u"]), "65534\n");
    assert_eq!(
        d.docker_ok(&["run", "--rm", "--user", "1234:5678", &img, "sh", "-c", "echo $(id -u) $(id -g)"]),
        "1234 5678\n"
    );
    let ro = d.docker(&["run", "--rm", "--read-only", &img, "touch", "/x"]);
    assert!(!ro.status.success());
    assert!(text(&ro.stderr).contains("Read-only file system"), "{}", text(&ro.stderr));
    let hostname = d.docker_ok(&["run", "--rm", "--hostname", "berthbox", &img, "hostname"]);
    assert_eq!(hostname, "berthbox\n");
}

#[tokio::test]
async fn tty_runs_with_a_real_pty() {
    let (_reg, d, img) = engine_with_busybox().await;
    let out = d.docker_in_tty(&format!("run -t --rm {img} sh -c 'tty; echo in-tty; exit 5'"));
    let s = text(&out.stdout);
    assert!(s.contains("/dev/pts/"), "{s}");
    assert!(s.contains("in-tty"), "{s}");
    assert_eq!(out.status.code(), Some(5), "{s}");
}

#[tokio::test]
async fn detached_logs_stop_kill_wait_and_remove() {
    let (_reg, d, img) = engine_with_busybox().await;
    let id =
        d.docker_ok(&["run", "-d", "--name", "ticker", &img, "sh", "-c", "while true; do echo tick; sleep 0.1; done"]);
    let id = id.trim();
    assert_eq!(id.len(), 64);
    std::thread::sleep(Duration::from_millis(500));
    let logs = d.docker_ok(&["logs", "ticker"]);
    assert!(logs.lines().count() >= 2 && logs.lines().all(|l| l == "tick"), "{logs}");
    assert_eq!(d.docker_ok(&["logs", "--tail", "1", "ticker"]), "tick\n");
    let stamped = d.docker_ok(&["logs", "-t", "--tail", "1", "ticker"]);
    assert!(stamped.contains("T") && stamped.trim_end().ends_with(" tick"), "{stamped}");
    let ps = d.docker_ok(&["ps", "--format", "{{.ID}} {{.Names}} {{.Status}}"]);
    assert!(ps.starts_with(&format!("{} ticker Up", &id[..12])), "{ps}");

    // Removing a running container needs force.
    let busy = d.docker(&["rm", "ticker"]);
    assert!(text(&busy.stderr).contains("You cannot remove a running container"), "{}", text(&busy.stderr));

    // `logs -f` follows until the container stops; sh ignores SIGTERM, so
    // stop falls back to SIGKILL after the timeout.
    let follow = d.docker_cmd().args(["logs", "-f", "--tail", "0", "ticker"]).stdout(Stdio::piped()).spawn().unwrap();
    d.docker_ok(&["stop", "-t", "1", "ticker"]);
    let followed = follow.wait_with_output().unwrap();
    assert!(followed.status.success());
    assert_eq!(d.docker_ok(&["wait", "ticker"]), "137\n");
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.ExitCode}} {{.State.Running}}", id]), "137 false\n");
    // Stopping a stopped container is not an error for the CLI (304).
    let r = d.request("POST", &format!("/containers/{id}/stop"), &[], b"");
    assert_eq!(r.status, 304);

    // A trap turns SIGTERM into an exit code; docker kill picks the signal.
    d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "trapper",
        &img,
        "sh",
        "-c",
        "trap 'exit 42' TERM; while true; do sleep 0.1; done",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    d.docker_ok(&["kill", "-s", "TERM", "trapper"]);
    assert_eq!(d.docker_ok(&["wait", "trapper"]), "42\n");

    d.docker_ok(&["rm", "ticker", "trapper"]);
    let gone = d.docker(&["inspect", "ticker"]);
    assert!(
        text(&gone.stderr).contains("No such object: ticker") || text(&gone.stderr).contains("No such container"),
        "{}",
        text(&gone.stderr)
    );
    let r = d.request("GET", &format!("/containers/{id}/json"), &[], b"");
    assert_eq!((r.status, r.message()), (404, format!("No such container: {id}")));
}

#[tokio::test]
async fn names_images_and_bad_requests() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["create", "--name", "web", &img, "true"]);
    let dup = d.docker(&["create", "--name", "web", &img, "true"]);
    assert!(text(&dup.stderr).contains("The container name \"/web\" is already in use"), "{}", text(&dup.stderr));
    let bad = d.docker(&["create", "--name", "-bad", &img, "true"]);
    assert!(text(&bad.stderr).contains("Invalid container name"), "{}", text(&bad.stderr));

    let r = d.request("POST", "/containers/create", &[("Content-Type", "application/json")], br#"{"Image":"nope:1"}"#);
    assert_eq!((r.status, r.message()), (404, "No such image: nope:1".to_string()));
    let r = d.request("POST", "/containers/create", &[("Content-Type", "application/json")], b"{\"Image\": ");
    assert_eq!(r.status, 400);
    assert!(r.message().starts_with("invalid JSON in request body"), "{}", r.message());
    let r = d.request("POST", "/containers/create", &[("Content-Type", "application/json")], br#"{"Image": 7}"#);
    assert_eq!(r.status, 400);

    // The image is in use: rmi of its only name refuses; a second name can go, the image keeps the first.
    let refused = d.docker(&["rmi", &img]);
    assert!(text(&refused.stderr).contains("is using its referenced image"), "{}", text(&refused.stderr));
    d.docker_ok(&["tag", &img, "second/name:1"]);
    assert_eq!(d.docker_ok(&["rmi", "second/name:1"]).trim(), "Untagged: second/name:1");
    d.docker_ok(&["rm", "web"]);
    d.docker_ok(&["rmi", &img]);
}

#[tokio::test]
async fn lifecycle_events_in_order() {
    let (_reg, d, img) = engine_with_busybox().await;
    let since = berth_e2e::unix_now().to_string();
    d.docker_ok(&["run", "--rm", "--name", "evented", &img, "true"]);
    let until = (berth_e2e::unix_now() + 1).to_string();
    let events = d.docker_ok(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "container=evented",
        "--format",
        "{{.Action}}",
    ]);
    let actions: Vec<&str> = events.lines().collect();
    assert_eq!(actions, ["create", "start", "die", "destroy"], "{events}");

    // Out of memory: killed by the kernel, said in inspect and as an event before `die`.
    let since = berth_e2e::unix_now().to_string();
    let hog = d.docker(&["run", "--name", "hog", "-m", "8m", "--memory-swap", "8m", &img, "tail", "/dev/zero"]);
    assert_eq!(hog.status.code(), Some(137));
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.OOMKilled}}", "hog"]).trim(), "true");
    let until = (berth_e2e::unix_now() + 1).to_string();
    let args = ["events", "--since", &since, "--until", &until, "--filter", "container=hog", "--format", "{{.Action}}"];
    let events = d.docker_ok(&args);
    assert!(events.contains("oom\ndie\n"), "{events}");
}

#[tokio::test]
async fn containers_survive_an_engine_crash() {
    let (_reg, mut d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "-d", "--name", "survivor", &img, "sh", "-c", "while true; do echo alive; sleep 0.2; done"]);
    d.docker_ok(&["run", "-d", "--name", "quitter", &img, "sh", "-c", "sleep 1; exit 7"]);
    let pid = d.docker_ok(&["inspect", "--format", "{{.State.Pid}}", "survivor"]);
    d.crash_and_restart();
    std::thread::sleep(Duration::from_millis(1500));
    let ps = d.docker_ok(&["ps", "--format", "{{.Names}}"]);
    assert_eq!(ps.trim(), "survivor");
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.Pid}}", "survivor"]), pid);
    // The one that ended while the engine was down has its real exit code.
    assert_eq!(d.docker_ok(&["wait", "quitter"]), "7\n");
    // Logs and stop still work through the reattached shim.
    assert!(d.docker_ok(&["logs", "--tail", "1", "survivor"]).contains("alive"));
    d.docker_ok(&["stop", "-t", "1", "survivor"]);
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.Status}}", "survivor"]), "exited\n");
}

#[tokio::test]
async fn exec_runs_in_the_container() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "-d", "--name", "host", "-e", "FROM_RUN=yes", &img, "sleep", "100"]);
    assert_eq!(d.docker_ok(&["exec", "host", "echo", "exec-out"]), "exec-out\n");
    let out = d.docker(&["exec", "host", "sh", "-c", "echo err >&2; exit 4"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(text(&out.stderr), "err\n");
    let out = d.docker_ok(&[
        "exec",
        "-e",
        "EXTRA=1",
        "-w",
        "/tmp",
        "-u",
        "nobody",
        "host",
        "sh",
        "-c",
        "echo $FROM_RUN $EXTRA $(pwd) $(id -u)",
    ]);
    assert_eq!(out, "yes 1 /tmp 65534\n");

    let mut child = d
        .docker_cmd()
        .args(["exec", "-i", "host", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"through exec\n").unwrap();
    drop(child.stdin.take());
    assert_eq!(text(&child.wait_with_output().unwrap().stdout), "through exec\n");

    let out = d.docker_in_tty("exec -it host sh -c 'tty; exit 2'");
    assert!(text(&out.stdout).contains("/dev/pts/"), "{}", text(&out.stdout));
    assert_eq!(out.status.code(), Some(2));

    let bad = d.docker(&["exec", "host", "no-such-command"]);
    assert_eq!(bad.status.code(), Some(127));
    assert!(text(&bad.stdout).contains("executable file not found"), "{}", text(&bad.stdout));

    d.docker_ok(&["exec", "-d", "host", "sleep", "1"]);
    let ids = d.docker_ok(&["inspect", "--format", "{{len .ExecIDs}}", "host"]);
    assert_eq!(ids.trim(), "1", "a running exec is listed");
    d.docker_ok(&["exec", "-d", "host", "sh", "-c", "echo detached > /tmp/marker"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(d.docker_ok(&["exec", "host", "cat", "/tmp/marker"]), "detached\n");

    d.docker_ok(&["stop", "-t", "0", "host"]);
    let stopped = d.docker(&["exec", "host", "true"]);
    assert!(text(&stopped.stderr).contains("is not running"), "{}", text(&stopped.stderr));
}

#[tokio::test]
async fn restart_pause_rename_top_stats_and_prune() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "-d", "--name", "worker", "--memory", "64m", "--pids-limit", "50", &img, "sleep", "300"]);
    let pid1 = d.docker_ok(&["inspect", "--format", "{{.State.Pid}}", "worker"]);
    d.docker_ok(&["restart", "-t", "0", "worker"]);
    let pid2 = d.docker_ok(&["inspect", "--format", "{{.State.Pid}} {{.State.Running}}", "worker"]);
    assert_ne!(pid1.trim(), pid2.split(' ').next().unwrap());
    assert!(pid2.trim().ends_with("true"), "{pid2}");

    d.docker_ok(&["pause", "worker"]);
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.Status}}", "worker"]), "paused\n");
    let ps = d.docker_ok(&["ps", "--format", "{{.Status}}"]);
    assert!(ps.starts_with("Up ") && ps.trim().ends_with("(Paused)"), "{ps}");
    d.docker_ok(&["unpause", "worker"]);
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.Status}}", "worker"]), "running\n");

    d.docker_ok(&["rename", "worker", "renamed"]);
    assert!(d.docker(&["inspect", "worker"]).status.code() != Some(0));
    let top = d.docker_ok(&["top", "renamed"]);
    assert!(top.contains("sleep 300"), "{top}");

    let stats = d.docker_ok(&["stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "renamed"]);
    assert!(stats.starts_with("renamed "), "{stats}");
    assert!(stats.contains("/ 64MiB"), "memory limit not applied: {stats}");
    assert!(stats.trim().ends_with(" 1"), "{stats}");

    // A CPU quota shows up as throttling of a busy container.
    d.docker_ok(&["run", "-d", "--name", "busy", "--cpus", "0.2", &img, "sh", "-c", "while true; do :; done"]);
    std::thread::sleep(Duration::from_millis(800));
    let r = d.request("GET", "/containers/busy/stats?stream=false&one-shot=true", &[], b"");
    let periods = r.json()["cpu_stats"]["throttling_data"]["periods"].as_u64().unwrap();
    assert!(periods > 0, "{}", String::from_utf8_lossy(&r.body));
    // Its own interface, counted from inside its namespace.
    let eth0 = &r.json()["networks"]["eth0"];
    assert!(eth0["rx_bytes"].is_u64() && eth0["tx_dropped"].is_u64(), "{}", String::from_utf8_lossy(&r.body));
    d.docker_ok(&["rm", "-f", "busy"]);

    d.docker_ok(&["run", "--name", "done1", &img, "true"]);
    d.docker_ok(&["create", "--name", "never", &img, "true"]);
    let pruned = d.docker_ok(&["container", "prune", "-f"]);
    assert_eq!(pruned.lines().filter(|l| l.len() == 64).count(), 2, "{pruned}");
    assert_eq!(d.docker_ok(&["ps", "-a", "--format", "{{.Names}}"]).trim(), "renamed");
}

#[tokio::test]
async fn restart_policies() {
    let (_reg, mut d, img) = engine_with_busybox().await;
    // on-failure:2 → runs three times in all, then stays down.
    d.docker_ok(&["run", "-d", "--name", "flaky", "--restart", "on-failure:2", &img, "sh", "-c", "exit 3"]);
    // always: comes back after exiting, and after the engine restarts.
    d.docker_ok(&["run", "-d", "--name", "steady", "--restart", "always", &img, "sh", "-c", "sleep 0.3"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let out = d.docker_ok(&["inspect", "--format", "{{.RestartCount}} {{.State.Status}}", "flaky"]);
        if out.trim() == "2 exited" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "flaky ended as {out}");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(800));
    let count: u64 = d.docker_ok(&["inspect", "--format", "{{.RestartCount}}", "steady"]).trim().parse().unwrap();
    assert!(count >= 1, "always did not restart");
    // Stopped by hand: stays stopped.
    d.docker_ok(&["stop", "-t", "0", "steady"]);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.Status}}", "steady"]), "exited\n");

    d.docker_ok(&["run", "-d", "--name", "daemonic", "--restart", "always", &img, "sleep", "300"]);
    d.docker_ok(&["stop", "-t", "0", "daemonic"]);
    d.docker_ok(&["start", "daemonic"]);
    d.docker_ok(&["kill", "daemonic"]);
    let _ = d.docker(&["wait", "daemonic"]);
    // Killed by hand is stopped by hand; the engine restart brings back only
    // `always` containers that were running.
    d.docker_ok(&["start", "daemonic"]);
    d.crash_and_restart();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.Status}}", "daemonic"]), "running\n");
    let both = d.docker(&["run", "--rm", "--restart", "always", &img, "true"]);
    assert!(text(&both.stderr).contains("conflicting options"), "{}", text(&both.stderr));
}

#[tokio::test]
async fn network_modes_host_none_and_container() {
    let (_reg, d, img) = engine_with_busybox().await;
    // A container's own namespace has loopback up and nothing else.
    let links = d.docker_ok(&["run", "--rm", "--network", "none", &img, "ip", "-o", "link"]);
    assert_eq!(links.lines().count(), 1, "{links}");
    assert!(links.contains("lo:") && links.contains("UP"), "{links}");
    // The host's namespace shows the host's interfaces and name.
    let host_links = d.docker_ok(&["run", "--rm", "--network", "host", &img, "ip", "-o", "link"]);
    assert!(host_links.lines().count() > 1, "{host_links}");
    let name = d.docker_ok(&["run", "--rm", "--network", "host", &img, "hostname"]);
    assert_eq!(name.trim(), nix::unistd::gethostname().unwrap().to_string_lossy());
    // container:NAME shares the other's namespace: a listener there is reachable.
    d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "server",
        "--network",
        "none",
        &img,
        "nc",
        "-l",
        "-p",
        "7000",
        "-e",
        "echo",
        "pong",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let reply = d.docker_ok(&[
        "run",
        "--rm",
        "--network",
        "container:server",
        &img,
        "sh",
        "-c",
        "nc 127.0.0.1 7000 </dev/null",
    ]);
    assert_eq!(reply.trim(), "pong");
    let missing = d.docker(&["run", "--rm", "--network", "nonet", &img, "true"]);
    assert!(text(&missing.stderr).contains("network nonet not found"), "{}", text(&missing.stderr));
}

#[tokio::test]
async fn healthchecks_reach_healthy_and_unhealthy() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "fine",
        "--health-cmd",
        "test -f /tmp/ready",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        &img,
        "sh",
        "-c",
        "sleep 0.5; touch /tmp/ready; sleep 300",
    ]);
    d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "sick",
        "--health-cmd",
        "exit 1",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        &img,
        "sleep",
        "300",
    ]);
    let wait_for = |name: &str, want: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let s = d.docker_ok(&["inspect", "--format", "{{.State.Health.Status}}", name]);
            if s.trim() == want {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{name} stayed {s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("fine", "healthy");
    wait_for("sick", "unhealthy");
    let ps = d.docker_ok(&["ps", "--filter", "health=healthy", "--format", "{{.Names}} {{.Status}}"]);
    assert!(ps.starts_with("fine Up") && ps.trim().ends_with("(healthy)"), "{ps}");
    let log = d.docker_ok(&["inspect", "--format", "{{(index .State.Health.Log 0).ExitCode}}", "sick"]);
    assert_eq!(log.trim(), "1");
    let until = (berth_e2e::unix_now() + 1).to_string();
    let events = d.docker_ok(&[
        "events",
        "--since",
        "1m",
        "--until",
        &until,
        "--filter",
        "event=health_status",
        "--format",
        "{{.Action}}",
    ]);
    assert!(events.contains("health_status: healthy") && events.contains("health_status: unhealthy"), "{events}");
    d.docker_ok(&["rm", "-f", "fine", "sick"]);
}

#[tokio::test]
async fn finer_host_settings_reach_the_container() {
    let (_reg, d, img) = engine_with_busybox().await;
    let out = d.docker_ok(&[
        "run",
        "--rm",
        "--shm-size",
        "16m",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "--sysctl",
        "kernel.shmmax=123456789",
        "--ulimit",
        "nofile=512:1024",
        "--group-add",
        "4321",
        "--security-opt",
        "no-new-privileges",
        "--oom-score-adj",
        "345",
        "--cpuset-cpus",
        "0",
        "--device",
        "/dev/null:/dev/berth-null:rw",
        &img,
        "sh",
        "-c",
        "df -k /dev/shm | tail -1; cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; ulimit -n; ulimit -Hn; \
         id -G; grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj; grep Cpus_allowed_list /proc/self/status; \
         echo written > /dev/berth-null && ls -l /dev/berth-null",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].split_whitespace().nth(1) == Some("16384"), "shm: {out}");
    assert_eq!(&lines[1..5], ["1", "123456789", "512", "1024"], "{out}");
    assert!(lines[5].split_whitespace().any(|g| g == "4321"), "groups: {out}");
    assert!(lines[6].ends_with("\t1"), "no_new_privs: {out}");
    assert_eq!(lines[7], "345");
    assert!(lines[8].ends_with("\t0"), "cpuset: {out}");
    assert!(lines[9].starts_with('c'), "device: {out}");

    // CFS quota, memory reservation and swap land in the container's cgroup (v1 names, else v2).
    let out = d.docker_ok(&[
        "run",
        "--rm",
        "--memory",
        "64m",
        "--memory-swap",
        "128m",
        "--memory-reservation",
        "32m",
        "--cpu-quota",
        "50000",
        "--cpu-period",
        "100000",
        &img,
        "sh",
        "-c",
        "cd /sys/fs/cgroup; cat memory/memory.soft_limit_in_bytes memory/memory.memsw.limit_in_bytes \
         cpu/cpu.cfs_quota_us 2>/dev/null || cat memory.low memory.swap.max cpu.max",
    ]);
    let got: Vec<&str> = out.split_whitespace().collect();
    assert!(
        got == ["33554432", "134217728", "50000"] || got == ["33554432", "67108864", "50000", "100000"],
        "cgroup values: {out}"
    );

    // Inspect tells what was asked, with dockerd's default shm size when none was.
    d.docker_ok(&["create", "--name", "plain", &img, "true"]);
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.HostConfig.ShmSize}}", "plain"]).trim(), "67108864");

    // What cannot be honoured is refused at create, in dockerd's words where it has them.
    for (args, message) in [
        (vec!["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"], "not allowed in the host's network namespace"),
        (vec!["--device", "/dev/berth-does-not-exist"], "error gathering device information"),
        (vec!["--cpuset-cpus", "0-64"], "Requested CPUs are not available"),
        (vec!["--ulimit", "nofile=1:999999999999"], "above the engine's own hard limit"),
        (vec!["--security-opt", "apparmor=docker-default"], "does not apply apparmor profiles"),
        (vec!["--group-add", "no-such-group"], "Unable to find group no-such-group"),
    ] {
        let mut cmd = vec!["run", "--rm"];
        cmd.extend(args.iter().copied());
        cmd.extend([img.as_str(), "true"]);
        let out = d.docker(&cmd);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(text(&out.stderr).contains(message), "{args:?}: {}", text(&out.stderr));
    }
    // The CLI checks sysctl names itself; the API must too.
    let body = format!(r#"{{"Image":"{img}","HostConfig":{{"Sysctls":{{"vm.swappiness":"1"}}}}}}"#);
    let r = d.request("POST", "/containers/create", &[("Content-Type", "application/json")], body.as_bytes());
    assert_eq!((r.status, r.message()), (400, "sysctl 'vm.swappiness' is not whitelisted".to_string()));
}

#[tokio::test]
async fn update_changes_limits_of_a_running_container() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "-d", "--name", "up", "--memory", "64m", &img, "sleep", "1000"]);
    let limits = "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us 2>/dev/null || cat memory.max cpu.max";
    let read =
        || d.docker_ok(&["exec", "up", "sh", "-c", limits]).split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    let before = read();
    assert!(before == "67108864 -1" || before == "67108864 max", "{before}");

    let out = d.docker_ok(&[
        "update",
        "--memory",
        "128m",
        "--memory-swap",
        "256m",
        "--cpus",
        "0.5",
        "--restart",
        "on-failure:3",
        "up",
    ]);
    assert_eq!(out.trim(), "up");
    assert_eq!(read(), "134217728 50000");
    let inspect = d.docker_ok(&[
        "inspect",
        "--format",
        "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
        "up",
    ]);
    assert_eq!(inspect.trim(), "134217728 268435456 500000000 on-failure:3");
    // The new limits are the container's own now: a restart keeps them.
    d.docker_ok(&["restart", "-t", "0", "up"]);
    assert_eq!(read(), "134217728 50000");

    // dockerd's refusals.
    d.docker_ok(&["run", "-d", "--rm", "--name", "gone-soon", &img, "sleep", "1000"]);
    let out = d.docker(&["update", "--restart", "always", "gone-soon"]);
    assert!(
        text(&out.stderr).contains("Restart policy cannot be updated because AutoRemove is enabled for the container"),
        "{}",
        text(&out.stderr)
    );
    let out = d.docker(&["update", "--memory", "300m", "up"]);
    assert!(
        text(&out.stderr).contains("Memory limit should be smaller than already set memoryswap limit"),
        "{}",
        text(&out.stderr)
    );
    let out = d.docker(&["update", "--memory", "64m", "nope"]);
    assert!(text(&out.stderr).contains("No such container: nope"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn sizes_with_ps_s_and_inspect_size() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "--name", "sized", &img, "sh", "-c", "head -c 100000 /dev/zero > /big"]);
    let rw: i64 = d.docker_ok(&["inspect", "--size", "--format", "{{.SizeRw}}", "sized"]).trim().parse().unwrap();
    let root: i64 = d.docker_ok(&["inspect", "--size", "--format", "{{.SizeRootFs}}", "sized"]).trim().parse().unwrap();
    assert!((100_000..200_000).contains(&rw), "SizeRw {rw}");
    assert!(root > rw + 1_000_000, "SizeRootFs {root} should add the image");
    let ps = d.docker_ok(&["ps", "-a", "-s", "--format", "{{.Size}}"]);
    assert!(ps.trim().starts_with("100kB (virtual "), "{ps}");
    // Without asking, no sizes are computed or shown.
    let plain = d.request("GET", "/containers/sized/json", &[], b"");
    assert!(plain.json().get("SizeRw").is_none());
}

#[tokio::test]
async fn init_runs_as_pid_one_and_forwards_signals() {
    let (reg, d, img) = engine_with_busybox().await;
    let pid1 = d.docker_ok(&["run", "--rm", "--init", &img, "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline"]);
    assert!(pid1.starts_with("/sbin/docker-init -- sh -c"), "{pid1}");
    let exit = d.docker(&["run", "--rm", "--init", &img, "sh", "-c", "exit 7"]);
    assert_eq!(exit.status.code(), Some(7));
    // Orphans are reaped: no zombie is left once its parent is gone.
    let ps = d.docker_ok(&["run", "--rm", "--init", &img, "sh", "-c", "sh -c 'sleep 0.1 &'; sleep 0.6; ps -o stat"]);
    assert!(!ps.lines().any(|l| l.trim().starts_with('Z')), "{ps}");
    // `sleep` as PID 1 would ignore SIGTERM; behind the init it stops at once.
    d.docker_ok(&["run", "-d", "--init", "--name", "inited", &img, "sleep", "300"]);
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.HostConfig.Init}}", "inited"]).trim(), "true");
    let started = std::time::Instant::now();
    d.docker_ok(&["stop", "-t", "10", "inited"]);
    assert!(started.elapsed() < Duration::from_secs(5), "stop took {:?}", started.elapsed());
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.ExitCode}}", "inited"]).trim(), "143");

    // The engine's default (daemon.json `init`), which a container may turn down.
    let d2 = berth_e2e::Berthd::start_with(&[], r#"{"init": true}"#);
    d2.docker_ok(&["pull", "-q", &img]);
    let pid1 = d2.docker_ok(&["run", "--rm", &img, "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline"]);
    assert!(pid1.starts_with("/sbin/docker-init --"), "{pid1}");
    let own = d2.docker_ok(&["run", "--rm", "--init=false", &img, "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline"]);
    // (sh execs its one command, which becomes PID 1 itself.)
    assert!(own.starts_with("tr "), "{own}");
    assert_eq!(d2.docker_ok(&["info", "--format", "{{.InitBinary}}"]).trim(), "berth-init");
    drop(reg);
}
