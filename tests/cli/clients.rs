//! What other clients than the docker CLI rely on, as docker-py's own suite
//! found it: dockerd's timing of kill, paused and restarting states, exec
//! framing, field spellings, defaults in inspect, and the absence of swarm
//! and managed plugins.

use std::time::{Duration, Instant};

use berth_e2e::{engine_with_busybox, text, Berthd};

const JSON: [(&str, &str); 1] = [("Content-Type", "application/json")];

#[tokio::test]
async fn swarm_endpoints_answer_as_outside_a_swarm() {
    let d = Berthd::start();
    let leave = d.request("POST", "/swarm/leave?force=1", &[], b"");
    assert_eq!((leave.status, leave.message()), (503, "This node is not part of a swarm".to_string()));
    for (method, path) in
        [("GET", "/swarm"), ("GET", "/secrets/abc"), ("POST", "/services/create"), ("GET", "/nodes/x")]
    {
        let r = d.request(method, path, &[], b"");
        assert_eq!(r.status, 503, "{method} {path}");
        assert!(r.message().contains("not a swarm manager"), "{method} {path}: {}", r.message());
    }
    // The docker CLI's plugin commands, against an engine that runs no managed plugins.
    assert_eq!(d.docker_ok(&["plugin", "ls", "-q"]), "");
    let inspect = d.docker(&["plugin", "inspect", "vieux/sshfs"]);
    assert!(text(&inspect.stderr).contains("plugin \"vieux/sshfs\" not found"), "{}", text(&inspect.stderr));
    let install = d.docker(&["plugin", "install", "--grant-all-permissions", "vieux/sshfs"]);
    assert!(!install.status.success());
    assert!(text(&install.stderr).contains("managed plugins"), "{}", text(&install.stderr));
    assert_eq!(d.request("GET", "/plugins?filters=%7B%22colour%22%3A%5B%22x%22%5D%7D", &[], b"").status, 400);
}

