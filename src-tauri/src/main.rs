//! The Switchboard desktop app's entry point: everything happens in `lib::run`.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    switchboard_desktop::rendering::paint_on_the_cpu_without_gpu();
    switchboard_desktop::run();
}
