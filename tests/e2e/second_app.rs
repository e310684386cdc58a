//! A second running instance of the real app beside the first window, as another agent's desktop:
//! its own tauri-driver on free ports (and so its own WebKitWebDriver, which serves one session
//! each), the app with its own data directory (`SWITCHBOARD_DATA_DIR`, which also keeps its
//! single-instance name and its webview's storage apart from the first app's: `src-tauri/src/lib.rs`),
//! on the same X display, session D-Bus and Secret Service as the first (inherited from
//! `tests/e2e/run.sh`'s session). Its keychain entries are its own account's.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::Context;
use switchboard_e2e::Session;

use crate::WAIT;

pub struct SecondApp {
    /// The second window (taken by [`SecondApp::end`]).
    session: Option<Session>,
    driver: Child,
    /// Holds the data directory and tauri-driver's log (the app's output).
    dir: tempfile::TempDir,
}

impl SecondApp {
    /// Starts tauri-driver on free ports and the app at `application` through it.
    pub async fn start(application: &str) -> anyhow::Result<SecondApp> {
        let dir = tempfile::tempdir()?;
        let log = std::fs::File::create(dir.path().join("tauri-driver.log"))?;
        let (port, native_port) = (free_port()?, free_port()?);
        let driver = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("SWITCHBOARD_DATA_DIR", dir.path().join("app-data"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting a second tauri-driver")?;
        let mut second = SecondApp { session: None, driver, dir };
        let webdriver = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        while !http.get(format!("{webdriver}/status")).send().await.is_ok_and(|r| r.status().is_success()) {
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!("the second tauri-driver did not answer on {webdriver}: {}", second.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        match Session::start(&webdriver, application).await {
            Ok(session) => second.session = Some(session),
            Err(error) => {
                return Err(error.context(format!("the second app: {}", second.log())));
            }
        }
        Ok(second)
    }

    /// The second window.
    pub fn window(&self) -> &Session {
        self.session.as_ref().expect("the second window is open until `end`")
    }

    /// The app's data directory (what `SWITCHBOARD_DATA_DIR` names for it).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("app-data")
    }

    /// What tauri-driver and the app wrote so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("tauri-driver.log")).unwrap_or_default()
    }

    /// Closes the window and stops tauri-driver. A panic on any of the app's threads fails the
    /// test, as `tests/e2e/in-session.sh` does for the first app.
    pub async fn end(mut self) -> anyhow::Result<()> {
        let ended = match self.session.take() {
            Some(session) => session.end().await,
            None => Ok(()),
        };
        wait_for_exit(&self.data_dir()).await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let log = self.log();
        if let Some(at) = log.find("panicked at") {
            anyhow::bail!("the second app panicked: {}", &log[at..log.len().min(at + 2000)]);
        }
        ended
    }
}

impl Drop for SecondApp {
    fn drop(&mut self) {
        // On an error path: never leave a driver (and its app) behind for the next session.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A port nothing listens on right now.
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits (a while, not forever) until no process runs with `data_dir` as its `SWITCHBOARD_DATA_DIR`:
/// the app has closed with its window.
async fn wait_for_exit(data_dir: &Path) {
    let wanted = format!("SWITCHBOARD_DATA_DIR={}", data_dir.display());
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        let running = std::fs::read_dir("/proc").into_iter().flatten().filter_map(Result::ok).any(|entry| {
            std::fs::read(entry.path().join("environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == wanted.as_bytes()))
                && std::fs::read_link(entry.path().join("exe"))
                    .is_ok_and(|exe| exe.file_name().is_some_and(|name| name == "switchboard"))
        });
        if !running {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
