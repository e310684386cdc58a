//! The Switchboard desktop shell: window, tray, plugins, and the commands the UI calls. All the
//! work happens in `switchboard-core` (through `desktop.rs`); this crate is the only one that
//! knows Tauri.

mod commands;
pub mod desktop;
pub mod dto;
mod notifier;
pub mod rendering;
mod transcript_pdf;

use std::{path::PathBuf, sync::Arc};

use switchboard_core::keychain::{AccountKey, KeychainError, OsKeychain, Token, TokenStore};
use tauri::{Emitter, Manager};
use tauri_plugin_log::log::LevelFilter;

use crate::desktop::Desktop;

/// The channel every UI event goes out on.
pub const EVENT: &str = "switchboard://event";
/// The default show/hide shortcut (override with `SWITCHBOARD_TOGGLE_SHORTCUT`).
const DEFAULT_TOGGLE_SHORTCUT: &str = "CommandOrControl+Shift+Space";

/// Start-up work that can wait waits for the UI's first frame, or this long at most (the sign-in
/// screen doesn't report one).
const DEFERRED_START_AT_MOST: std::time::Duration = std::time::Duration::from_secs(5);

/// Told when the UI has painted its first frame (the `first_paint` command).
#[derive(Default)]
pub struct FirstFrame(tokio::sync::Notify);

impl FirstFrame {
    pub fn painted(&self) {
        self.0.notify_one();
    }
}

/// Registers the show/hide shortcut once the first frame is on screen. The registration runs on
/// the main thread and waits there for global-hotkey's X11 thread, which polls every 50 ms; done
/// in `setup` it held up the window's first page load (and with it the first frame) by up to that,
/// and now and then by half a second.
fn register_toggle_shortcut_after_first_frame<R: tauri::Runtime>(app: tauri::AppHandle<R>, shortcut: String) {
    std::thread::spawn(move || {
        let first_frame = app.state::<FirstFrame>();
        // The timer needs the runtime's context, so it is made inside the block.
        tauri::async_runtime::block_on(async {
            let _ = tokio::time::timeout(DEFERRED_START_AT_MOST, first_frame.0.notified()).await;
        });
        use tauri_plugin_global_shortcut::GlobalShortcutExt;
        if let Err(error) = app.global_shortcut().register(shortcut.as_str()) {
            tracing::warn!(%error, %shortcut, "the show/hide shortcut is taken");
        }
    });
}

/// Stands in for the keychain when the OS has none reachable: every use says why.
struct NoKeychain(String);

impl TokenStore for NoKeychain {
    fn save(&self, _: &AccountKey, _: &Token) -> Result<(), KeychainError> {
        Err(KeychainError::Unavailable(self.0.clone()))
    }
    fn load(&self, _: &AccountKey) -> Result<Token, KeychainError> {
        Err(KeychainError::Unavailable(self.0.clone()))
    }
    fn delete(&self, _: &AccountKey) -> Result<(), KeychainError> {
        Err(KeychainError::Unavailable(self.0.clone()))
    }
}

/// The single-instance plugin: a second start of the app hands over to the running one. With
/// `SWITCHBOARD_DATA_DIR`, "the same app" is the same data directory (its D-Bus name carries a hash
/// of the path), so two instances with their own directories run side by side (the e2e's second
/// window, `tests/e2e/second_app.rs`) while two on one directory still cannot.
fn single_instance<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    let builder =
        tauri_plugin_single_instance::Builder::new().callback(|app, _args, _cwd| show_main_window(app));
    match std::env::var_os("SWITCHBOARD_DATA_DIR") {
        Some(dir) => {
            use std::hash::{Hash, Hasher};
            // The same binary hashes the same path the same way, which is all this needs.
            let mut hasher = std::hash::DefaultHasher::new();
            dir.hash(&mut hasher);
            builder.dbus_id(format!("{SINGLE_INSTANCE_ID}.dir{:016x}", hasher.finish())).build()
        }
        None => builder.build(),
    }
}

/// The app's identifier (`tauri.conf.json`), the base of its single-instance D-Bus name.
const SINGLE_INSTANCE_ID: &str = "app.switchboard.desktop";

