//! A static executable: it runs inside images with no C library or another one.

fn main() {
    berth_static_pie::link_binaries_statically();
    println!("cargo:rerun-if-changed=build.rs");
}
