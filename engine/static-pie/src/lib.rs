//! Linking one binary of the workspace as a static PIE, from its build
//! script: berth-init, bind-mounted into containers whose images may have no
//! C library or another one, and berth-shim, one per container, whose
//! memory a shared libc would double. Cargo cannot turn on `crt-static` for
//! one binary of a workspace, and rustc asks for the C libraries std uses as
//! shared ones; so the binaries' link gets a directory where those names
//! resolve to the static archives (libgcc_s to libgcc_eh), and the link is a
//! static PIE. libc6-dev provides them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Call from a build script: its crate's binaries link statically.
pub fn link_binaries_statically() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    for (name, archive) in [
        ("c", "libc.a"),
        ("m", "libm.a"),
        ("rt", "librt.a"),
        ("pthread", "libpthread.a"),
        ("dl", "libdl.a"),
        ("util", "libutil.a"),
        ("gcc_s", "libgcc_eh.a"),
    ] {
        let found = Command::new(&cc).arg(format!("-print-file-name={archive}")).output().expect("run cc");
        let found = PathBuf::from(String::from_utf8_lossy(&found.stdout).trim());
        // cc echoes the bare name back when it has no such file.
        assert!(found.is_absolute(), "{archive} not found: install libc6-dev (static C libraries)");
        link(&found, &out.join(format!("lib{name}.a")));
    }
    // A link argument of the binaries, not a link search path: search paths
    // reach every crate that depends on this one's library (berthd does, on
    // berth-shim's), and would link them against the static archives too.
    println!("cargo:rustc-link-arg-bins=-L{}", out.display());
    println!("cargo:rustc-link-arg-bins=-static-pie");
}

fn link(target: &Path, at: &Path) {
    let _ = std::fs::remove_file(at);
    std::os::unix::fs::symlink(target, at).expect("link a static archive into OUT_DIR");
}