fn data_dir<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> PathBuf {
    std::env::var_os("SWITCHBOARD_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| app.path().app_data_dir().ok())
        .unwrap_or_else(|| std::env::temp_dir().join("switchboard"))
}

fn show_main_window<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

fn toggle_main_window<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        if window.is_visible().unwrap_or(false) && window.is_focused().unwrap_or(false) {
            let _ = window.hide();
        } else {
            show_main_window(app);
        }
    }
}

/// Keeps the tray's tooltip (and the badge, where the OS has one) at the unread count.
/// The tray's tooltip: how much is waiting, or, while the app is locked, nothing of the inbox at
/// all (not even a count: a locked screen on a shared workstation says nothing).
fn tray_tooltip(locked: bool, unread: u32) -> String {
    if locked {
        "Switchboard — locked".to_owned()
    } else if unread == 0 {
        "Switchboard".to_owned()
    } else {
        format!("Switchboard — {unread} unread")
    }
}

fn spawn_unread_updates<R: tauri::Runtime>(app: tauri::AppHandle<R>, desktop: Arc<Desktop>) {
    tauri::async_runtime::spawn(async move {
        let mut last = None;
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            // Locked: nothing of the inbox, not even how much is waiting.
            let locked = desktop.is_locked();
            let unread = if locked { 0 } else { desktop.unread_count().await.unwrap_or(0) };
            if last == Some((unread, locked)) {
                continue;
            }
            last = Some((unread, locked));
            if let Some(tray) = app.tray_by_id("main") {
                let _ = tray.set_tooltip(Some(&tray_tooltip(locked, unread)));
            }
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.set_badge_count((unread > 0).then_some(i64::from(unread)));
            }
        }
    });
}

/// Makes the window of `tauri.conf.json` (which has `create: false` for this). Without compositing
/// it starts hidden and shows once its page has loaded (`show_after_hidden_start`): WebKit's first
/// draw of a shown window then waits on the main thread for the web process's first paint, up to
/// half a second while that process is still starting, and the main thread is the one serving the
/// page its files. With compositing, a hidden window would put off setting up the compositor.
fn create_main_window<R: tauri::Runtime>(app: &tauri::App<R>) -> tauri::Result<()> {
    let config = app.config().app.windows.iter().find(|window| window.label == "main").cloned();
    let config = config.ok_or_else(|| tauri::Error::WindowNotFound)?;
    // Launched at login (the autostart entry passes the flag): stay in the tray until asked.
    let in_tray = std::env::args().any(|arg| arg == AUTOSTART_FLAG);
    let hidden_start = config.visible && !in_tray && rendering::compositing_disabled();
    let mut window = tauri::WebviewWindowBuilder::from_config(app, &config)?
        .visible(config.visible && !hidden_start && !in_tray);
    // With its own data directory, the page's storage (the language chosen, the idle time) is
    // kept there too, apart from any other instance's.
    if let Some(dir) = std::env::var_os("SWITCHBOARD_DATA_DIR") {
        window = window.data_directory(PathBuf::from(dir).join("webview"));
    }
    window.build()?;
    if hidden_start {
        app.manage(HiddenStart::default());
        // A page that never finishes loading (a web process that failed to start) must not leave
        // the app running with no window at all.
        let handle = app.handle().clone();
        std::thread::spawn(move || {
            std::thread::sleep(HIDDEN_START_AT_MOST);
            show_after_hidden_start(&handle);
        });
    }
    Ok(())
}

/// The argument the login item starts the app with (tauri-plugin-autostart): start in the tray.
pub const AUTOSTART_FLAG: &str = "--in-tray";

/// How long a hidden start waits for the page before showing the window anyway.
const HIDDEN_START_AT_MOST: std::time::Duration = std::time::Duration::from_secs(3);

/// Present when the main window started hidden; set once it has been shown.
#[derive(Default)]
struct HiddenStart(std::sync::atomic::AtomicBool);

/// Shows the main window after a hidden start, once: at the page's first load or the fallback,
/// whichever comes first. Later loads (a reload) leave a window the person hid where it is.
fn show_after_hidden_start<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    let Some(hidden_start) = app.try_state::<HiddenStart>() else { return };
    if !hidden_start.0.swap(true, std::sync::atomic::Ordering::SeqCst) {
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.show();
        }
    }
}

