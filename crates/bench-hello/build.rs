//! The build script of the hello-world baseline: Tauri's code generation and capability files.
fn main() {
    tauri_build::build();
}
