//! Attaching with the real docker CLI in a terminal: detach keys leave the
//! container running; and the API's log replay (`logs=1`) for clients such
//! as docker-py, and over a websocket (`attach/ws`).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use berth_e2e::{engine_with_busybox, text, Berthd};

/// Runs `docker ARGS` in a terminal, types `input` after a moment, and
/// returns whether the CLI succeeded and what the terminal showed.
fn type_into(d: &Berthd, args: &str, input: &[u8]) -> (bool, String) {
    let cmd = format!("{} {args}", berth_e2e::docker_cli());
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("DOCKER_HOST", d.host())
        .env("DOCKER_CONFIG", d.docker_config())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run script");
    std::thread::sleep(Duration::from_millis(1000));
    let mut stdin = child.stdin.take().unwrap();
    for chunk in input.split_inclusive(|b| *b == b'\n') {
        stdin.write_all(chunk).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "docker {args} did not detach");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (out.status.success(), text(&out.stdout))
}

#[tokio::test]
async fn detach_keys_leave_the_container_running() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "-dit", "--name", "shell", &img, "sh"]);
    // Typed input reaches the shell; ctrl-p ctrl-q detaches.
    let (ok, screen) = type_into(&d, "attach shell", b"echo typed-$((40+2))\n\x10\x11");
    // The CLI says so and exits 1, as it does with dockerd.
    assert!(!ok && screen.contains("read escape sequence"), "{screen}");
    assert!(screen.contains("typed-42"), "{screen}");
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.Running}}", "shell"]).trim(), "true");
    // Other keys when asked for; the defaults then pass through as typed.
    let (ok, screen) = type_into(&d, "attach --detach-keys ctrl-x,x shell", b"echo again\n\x18x");
    assert!(!ok && screen.contains("again") && screen.contains("read escape sequence"), "{screen}");
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.Running}}", "shell"]).trim(), "true");
    let upgrade = [("Connection", "Upgrade"), ("Upgrade", "tcp")];
    let bad = d.request("POST", "/containers/shell/attach?stdin=1&stream=1&detachKeys=ctrl-", &upgrade, b"");
    assert_eq!((bad.status, bad.message()), (400, "Invalid detach keys (ctrl-) provided".to_string()));

    // An exec detaches the same way, its process left running.
    let (ok, screen) = type_into(&d, "exec -it shell sh -c 'echo in-exec; exec sleep 300'", b"\x10\x11");
    assert!(!ok && screen.contains("in-exec") && screen.contains("read escape sequence"), "{screen}");
    let top = d.docker_ok(&["top", "shell"]);
    assert!(top.contains("sleep 300"), "{top}");

    // `docker run -it`, detached from at once, keeps running too.
    let run = format!("run -it --name fresh {img} sh");
    let (ok, screen) = type_into(&d, &run, b"echo hi-there\n\x10\x11");
    // `run` takes the detach as a normal end.
    assert!(ok && screen.contains("hi-there"), "{screen}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.State.Running}}", "fresh"]).trim(), "true");
    d.docker_ok(&["rm", "-f", "shell", "fresh"]);
}

#[tokio::test]
async fn attach_replays_logs_without_streaming() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "--name", "said", &img, "sh", "-c", "echo hello; sleep 0.2; echo oops >&2"]);
    let upgrade = [("Connection", "Upgrade"), ("Upgrade", "tcp")];
    let r = d.request("POST", "/containers/said/attach?logs=1&stdout=1&stderr=1&stream=0", &upgrade, b"");
    assert_eq!(r.status, 101);
    // Multiplexed: a stdout frame, then a stderr frame.
    assert_eq!(r.body, b"\x01\x00\x00\x00\x00\x00\x00\x06hello\n\x02\x00\x00\x00\x00\x00\x00\x05oops\n");
    let only_out = d.request("POST", "/containers/said/attach?logs=1&stdout=1&stream=0", &upgrade, b"");
    assert_eq!(only_out.body, b"\x01\x00\x00\x00\x00\x00\x00\x06hello\n");
    // Neither logs nor stream: nothing, at once.
    let nothing = d.request("POST", "/containers/said/attach?stdout=1", &upgrade, b"");
    assert!(nothing.body.is_empty());
}

/// A websocket client on the engine's socket, as docker-py's `attach_socket(ws=True)`.
fn websocket(d: &Berthd, path: &str) -> tungstenite::WebSocket<std::os::unix::net::UnixStream> {
    let stream = std::os::unix::net::UnixStream::connect(d.socket()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (ws, response) = tungstenite::client(format!("ws://localhost{path}"), stream).expect("websocket handshake");
    assert_eq!(response.status(), 101);
    ws
}

/// Every message until the engine closes: whether each was binary, and
/// their payloads joined.
fn messages(ws: &mut tungstenite::WebSocket<std::os::unix::net::UnixStream>) -> (Vec<bool>, String) {
    use tungstenite::Message;
    let (mut kinds, mut all) = (Vec::new(), Vec::new());
    loop {
        match ws.read() {
            Ok(Message::Binary(b)) => (kinds.push(true), all.extend_from_slice(&b)),
            Ok(Message::Text(t)) => (kinds.push(false), all.extend_from_slice(t.as_bytes())),
            Ok(Message::Close(_)) | Err(tungstenite::Error::ConnectionClosed) => return (kinds, text(&all)),
            Ok(_) => continue,
            Err(e) => panic!("websocket: {e} after {:?}", text(&all)),
        };
    }
}

#[tokio::test]
async fn attach_over_a_websocket() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["create", "-i", "--name", "echoer", &img, "sh", "-c", "read l; echo got:$l; echo warn >&2"]);
    let mut ws = websocket(&d, "/v1.50/containers/echoer/attach/ws?stdin=1&stdout=1&stderr=1&stream=1");
    d.docker_ok(&["start", "echoer"]);
    ws.send(tungstenite::Message::binary(&b"hello\n"[..])).unwrap();
    // Raw bytes, never multiplexed, in binary messages from API 1.42 on.
    let (kinds, said) = messages(&mut ws);
    assert!(!kinds.is_empty() && kinds.iter().all(|binary| *binary), "{kinds:?}");
    // stdout and stderr are two pipes: their order is the reader's.
    let mut lines: Vec<&str> = said.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["got:hello", "warn"], "{said:?}");
    assert_eq!(d.docker_ok(&["wait", "echoer"]).trim(), "0");

    // Older clients get text messages; logs=1 replays what was written.
    let mut old = websocket(&d, "/v1.41/containers/echoer/attach/ws?logs=1&stdout=1");
    let (kinds, said) = messages(&mut old);
    assert!(!kinds.is_empty() && kinds.iter().all(|binary| !*binary), "{kinds:?}");
    assert_eq!(said, "got:hello\n");

    // Errors come before any handshake, as JSON.
    let missing = d.request("GET", "/containers/nope/attach/ws?stdout=1", &[], b"");
    assert_eq!((missing.status, missing.message()), (404, "No such container: nope".to_string()));
    let plain = d.request("GET", "/containers/echoer/attach/ws?stdout=1", &[], b"");
    assert_eq!(plain.status, 400, "{}", plain.message());
}
