//! Private registries with the real docker CLI: `docker login` through
//! berthd's `POST /auth`, credentials kept by `docker-credential-berth` in a
//! real Secret Service (never in config.json), pushes and pulls of a private
//! image, and `docker logout` — against an htpasswd registry and a token
//! registry with a token server of the suite's own.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use berth_e2e::registry::RegistryAuth;
use berth_e2e::secret_service::SecretService;
use berth_e2e::token_issuer::TokenIssuer;
use berth_e2e::{engine_with_busybox, text, Berthd, Registry};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pass";

/// An engine whose docker CLI keeps credentials in our helper.
struct Session {
    keyring: SecretService,
    engine: Berthd,
    /// The open registry the busybox fixture came from, kept alive.
    _fixtures: Registry,
    busybox: String,
}

impl Session {
    async fn start() -> Self {
        let keyring = SecretService::start();
        let (fixtures, engine, busybox) = engine_with_busybox().await;
        std::fs::write(engine.docker_config().join("config.json"), r#"{"credsStore": "berth"}"#).unwrap();
        Self { keyring, engine, _fixtures: fixtures, busybox }
    }

    /// The docker CLI with our helper on PATH and the test's Secret Service.
    fn docker_cmd(&self) -> Command {
        let mut cmd = self.engine.docker_cmd();
        self.keyring.apply(&mut cmd);
        cmd.env("PATH", path_with_helper());
        cmd
    }

    fn docker(&self, args: &[&str]) -> Output {
        self.docker_cmd().args(args).output().expect("run docker")
    }

    fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed:\nstdout: {}\nstderr: {}\nberthd log:\n{}",
            text(&out.stdout),
            text(&out.stderr),
            self.engine.log()
        );
        text(&out.stdout)
    }

    fn login(&self, registry: &str, password: &str) -> Output {
        let mut child = self
            .docker_cmd()
            .args(["login", registry, "-u", USER, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    /// A login with a wrong password fails with the engine's `message`, as the CLI prints it.
    fn login_refused(&self, registry: &str, message: &str) {
        let out = self.login(registry, "wrong");
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("Error response from daemon: {message}")), "{stderr}");
    }

    /// What the helper holds: server URL → username.
    fn helper_list(&self) -> serde_json::Value {
        let out = self.helper(&["list"], "");
        assert!(out.status.success(), "helper list: {}", text(&out.stdout));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn helper(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = self.keyring.command(helper_binary());
        let mut child =
            cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    fn config_json(&self) -> String {
        std::fs::read_to_string(self.engine.docker_config().join("config.json")).unwrap()
    }

    /// Tags the fixture into `registry`, pushes it, forgets it and pulls it back.
    fn push_and_pull(&self, registry: &str) {
        let private = format!("{registry}/team/private:1");
        self.docker_ok(&["tag", &self.busybox, &private]);
        self.docker_ok(&["push", &private]);
        self.docker_ok(&["rmi", &private]);
        let pulled = self.docker_ok(&["pull", &private]);
        assert!(pulled.contains(&format!("Status: Downloaded newer image for {private}")), "{pulled}");
        assert_eq!(self.docker_ok(&["run", "--rm", &private, "echo", "private"]).trim(), "private");
    }
}

fn helper_binary() -> PathBuf {
    let bin = berth_e2e::berthd::binary().with_file_name("docker-credential-berth");
    assert!(bin.exists(), "{} is missing: build it first (cargo build -p berth-credential)", bin.display());
    bin
}

fn path_with_helper() -> String {
    let dir = helper_binary().parent().unwrap().display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

#[test]
fn helper_speaks_the_credential_helper_protocol() {
    let keyring = SecretService::start();
    let run = |args: &[&str], stdin: &str| {
        let mut child =
            keyring.command(helper_binary()).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), text(&out.stdout).trim().to_string())
    };
    let creds = r#"{"ServerURL":"registry.example:5000","Username":"alice","Secret":"pa ss\"word"}"#;
    assert_eq!(run(&["store"], &format!("{creds}\n")), (Some(0), String::new()));
    let (code, got) = run(&["get"], "registry.example:5000");
    assert_eq!(code, Some(0));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&got).unwrap(),
        serde_json::from_str::<serde_json::Value>(creds).unwrap()
    );
    // A second registry, and the first one stored again with a new secret.
    run(&["store"], r#"{"ServerURL":"https://index.docker.io/v1/","Username":"bob","Secret":"x"}"#);
    run(&["store"], r#"{"ServerURL":"registry.example:5000","Username":"alice","Secret":"new"}"#);
    let (_, list) = run(&["list"], "unused");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&list).unwrap(),
        serde_json::json!({"registry.example:5000": "alice", "https://index.docker.io/v1/": "bob"})
    );
    assert!(run(&["get"], "registry.example:5000").1.contains(r#""Secret":"new""#));
    assert_eq!(run(&["erase"], "registry.example:5000"), (Some(0), String::new()));
    // A miss: exit 1 and the exact text the docker CLI matches on stdout.
    assert_eq!(run(&["get"], "registry.example:5000"), (Some(1), "credentials not found in native keychain".into()));
    assert_eq!(run(&["store"], r#"{"Username":"a","Secret":"b"}"#), (Some(1), "no credentials server URL".into()));
    assert_eq!(run(&["frobnicate"], ""), (Some(1), "Unknown credential action `frobnicate`".into()));
    assert!(run(&["version"], "").1.starts_with("docker-credential-berth "));
    assert!(run(&["backend"], "").1.starts_with("secret-service "));

    // The secret is in the keyring itself, under our service name.
    let out = keyring
        .command("secret-tool")
        .args(["lookup", "service", "docker-credential-berth", "username", "https://index.docker.io/v1/"])
        .output()
        .expect("secret-tool is missing: install libsecret-tools (scripts/test does)");
    assert!(text(&out.stdout).contains(r#""Secret":"x""#), "{}", text(&out.stdout));

    // Without a Secret Service the helper says so and how to choose the
    // kernel keyring instead; it never falls back on its own.
    let out = Command::new(helper_binary())
        .arg("list")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env("HOME", keyring.home())
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("docker-credential-berth backend keyutils"), "{}", text(&out.stdout));

    // Choosing the kernel keyring is explicit, remembered and reported; then the protocol works there.
    let no_bus = |args: &[&str], stdin: &str| {
        let mut child = Command::new(helper_binary())
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .env("HOME", keyring.home())
            .env_remove("XDG_CONFIG_HOME")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), text(&out.stdout).trim().to_string())
    };
    let (code, said) = no_bus(&["backend", "keyutils"], "");
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("kernel keyring"), "{said}");
    assert!(no_bus(&["backend"], "").1.starts_with("keyutils (kernel keyring"), "not reported");
    let server = format!("keyutils-e2e-{}.invalid", std::process::id());
    let creds = format!(r#"{{"ServerURL":"{server}","Username":"carol","Secret":"k"}}"#);
    assert_eq!(no_bus(&["store"], &creds), (Some(0), String::new()));
    assert!(no_bus(&["get"], &server).1.contains(r#""Username":"carol""#));
    assert!(no_bus(&["list"], "").1.contains(&format!(r#""{server}":"carol""#)));
    assert_eq!(no_bus(&["erase"], &server), (Some(0), String::new()));
    assert_eq!(no_bus(&["get"], &server), (Some(1), "credentials not found in native keychain".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn login_push_pull_logout_with_an_htpasswd_registry() {
    let s = Session::start().await;
    let reg = Registry::start_with(RegistryAuth::Htpasswd { user: USER.into(), password: PASSWORD.into() }).await;
    let addr = reg.addr.clone();

    s.login_refused(&addr, &format!("login attempt to http://{addr}/v2/ failed with status: 401 Unauthorized"));
    let private = format!("{addr}/team/private:1");
    s.docker_ok(&["tag", &s.busybox, &private]);
    let out = s.docker(&["push", &private]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no basic auth credentials"), "{}", text(&out.stderr));

    let out = s.login(&addr, PASSWORD);
    assert!(out.status.success(), "login: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "Login Succeeded");
    assert!(!text(&out.stderr).contains("unencrypted"), "{}", text(&out.stderr));
    let config = s.config_json();
    assert!(!config.contains(PASSWORD) && !config.contains("\"auth\""), "secret in config.json: {config}");
    assert!(config.contains(&format!("\"{addr}\": {{}}")), "{config}");
    assert_eq!(s.helper_list(), serde_json::json!({ addr.clone(): USER }));

    s.push_and_pull(&addr);

    let out = s.docker_ok(&["logout", &addr]);
    assert_eq!(out.trim(), format!("Removing login credentials for {addr}"));
    assert_eq!(s.helper_list(), serde_json::json!({}));
    assert!(!s.config_json().contains(&addr));
    s.docker_ok(&["rmi", &private]);
    let out = s.docker(&["pull", &private]);
    assert!(!out.status.success(), "pull after logout succeeded");
    assert!(text(&out.stderr).contains("no basic auth credentials"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn login_push_pull_with_a_token_registry() {
    let s = Session::start().await;
    let issuer = TokenIssuer::start(USER, PASSWORD).await;
    let reg = Registry::start_with(RegistryAuth::Token {
        realm: issuer.realm.clone(),
        service: issuer.service.clone(),
        issuer: issuer.issuer.clone(),
        cert_pem: issuer.cert_pem.clone(),
    })
    .await;
    let addr = reg.addr.clone();

    s.login_refused(&addr, &format!("Get \"http://{addr}/v2/\": unauthorized: incorrect username or password"));

    let out = s.login(&addr, PASSWORD);
    assert!(out.status.success(), "login: {}\n{}", text(&out.stderr), s.engine.log());
    // The token server gave a refresh token: the CLI keeps it, not the password.
    assert_eq!(s.helper_list(), serde_json::json!({ addr.clone(): "<token>" }));
    let got = s.helper(&["get"], &addr);
    assert!(text(&got.stdout).contains("berth-refresh-"), "{}", text(&got.stdout));
    assert!(!s.config_json().contains(PASSWORD));

    s.push_and_pull(&addr);
    // Pushes and pulls traded the identity token for access tokens (the
    // OAuth2 refresh grant), never the password again.
    let seen = issuer.seen();
    let login = seen.iter().find(|r| r.basic_user.as_deref() == Some(USER) && r.method == "GET").unwrap();
    assert_eq!(login.params.get("offline_token").map(String::as_str), Some("true"));
    assert_eq!(login.params.get("client_id").map(String::as_str), Some("docker"));
    let refreshes: Vec<_> = seen.iter().filter(|r| r.method == "POST").collect();
    assert!(!refreshes.is_empty(), "no refresh grants: {seen:?}");
    assert!(refreshes.iter().all(|r| r.params["grant_type"] == "refresh_token" && r.basic_user.is_none()));
    assert!(refreshes
        .iter()
        .any(|r| r.params["scope"].ends_with(":push,pull") || r.params["scope"].ends_with(":pull,push")));

    // The API itself: an identity token comes back, and bad bodies are 400s.
    let body = format!(r#"{{"username":"{USER}","password":"{PASSWORD}","serveraddress":"{addr}"}}"#);
    let res = s.engine.request("POST", "/v1.50/auth", &[("Content-Type", "application/json")], body.as_bytes());
    assert_eq!(res.status, 200);
    let json = res.json();
    assert_eq!(json["Status"], "Login Succeeded");
    assert!(json["IdentityToken"].as_str().unwrap().starts_with("berth-refresh-"), "{json}");
    let res = s.engine.request("POST", "/v1.50/auth", &[("Content-Type", "application/json")], b"{\"username\":");
    assert_eq!(res.status, 400);
    assert!(res.json()["message"].as_str().unwrap().starts_with("invalid JSON in request body"));
    // Nothing listening: the cause, as dockerd words it, and no 401 (the credentials were never tried).
    let closed = format!("127.0.0.1:{}", berth_e2e::registry::free_port());
    let body = format!(r#"{{"username":"{USER}","password":"{PASSWORD}","serveraddress":"{closed}"}}"#);
    let res = s.engine.request("POST", "/v1.50/auth", &[("Content-Type", "application/json")], body.as_bytes());
    assert_eq!(res.status, 500, "{}", text(&res.body));
    let message = res.json()["message"].as_str().unwrap().to_string();
    assert!(message.starts_with(&format!("Get \"http://{closed}/v2/\": ")), "{message}");
    assert!(message.to_lowercase().contains("connection refused"), "{message}");
    let body = format!(r#"{{"serveraddress":"{addr}","identitytoken":"bogus"}}"#);
    let res = s.engine.request("POST", "/v1.50/auth", &[("Content-Type", "application/json")], body.as_bytes());
    assert_eq!(res.status, 401, "{}", text(&res.body));
}