#[tokio::test]
async fn states_timing_and_spellings_as_dockerd() {
    let (_reg, d, img) = engine_with_busybox().await;
    let state = |name: &str| {
        d.docker_ok(&["inspect", "--format", "{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}", name])
    };

    // Kill with SIGKILL answers once the container is gone.
    d.docker_ok(&["run", "-d", "--name", "victim", &img, "sleep", "300"]);
    assert_eq!(d.request("POST", "/containers/victim/kill", &[], b"").status, 204);
    assert_eq!(state("victim").trim(), "exited false 137");

    // Paused is still running; it is removed only by force, and then for good.
    d.docker_ok(&["run", "-d", "--name", "frozen", &img, "sleep", "300"]);
    d.docker_ok(&["pause", "frozen"]);
    let paused =
        d.docker_ok(&["inspect", "--format", "{{.State.Status}} {{.State.Running}} {{.State.Paused}}", "frozen"]);
    assert_eq!(paused.trim(), "paused true true");
    let refused = d.docker(&["rm", "frozen"]);
    assert!(text(&refused.stderr).contains("cannot remove a paused container"), "{}", text(&refused.stderr));
    let id = d.docker_ok(&["inspect", "--format", "{{.Id}}", "frozen"]).trim().to_string();
    d.docker_ok(&["rm", "-f", "frozen"]);
    let runc = std::process::Command::new("runc")
        .arg("--root")
        .arg(d.dir().join("runc"))
        .args(["state", &id])
        .output()
        .unwrap();
    assert!(!runc.status.success(), "the paused container outlived its removal");

    // Restarting: refused without force.
    d.docker_ok(&["run", "-d", "--name", "bouncy", "--restart", "always", &img, "sh", "-c", "exit 1"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !state("bouncy").starts_with("restarting") {
        assert!(Instant::now() < deadline, "never seen restarting");
        std::thread::sleep(Duration::from_millis(20));
    }
    let busy = d.request("DELETE", "/containers/bouncy", &[], b"");
    assert_eq!(busy.status, 409);
    assert!(busy.message().contains("container is restarting"), "{}", busy.message());
    d.docker_ok(&["rm", "-f", "bouncy"]);

    // Inspect names the runtime even when the request had no HostConfig.
    let body = format!(r#"{{"Image":"{img}","Cmd":["sleep","300"]}}"#);
    let created = d.request("POST", "/containers/create?name=plain", &JSON, body.as_bytes());
    assert_eq!(created.status, 201, "{}", text(&created.body));
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.HostConfig.Runtime}}", "plain"]).trim(), "runc");
    d.docker_ok(&["start", "plain"]);
    d.docker_ok(&["update", "--cpu-shares", "512", "plain"]);

    // An exec made with a terminal but started without one is framed, and
    // docker-py's `detachKeys` spelling is understood.
    let exec = r#"{"Cmd":["echo","hi"],"Tty":true,"AttachStdout":true,"detachKeys":"ctrl-x"}"#;
    let id =
        d.request("POST", "/containers/plain/exec", &JSON, exec.as_bytes()).json()["Id"].as_str().unwrap().to_string();
    assert_eq!(d.request("GET", &format!("/exec/{id}/json"), &[], b"").json()["DetachKeys"], "ctrl-x");
    let upgrade = [("Content-Type", "application/json"), ("Connection", "Upgrade"), ("Upgrade", "tcp")];
    let out = d.request("POST", &format!("/exec/{id}/start"), &upgrade, br#"{"Tty":false}"#);
    assert_eq!(out.status, 101);
    assert_eq!(&out.body[..8], b"\x01\x00\x00\x00\x00\x00\x00\x04", "{:?}", out.body);
    assert_eq!(&out.body[8..], b"hi\r\n");
    d.docker_ok(&["rm", "-f", "plain", "victim"]);

    // Endpoint settings are kept and shown: MAC address (also the old
    // top-level one), driver options, link-local addresses.
    d.docker_ok(&["network", "create", "--subnet", "10.99.42.0/24", "epnet"]);
    d.docker_ok(&[
        "create",
        "--name",
        "mac",
        "--network",
        "epnet",
        "--mac-address",
        "02:42:0a:63:2a:99",
        &img,
        "sleep",
        "300",
    ]);
    let mac = |name: &str, net: &str| {
        d.docker_ok(&["inspect", "--format", &format!("{{{{.NetworkSettings.Networks.{net}.MacAddress}}}}"), name])
    };
    assert_eq!(mac("mac", "epnet").trim(), "02:42:0a:63:2a:99");
    d.docker_ok(&["start", "mac"]);
    assert!(d.docker_ok(&["exec", "mac", "ip", "link", "show", "eth0"]).contains("02:42:0a:63:2a:99"));
    let body = format!(r#"{{"Image":"{img}","Cmd":["true"],"MacAddress":"02:42:0a:63:2a:98"}}"#);
    assert_eq!(d.request("POST", "/containers/create?name=oldmac", &JSON, body.as_bytes()).status, 201);
    assert_eq!(mac("oldmac", "bridge").trim(), "02:42:0a:63:2a:98");
    // docker-py sends a healthcheck's unset fields as null.
    let body = format!(
        r#"{{"Image":"{img}","Cmd":["true"],"Healthcheck":{{"Test":["CMD-SHELL","true"],"Interval":null,"Timeout":null,"Retries":null,"StartPeriod":null}}}}"#
    );
    assert_eq!(d.request("POST", "/containers/create?name=nullhc", &JSON, body.as_bytes()).status, 201);
    let test = d.docker_ok(&["inspect", "--format", "{{json .Config.Healthcheck.Test}}", "nullhc"]);
    assert_eq!(test.trim(), r#"["CMD-SHELL","true"]"#);
    d.docker_ok(&["create", "--name", "opts", &img, "sleep", "300"]);
    d.docker_ok(&["network", "connect", "--driver-opt", "k=v", "--link-local-ip", "169.254.8.8", "epnet", "opts"]);
    let shown = |format: &str| d.docker_ok(&["inspect", "--format", format, "opts"]).trim().to_string();
    assert_eq!(shown("{{json .NetworkSettings.Networks.epnet.DriverOpts}}"), r#"{"k":"v"}"#);
    assert_eq!(shown("{{json .NetworkSettings.Networks.bridge.DriverOpts}}"), "null");
    assert_eq!(shown("{{json .NetworkSettings.Networks.epnet.IPAMConfig.LinkLocalIPs}}"), r#"["169.254.8.8"]"#);
    d.docker_ok(&["rm", "-f", "mac", "oldmac", "opts", "nullhc"]);
}
