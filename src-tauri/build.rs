fn main() {
    // The built UI is embedded in the binary: a rebuilt ui/dist must rebuild the app, or the window
    // shows yesterday's UI.
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::build()
}