fn build_tray<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    use tauri::{
        menu::{Menu, MenuItem},
        tray::TrayIconBuilder,
    };
    let open = MenuItem::with_id(app, "open", "Open Switchboard", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    let mut tray =
        TrayIconBuilder::with_id("main").tooltip("Switchboard").menu(&menu).on_menu_event(|app, event| {
            match event.id.as_ref() {
                "open" => show_main_window(app),
                "quit" => app.exit(0),
                _ => {}
            }
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

pub fn run() {
    let shortcut =
        std::env::var("SWITCHBOARD_TOGGLE_SHORTCUT").unwrap_or_else(|_| DEFAULT_TOGGLE_SHORTCUT.to_owned());
    let app = tauri::Builder::default()
        .plugin(single_instance())
        .plugin(
            tauri_plugin_log::Builder::new()
                .level(LevelFilter::Info)
                // The D-Bus library logs every handshake step at info, and `tracing`'s log bridge
                // every span it enters: noise in an agent's log.
                .level_for("zbus", LevelFilter::Warn)
                .level_for("tracing::span", LevelFilter::Warn)
                .build(),
        )
        // Not visibility: the app decides when the window shows (`create_main_window`).
        .plugin(
            tauri_plugin_window_state::Builder::new()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all() - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        // The exports' save dialog, opened by the shell (`commands::export_report`, `export_transcript`); the window is
        // granted none of the plugin's commands.
        .plugin(tauri_plugin_dialog::init())
        // Launch at login, in the tray (`commands::set_launch_at_login`; the window gets none of
        // the plugin's commands).
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![AUTOSTART_FLAG]),
        ))
        .plugin(
            tauri_plugin_global_shortcut::Builder::new()
                .with_handler(|app, _shortcut, event| {
                    if event.state() == tauri_plugin_global_shortcut::ShortcutState::Pressed {
                        toggle_main_window(app);
                    }
                })
                .build(),
        )
        .setup(move |app| {
            create_main_window(app)?;
            tracing::info!(
                cpu_rasterizer = rendering::cpu_rasterizer(),
                compositing = !rendering::compositing_disabled(),
                "WebKit rendering"
            );
            let handle = app.handle().clone();
            let tokens: Arc<dyn TokenStore> = match OsKeychain::new() {
                Ok(keychain) => Arc::new(keychain),
                Err(error) => {
                    tracing::warn!(%error, "no OS keychain: signing in will explain");
                    Arc::new(NoKeychain(error.to_string()))
                }
            };
            let emitter = handle.clone();
            let focuser = handle.clone();
            let desktop = Arc::new(Desktop::new(
                data_dir(&handle),
                tokens,
                std::env::var("SWITCHBOARD_SERVER_URL").unwrap_or_else(|_| "http://127.0.0.1:7300".into()),
                Arc::new(move |event| {
                    let _ = emitter.emit(EVENT, event);
                }),
                Arc::new(notifier::DesktopNotifier::new(handle.clone())),
                Arc::new(move || show_main_window(&focuser)),
                switchboard_core::clock::system_clock(),
            ));
            app.manage(desktop.clone());
            app.manage(desktop::DroppedFiles::default());

            if let Err(error) = build_tray(&handle) {
                tracing::warn!(%error, "no tray icon");
            }
            app.manage(FirstFrame::default());
            register_toggle_shortcut_after_first_frame(handle.clone(), shortcut);
            spawn_unread_updates(handle.clone(), desktop.clone());

            // Resume the active account, or sign in to the demo server when asked to.
            tauri::async_runtime::spawn(async move {
                let resumed = desktop.resume().await.unwrap_or(false);
                if !resumed {
                    if let Ok(login) = std::env::var("SWITCHBOARD_AUTO_SIGN_IN") {
                        if let Some((email, password)) = login.split_once(':') {
                            let server = std::env::var("SWITCHBOARD_SERVER_URL")
                                .unwrap_or_else(|_| "http://127.0.0.1:7300".into());
                            if let Err(error) = desktop.sign_in(&server, email, password, None).await {
                                tracing::warn!(code = ?error.code, message = %error.message, "automatic sign-in failed");
                            }
                        }
                    }
                }
                let _ = handle.emit(EVENT, dto::UiEvent::CacheChanged { kinds: switchboard_proto::EntityKind::ALL.to_vec() });
            });
            Ok(())
        })
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished && webview.label() == "main" {
                show_after_hidden_start(webview.app_handle());
            }
        })
        .on_window_event(|window, event| match event {
            tauri::WindowEvent::Focused(focused) => {
                if let Some(desktop) = window.app_handle().try_state::<Arc<Desktop>>() {
                    desktop.set_window_focused(*focused);
                }
            }
            // What the user dropped, as the shell saw it: the only paths `stage_files` takes.
            tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) => {
                if let Some(dropped) = window.app_handle().try_state::<desktop::DroppedFiles>() {
                    dropped.remember(paths);
                }
            }
            _ => {}
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::start_screen,
            commands::sign_in,
            commands::two_factor_status,
            commands::begin_two_factor,
            commands::confirm_two_factor,
            commands::disable_two_factor,
            commands::lock_app,
            commands::unlock_app,
            commands::sign_out,
            commands::switch_account,
            commands::directory,
            commands::status,
            commands::sidebar,
            commands::list_conversations,
            commands::open_conversation,
            commands::thread,
            commands::thread_page,
            commands::close_conversation,
            commands::typing,
            commands::search,
            commands::quick_replies,
            commands::send_message,
            commands::find_contacts,
            commands::contact_profile,
            commands::custom_fields,
            commands::add_contact,
            commands::edit_contact,
            commands::merge_contacts,
            commands::create_custom_field,
            commands::delete_custom_field,
            commands::start_conversation,
            commands::assign,
            commands::set_team,
            commands::set_status,
            commands::edit_labels,
            commands::set_priority,
            commands::set_escalated,
            commands::create_view,
            commands::rename_view,
            commands::update_view_filter,
            commands::delete_view,
            commands::set_pinned,
            commands::mark_unread,
            commands::retry_delivery,
            commands::set_availability,
            commands::set_status_text,
            commands::notification_settings,
            commands::set_notification_settings,
            commands::launch_at_login,
            commands::set_launch_at_login,
            commands::save_inbox_settings,
            commands::inbox_connector,
            commands::create_inbox,
            commands::save_inbox_connector,
            commands::test_inbox_connector,
            commands::set_capacity,
            commands::workload,
            commands::time_zones,
            commands::report_summary,
            commands::report_series,
            commands::live_figures,
            commands::report_conversations,
            commands::export_report,
            commands::export_transcript,
            commands::request_export,
            commands::export_requests,
            commands::decide_export,
            commands::save_approved_export,
            commands::lock_policy,
            commands::set_lock_policy,
            commands::two_factor_overview,
            commands::require_two_factor,
            commands::audit_page,
            commands::verify_audit,
            commands::export_audit,
            commands::export_contact,
            commands::erase_contact,
            commands::automation_rules,
            commands::create_agent,
            commands::update_agent,
            commands::reset_password,
            commands::sign_out_agent,
            commands::devices,
            commands::revoke_device,
            commands::save_team,
            commands::set_inbox_members,
            commands::set_inbox_templates,
            commands::save_label,
            commands::delete_label,
            commands::save_quick_reply,
            commands::delete_quick_reply,
            commands::save_my_quick_reply,
            commands::delete_my_quick_reply,
            commands::bind_quick_reply,
            commands::use_quick_reply,
            commands::promote_quick_reply,
            commands::save_rule,
            commands::set_rule_enabled,
            commands::delete_rule,
            commands::move_rule,
            commands::preview_rule,
            commands::test_rule,
            commands::rule_runs,
            commands::sla_policies,
            commands::save_draft,
            commands::stage_files,
            commands::unstage_file,
            commands::stage_pasted,
            commands::attachment_preview,
            commands::open_attachment,
            commands::set_do_not_disturb,
            commands::reconnect,
            commands::open_link,
            commands::first_paint,
        ])
        .build(tauri::generate_context!("../tauri.conf.json"));
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(error) => {
            eprintln!("Switchboard could not start: {error}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tray_tooltip;

    #[test]
    fn a_locked_app_shows_nothing_of_the_inbox_in_the_tray() {
        assert_eq!(tray_tooltip(false, 3), "Switchboard — 3 unread");
        assert_eq!(tray_tooltip(false, 0), "Switchboard");
        for unread in [0, 3] {
            assert_eq!(tray_tooltip(true, unread), "Switchboard — locked", "no count while locked");
        }
    }
}
