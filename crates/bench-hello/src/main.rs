//! A minimal Tauri 2 hello-world: one window, one static page, one command. The benchmark starts
//! it exactly as it starts Switchboard and compares start-to-painted time and memory.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The page's first frame is on screen: the same mark Switchboard prints when its inbox is painted.
#[tauri::command]
fn first_paint(millis_since_start: f64) {
    println!("SWITCHBOARD_FIRST_PAINT {millis_since_start:.1}");
}

fn main() {
    if let Err(error) = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![first_paint])
        .run(tauri::generate_context!())
    {
        eprintln!("hello-world failed: {error}");
        std::process::exit(1);
    }
}
