//! Which rasterizer WebKitGTK paints with.
//!
//! WebKitGTK paints with Skia on the GPU, through OpenGL. A machine without a GPU (a VM, a remote
//! desktop, a thin client) still gets OpenGL, from Mesa's llvmpipe, which emulates a GPU on the
//! CPU: every texture, glyph atlas and layer backing store then sits in the web process's own
//! memory, and each shader is compiled with LLVM on first use. WebKit's CPU rasterizer does the
//! same painting without the emulation. Measured with the benchmark (`scripts/bench.sh`, Xvfb, no
//! GPU), the web process after opening 20 conversations took 394 MiB on the emulated GPU and
//! 328 MiB on the CPU rasterizer.
//!
//! So when the machine has no GPU render node, the app asks WebKit for its CPU path. On a machine
//! with a GPU nothing changes, and `WEBKIT_SKIA_ENABLE_CPU_RENDERING` set by the person wins
//! either way.

use std::path::Path;

/// WebKitGTK's switch for its CPU rasterizer (read when the web process starts).
const CPU_RENDERING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// Chooses the CPU rasterizer when there is no GPU to render on. Call first thing in `main`,
/// before any thread exists (it sets an environment variable the web process inherits).
pub fn prefer_cpu_rasterizer_without_gpu() {
    if cfg!(target_os = "linux")
        && std::env::var_os(CPU_RENDERING).is_none()
        && !has_render_node(Path::new("/dev/dri"))
    {
        std::env::set_var(CPU_RENDERING, "1");
    }
}

/// Whether WebKit paints on the CPU in this process (for the start-up log).
pub fn cpu_rasterizer() -> bool {
    std::env::var_os(CPU_RENDERING).is_some_and(|value| value != "0")
}

/// Whether `dri` (normally `/dev/dri`) has a DRM render node: a GPU that OpenGL can render on.
fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries.flatten().any(|entry| entry.file_name().to_string_lossy().starts_with("renderD"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_node_means_a_gpu_and_a_display_card_alone_does_not() {
        let dri = tempfile::tempdir().expect("temp dir");
        assert!(!has_render_node(dri.path()), "empty");
        std::fs::write(dri.path().join("card0"), "").expect("card");
        assert!(!has_render_node(dri.path()), "a display controller without a render node");
        std::fs::write(dri.path().join("renderD128"), "").expect("render node");
        assert!(has_render_node(dri.path()));
        assert!(!has_render_node(&dri.path().join("missing")), "no /dev/dri at all");
    }
}
