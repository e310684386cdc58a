//! Desktop notifications. On Linux and the BSDs the shell raises them with notify-rust and waits
//! for the "default" action, because the notification plugin can't report a click on desktop;
//! elsewhere it uses the plugin (clicks there bring the app forward by themselves).

use switchboard_core::notify::Notification;

use crate::desktop::Notifier;

pub struct DesktopNotifier<R: tauri::Runtime> {
    #[cfg_attr(all(unix, not(target_os = "macos")), allow(dead_code))]
    app: tauri::AppHandle<R>,
}

impl<R: tauri::Runtime> DesktopNotifier<R> {
    pub fn new(app: tauri::AppHandle<R>) -> Self {
        DesktopNotifier { app }
    }
}

impl<R: tauri::Runtime> Notifier for DesktopNotifier<R> {
    #[cfg(all(unix, not(target_os = "macos")))]
    fn show(&self, notification: &Notification, on_click: Box<dyn FnOnce() + Send>) {
        self.show_with_sound(notification, true, on_click)
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    fn show_with_sound(&self, notification: &Notification, sound: bool, on_click: Box<dyn FnOnce() + Send>) {
        let title = notification.title.clone();
        let body = notification.body.clone();
        // The D-Bus round trip and the wait for a click block: a thread of its own.
        std::thread::spawn(move || {
            let mut raised = notify_rust::Notification::new();
            raised.appname("Switchboard").summary(&title).body(&body).action("default", "Open");
            if sound {
                raised.sound_name("message-new-instant");
            } else {
                raised.hint(notify_rust::Hint::SuppressSound(true));
            }
            let shown = raised.show();
            match shown {
                Ok(handle) => handle.wait_for_action(|action| {
                    if action == "default" {
                        on_click();
                    }
                }),
                Err(error) => tracing::warn!(%error, "raising a notification failed"),
            }
        });
    }

    #[cfg(not(all(unix, not(target_os = "macos"))))]
    fn show(&self, notification: &Notification, _on_click: Box<dyn FnOnce() + Send>) {
        use tauri_plugin_notification::NotificationExt;
        if let Err(error) =
            self.app.notification().builder().title(&notification.title).body(&notification.body).show()
        {
            tracing::warn!(%error, "raising a notification failed");
        }
    }
}
