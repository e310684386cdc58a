#!/usr/bin/env bash
# Installs what building and testing Switchboard needs on Debian/Ubuntu, skipping what is there.
# Safe to run again. Needs root or sudo for the system packages.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config curl ca-certificates python3 python3-pip python3-venv
  # A real Secret Service for the keychain tests (scripts/with-secret-service.sh).
  dbus dbus-bin dbus-x11 gnome-keyring libsecret-tools
  # Tauri 2's system libraries.
  libwebkit2gtk-4.1-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev file
  # The end-to-end tests: a virtual display, WebKit's WebDriver, a notification server, and
  # xdotool to type into the native save dialog.
  xvfb xdotool webkit2gtk-driver dunst libnotify-bin
  # The transcripts' PDF: its embedded font at build time (src-tauri/src/transcript_pdf.rs), and
  # pdftotext to read an exported PDF back in the e2e.
  fonts-dejavu-core poppler-utils
  # The server's suite on PostgreSQL (scripts/with-postgres.sh runs a throwaway cluster).
  postgresql-15
  # The load balancer in front of several server nodes (deploy/nginx.conf, scripts/run-nodes.sh).
  nginx
  # The email connector's IMAP server in tests (scripts/with-dovecot.sh runs it unprivileged).
  dovecot-imapd
  # The website chat widget's browser test (tests/e2e/widget_browser.rs): headless Chromium and
  # its WebDriver.
  chromium chromium-driver
)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo is missing; install Rust with rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi

# tauri-driver bridges WebDriver to the app's WebKitWebDriver (the end-to-end tests).
if ! command -v tauri-driver >/dev/null; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked --quiet
fi

# The UI's dependencies, from its lock file.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "setup: installing the UI's npm dependencies"
  npm --prefix ui ci --no-audit --no-fund --loglevel=error
fi

# schemathesis fuzzes the API from its OpenAPI document (tests/schemathesis.sh).
if ! command -v st >/dev/null; then
  echo "setup: installing schemathesis"
  python3 -m pip install --quiet schemathesis 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages schemathesis
fi

# aiosmtpd is the SMTP server the email tests send to (scripts/with-smtp-sink.sh).
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  echo "setup: installing aiosmtpd"
  python3 -m pip install --quiet aiosmtpd 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages aiosmtpd
fi

# moto's server is the throwaway S3 endpoint of the attachment tests (scripts/with-s3.sh).
if ! command -v moto_server >/dev/null; then
  echo "setup: installing moto"
  python3 -m pip install --quiet 'moto[server]' 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages 'moto[server]'
fi
