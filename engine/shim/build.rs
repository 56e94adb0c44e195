//! A static executable: one runs per container, and a shared libc's pages
//! would about double its memory.

fn main() {
    berth_static_pie::link_binaries_statically();
    println!("cargo:rerun-if-changed=build.rs");
}
