//! Records how the binary was built, for `GET /version`.

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    println!("cargo:rustc-env=BERTH_RUSTC_VERSION={}", output(&rustc, &["--version"]));
    println!("cargo:rustc-env=BERTH_GIT_COMMIT={}", output("git", &["rev-parse", "--short=10", "HEAD"]));
    // The commit's time rather than the wall clock keeps builds reproducible.
    println!("cargo:rustc-env=BERTH_BUILD_TIME={}", output("git", &["log", "-1", "--format=%cI"]));
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
}
