//! How WebKitGTK paints: which rasterizer, and whether through compositing layers.
//!
//! WebKitGTK paints with Skia on the GPU, through OpenGL. A machine without a GPU (a VM, a remote
//! desktop, a thin client) still gets OpenGL, from Mesa's llvmpipe, which emulates a GPU on the
//! CPU: every texture, glyph atlas and layer backing store then sits in the web process's own
//! memory, and each shader is compiled with LLVM on first use. WebKit's CPU rasterizer does the
//! same painting without the emulation. Measured with the benchmark (`scripts/bench.sh`, Xvfb, no
//! GPU), the web process after opening 20 conversations took 394 MiB on the emulated GPU and
//! 328 MiB on the CPU rasterizer.
//!
//! Compositing costs the same emulation again: WebKit draws the page into layers and composites
//! them with OpenGL on llvmpipe, which loads LLVM and compiles shaders in the web process. Without
//! compositing, WebKit paints the page straight into a bitmap it shares with the window. Measured
//! under Xvfb with no GPU: the web process after start-up took 191 instead of 258 MiB.
//!
//! So when the machine has no GPU render node, the app asks WebKit for its CPU path and for no
//! compositing. On a machine with a GPU nothing changes, and `WEBKIT_SKIA_ENABLE_CPU_RENDERING` or
//! `WEBKIT_DISABLE_COMPOSITING_MODE` set by the person wins either way.

use std::path::Path;

/// WebKitGTK's switch for its CPU rasterizer (read when the web process starts).
const CPU_RENDERING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";
/// WebKitGTK's switch for painting without compositing (read when the web view is made).
const NO_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Chooses the CPU rasterizer and no compositing when there is no GPU to render on. Call first
/// thing in `main`, before any thread exists (it sets environment variables WebKit reads, in this
/// process and in the web process, which inherits them).
pub fn paint_on_the_cpu_without_gpu() {
    if cfg!(target_os = "linux") && !has_render_node(Path::new("/dev/dri")) {
        for switch in [CPU_RENDERING, NO_COMPOSITING] {
            if std::env::var_os(switch).is_none() {
                std::env::set_var(switch, "1");
            }
        }
    }
}

/// Whether WebKit paints on the CPU in this process (for the start-up log).
pub fn cpu_rasterizer() -> bool {
    is_on(CPU_RENDERING)
}

/// Whether WebKit paints without compositing in this process. Then the window's first draw waits
/// on the main thread for the web process's first paint, so the window is shown only once its page
/// has loaded (`lib.rs`).
pub fn compositing_disabled() -> bool {
    is_on(NO_COMPOSITING)
}

fn is_on(switch: &str) -> bool {
    std::env::var_os(switch).is_some_and(|value| value != "0")
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
