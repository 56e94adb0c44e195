//! The desktop app in a real window: Berth Desktop built here, run under Xvfb, driven over WebDriver
//! (tauri-driver in front of WebKitWebDriver) against a real berthd with fixture images from the
//! local registry. Screenshots of each view land in target/gui-artifacts/ for people to look at.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use berth_e2e::gui::{desktop_binary, tool, workspace, xvfb};
use berth_e2e::process::Guarded;
use berth_e2e::registry::free_port;
use berth_e2e::registry::RegistryAuth;
use berth_e2e::secret_service::SecretService;
use berth_e2e::{engine_with_busybox, fixtures, text, Berthd, Registry};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

struct App {
    client: Client,
    artifacts: PathBuf,
    binary: PathBuf,
    _driver: Guarded,
    _xvfb: Guarded,
}

impl Drop for App {
    /// The app is WebKitWebDriver's child, not ours: make sure it does not outlive a failed test.
    fn drop(&mut self) {
        let _ = Command::new("pkill").arg("-f").arg(&self.binary).status();
    }
}

impl App {
    /// Launches the app on `engine`, with `keyring` as its Secret Service and a HOME of its own.
    async fn launch(engine: &Berthd, keyring: &SecretService) -> App {
        let app = desktop_binary();
        let driver_bin = tool("tauri-driver", "cargo install tauri-driver --locked --version ^2 (scripts/test does)");
        let native = tool("WebKitWebDriver", "install webkit2gtk-driver (scripts/test does)");
        let (xvfb, display) = xvfb();
        let port = free_port();
        let mut cmd = Command::new(driver_bin);
        keyring.apply(&mut cmd);
        cmd.args(["--port", &port.to_string(), "--native-port", &free_port().to_string()])
            .arg("--native-driver")
            .arg(native)
            .env("DISPLAY", &display)
            .env("BERTH_HOST", engine.host())
            .env("BERTH_QUIT_ON_CLOSE", "1")
            // WebKitWebDriver's screenshots hang without WebKit's compositing mode, which the app
            // turns off by default to save memory.
            .env("BERTH_WEBKIT_COMPOSITING", "1")
            .env("DOCKER_CONFIG", desktop_docker_config(engine))
            .env_remove("DOCKER_HOST");
        let driver = Guarded::spawn("tauri-driver", &mut cmd).expect("start tauri-driver");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({"application": &app}));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session: {e}"),
            }
        };
        let artifacts = workspace().join("target/gui-artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        App { client, artifacts, binary: app, _driver: driver, _xvfb: xvfb }
    }

    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or(Value::Null)
    }

    /// Polls `script` until `check` accepts its result.
    async fn until(&self, what: &str, script: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self.js(script).await;
            if check(&v) {
                return v;
            }
            if Instant::now() > deadline {
                self.screenshot(&format!("failed-{}", what.replace(' ', "-"))).await;
                panic!("timed out waiting for {what}; last value {v}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Clicks `css`, retrying while the view is still rendering it (a re-render can swap the
    /// element between finding and clicking).
    async fn click(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let err = match self.client.find(Locator::Css(css)).await {
                Ok(e) => match e.click().await {
                    Ok(_) => return,
                    Err(e) => e,
                },
                Err(e) => e,
            };
            if Instant::now() > deadline {
                self.screenshot("failed-click").await;
                panic!("{css}: {err:?}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let path = self.artifacts.join(format!("{name}.png"));
            std::fs::write(&path, png).unwrap();
            eprintln!("screenshot: {}", path.display());
        }
    }
}

/// The docker CLI config the app is given.
fn desktop_docker_config(engine: &Berthd) -> PathBuf {
    engine.dir().join("desktop-docker-config")
}

fn text_of(css: &str) -> String {
    format!("const e = document.querySelector('{css}'); return e ? e.textContent.trim() : null;")
}

#[tokio::test]
async fn dashboard_drives_the_engine() {
    let (reg, engine, img) = engine_with_busybox().await;
    engine.docker_ok(&["run", "-d", "--name", "web", &img, "sleep", "1000"]);
    engine.docker_ok(&[
        "run",
        "-d",
        "--name",
        "talker",
        &img,
        "sh",
        "-c",
        "for i in 1 2 3; do echo line-$i; sleep 0.2; done; exec sleep 1000",
    ]);
    for name in ["bulk-a", "bulk-b"] {
        engine.docker_ok(&[
            "run",
            "-d",
            "--name",
            name,
            &img,
            "sh",
            "-c",
            "trap 'exit 0' TERM; while :; do sleep 0.2; done",
        ]);
    }
    let keyring = SecretService::start();
    // The app's first run makes Berth's helper the CLI's credential store, moving this plain-text
    // login into the keyring.
    let cli_config = desktop_docker_config(&engine);
    std::fs::create_dir_all(&cli_config).unwrap();
    std::fs::write(cli_config.join("config.json"), r#"{"auths":{"old.example":{"auth":"b2xkOnB3"}}}"#).unwrap();
    let app = App::launch(&engine, &keyring).await;

    // The sidebar shows the engine, the containers view lists both containers.
    app.until("engine running", &text_of("[data-testid=\"engine-state\"]"), |v| v == "running").await;
    let web = "[data-testid=\"container-row\"][data-name=\"web\"]";
    app.until("web running", &text_of(&format!("{web} [data-testid=\"container-state\"]")), |v| v == "running").await;
    app.screenshot("containers").await;

    // Stop it from the UI; the engine reports it stopped and the row follows.
    app.click(&format!("{web} [data-testid=\"action-stop\"]")).await;
    app.until("web exited", &text_of(&format!("{web} [data-testid=\"container-state\"]")), |v| v == "exited").await;
    assert_eq!(engine.docker_ok(&["inspect", "--format", "{{.State.Status}}", "web"]).trim(), "exited");

    // Select two rows and stop them together.
    for name in ["bulk-a", "bulk-b"] {
        app.click(&format!("[data-testid=\"container-row\"][data-name=\"{name}\"] [data-testid=\"select\"]")).await;
    }
    app.until("two selected", &text_of("[data-testid=\"bulk-count\"]"), |v| v == "2 selected").await;
    app.screenshot("containers-bulk").await;
    app.click("[data-testid=\"bulk-stop\"]").await;
    for name in ["bulk-a", "bulk-b"] {
        let state = text_of(&format!(
            "[data-testid=\"container-row\"][data-name=\"{name}\"] [data-testid=\"container-state\"]"
        ));
        app.until("bulk stop", &state, |v| v == "exited").await;
        assert_eq!(engine.docker_ok(&["inspect", "--format", "{{.State.Status}}", name]).trim(), "exited");
    }

    // A running container's row shows its CPU and memory (CPU from the second poll on).
    let usage = text_of("[data-testid=\"container-row\"][data-name=\"talker\"] [data-testid=\"usage\"]");
    app.until("talker usage", &usage, |v| {
        v.as_str().is_some_and(|s| s.contains('%') && (s.ends_with(" kB") || s.ends_with(" MB")))
    })
    .await;

    // Logs: open the talker's detail and see its lines.
    app.click("[data-testid=\"container-row\"][data-name=\"talker\"] [data-testid=\"container-name\"]").await;
    let lines = "return Array.from(document.querySelectorAll('[data-testid=\"log-line\"]')).map(e => e.textContent).join('\\n');";
    app.until("log lines", lines, |v| v.as_str().is_some_and(|s| s.contains("line-3"))).await;
    app.screenshot("logs").await;
    app.click("[data-testid=\"back\"]").await;

    // Pull an image with per-layer progress.
    let fx = fixtures::push_all(&reg).await;
    app.click("[data-testid=\"nav-images\"]").await;
    let input = app.client.find(Locator::Css("[data-testid=\"pull-input\"]")).await.unwrap();
    input.send_keys(&fx.multi).await.unwrap();
    app.click("[data-testid=\"pull-button\"]").await;
    app.until("pull done", &text_of("[data-testid=\"pull-done\"]"), |v| v.is_string()).await;
    app.screenshot("images").await;
    let tags = engine.docker_ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(tags.lines().any(|t| t == fx.multi), "{tags}");
    let row = format!("return !!document.querySelector('[data-testid=\"image-row\"][data-tag=\"{}\"]');", fx.multi);
    app.until("pulled image listed", &row, |v| v == &json!(true)).await;

    app.click("[data-testid=\"nav-engine\"]").await;
    app.until("engine version", &text_of("[data-testid=\"engine-version\"]"), |v| {
        v.as_str().is_some_and(|s| s.contains("0.1.0"))
    })
    .await;
    app.screenshot("engine").await;

    registries(&app, &engine, &keyring, &img).await;
    app.client.clone().close().await.unwrap();
}

/// Registries: log in from the app, use that login from the docker CLI and from the app's pull,
/// log out.
async fn registries(app: &App, engine: &Berthd, keyring: &SecretService, img: &str) {
    let cli_config = desktop_docker_config(engine);
    let config = || std::fs::read_to_string(cli_config.join("config.json")).unwrap();
    let adopted = || serde_json::from_str::<Value>(&config()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while adopted()["credsStore"] != "berth" {
        assert!(Instant::now() < deadline, "credsStore not adopted: {}", config());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(adopted()["auths"]["old.example"], json!({}), "{}", config());
    assert!(cli_config.join("config.json.before-berth").exists());

    let reg =
        Registry::start_with(RegistryAuth::Htpasswd { user: "alice".into(), password: "pw-from-ui".into() }).await;
    app.click("[data-testid=\"nav-registries\"]").await;
    let row = |server: &str| {
        format!("return !!document.querySelector('[data-testid=\"registry-row\"][data-server=\"{server}\"]');")
    };
    app.until("migrated login listed", &row("old.example"), |v| v == &json!(true)).await;
    let fill = |css: &'static str, value: String| async move {
        let input = app.client.find(Locator::Css(css)).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(&value).await.unwrap();
    };
    fill("[data-testid=\"registry-server\"]", reg.addr.clone()).await;
    fill("[data-testid=\"registry-username\"]", "alice".into()).await;
    fill("[data-testid=\"registry-password\"]", "wrong".into()).await;
    app.click("[data-testid=\"registry-login\"]").await;
    app.until("login refused", &text_of("[data-testid=\"registry-login-error\"]"), |v| {
        v.as_str().is_some_and(|s| s.contains("401 Unauthorized"))
    })
    .await;
    fill("[data-testid=\"registry-password\"]", "pw-from-ui".into()).await;
    app.click("[data-testid=\"registry-login\"]").await;
    app.until("login done", &text_of("[data-testid=\"registry-login-done\"]"), |v| {
        v.as_str().is_some_and(|s| s.contains("Login Succeeded"))
    })
    .await;
    app.until("login listed", &row(&reg.addr), |v| v == &json!(true)).await;
    app.screenshot("registries").await;
    assert!(!config().contains("pw-from-ui"), "password in config.json: {}", config());
    assert_eq!(adopted()["auths"][&reg.addr], json!({}));

    // The docker CLI pushes with the login the app made (same config, same keyring).
    let helper_dir = berth_e2e::berthd::binary().parent().unwrap().display().to_string();
    let cli = |args: &[&str]| {
        let mut cmd = engine.docker_cmd();
        keyring.apply(&mut cmd);
        let path = format!("{helper_dir}:{}", std::env::var("PATH").unwrap_or_default());
        let out = cmd.env("DOCKER_CONFIG", &cli_config).env("PATH", path).args(args).output().unwrap();
        assert!(out.status.success(), "docker {args:?}: {}", text(&out.stderr));
    };
    let private = format!("{}/team/app:1", reg.addr);
    cli(&["tag", img, &private]);
    cli(&["push", &private]);
    cli(&["rmi", &private]);

    // The app's own pull sends the stored credentials.
    app.click("[data-testid=\"nav-images\"]").await;
    let input = app.client.find(Locator::Css("[data-testid=\"pull-input\"]")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(&private).await.unwrap();
    app.click("[data-testid=\"pull-button\"]").await;
    let listed = format!("return !!document.querySelector('[data-testid=\"image-row\"][data-tag=\"{private}\"]');");
    app.until("private image pulled", &listed, |v| v == &json!(true)).await;

    app.click("[data-testid=\"nav-registries\"]").await;
    let logout =
        format!("[data-testid=\"registry-row\"][data-server=\"{}\"] [data-testid=\"registry-logout\"]", reg.addr);
    // Log out asks first: one click arms the button, the second confirms.
    app.click(&logout).await;
    app.until(
        "logout armed",
        &format!("return document.querySelector('{}')?.dataset.armed ?? null;", logout.replace('\'', "\\'")),
        |v| v == "true",
    )
    .await;
    app.click(&logout).await;
    app.until("logged out", &row(&reg.addr), |v| v == &json!(false)).await;
    assert!(adopted()["auths"].get(&reg.addr).is_none(), "{}", config());
}
