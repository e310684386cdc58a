//! Tidy checks of the repository's own files, each a function from the repository root to the
//! list of violations, so `tests/tidy.rs` runs them on the real tree under `cargo test` and the unit
//! tests below run them on small trees that break each rule.
//!
//! - [`module_docs`]: every `.rs` file opens with a `//!` line saying what it is for.
//! - [`http_outside_http_layer`]: HTTP types (`axum`, `http::`, `StatusCode`, `tower`) appear in the
//!   server only in [`SERVER_HTTP_LAYER`]; the domain and the storage backends never see them.
//! - [`rusqlite_outside_sqlite_backend`]: `rusqlite` appears in the server only in
//!   [`SERVER_SQLITE_BACKEND`].
//! - [`postgres_outside_postgres_backend`]: the PostgreSQL client crates appear in the server only in
//!   [`SERVER_POSTGRES_BACKEND`].
//! - [`architecture_paths`]: every repository path that ARCHITECTURE.md names in backticks exists.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// The server's HTTP edge: the only files under `crates/server/src/` that may name `axum`,
/// `http::`, `StatusCode` or `tower`. An entry ending in `/` is a directory and covers everything
/// in it. The server's layout owns this list: change it with the layout.
pub const SERVER_HTTP_LAYER: &[&str] = &[
    "crates/server/src/http.rs",
    "crates/server/src/http/",
    "crates/server/src/error.rs",
    "crates/server/src/lib.rs",
];

/// The server's SQLite backend: the only files under `crates/server/src/` that may name `rusqlite`.
pub const SERVER_SQLITE_BACKEND: &[&str] = &["crates/server/src/sqlite.rs", "crates/server/src/sqlite/"];

/// The server's PostgreSQL backend: the only files under `crates/server/src/` that may name the
/// `postgres` client crates (`postgres::`, `tokio_postgres`, `postgres_types`, `postgres_protocol`).
pub const SERVER_POSTGRES_BACKEND: &[&str] =
    &["crates/server/src/postgres.rs", "crates/server/src/postgres/"];

/// Where the server's source lives; the two layer checks look only here.
const SERVER_SRC: &str = "crates/server/src/";

/// Directories never searched: build output, installed packages, generated code, and hidden
/// directories (`.git` among them).
const SKIPPED_DIRS: &[&str] = &["target", "node_modules", "gen"];

/// Extensions that make a backticked word in ARCHITECTURE.md a file path even without a `/`.
const PATH_EXTENSIONS: &[&str] = &[
    ".rs", ".ts", ".js", ".svelte", ".md", ".sh", ".json", ".toml", ".html", ".css", ".lock", ".yml", ".yaml",
];

/// One broken rule, at a file and line (1-based), relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

impl Violation {
    fn new(path: &str, line: usize, message: impl Into<String>) -> Self {
        Violation { path: path.to_owned(), line, message: message.into() }
    }
}

/// Every `.rs` file outside [`SKIPPED_DIRS`] must open with a `//!` line.
pub fn module_docs(root: &Path) -> Vec<Violation> {
    let mut violations = Vec::new();
    for path in files(root).into_iter().filter(|path| path.ends_with(".rs")) {
        match fs::read_to_string(root.join(&path)) {
            Ok(text) => {
                let first = text.trim_start_matches('\u{feff}').lines().next().unwrap_or("");
                if !first.starts_with("//!") {
                    violations.push(Violation::new(
                        &path,
                        1,
                        "does not open with a `//!` line saying what the module is for",
                    ));
                }
            }
            Err(error) => violations.push(Violation::new(&path, 1, format!("cannot be read: {error}"))),
        }
    }
    violations
}

/// No `axum`, `http::`, `StatusCode` or `tower` in the server's source outside [`SERVER_HTTP_LAYER`]:
/// the domain and the backends answer in their own terms, and the HTTP layer maps them.
pub fn http_outside_http_layer(root: &Path) -> Vec<Violation> {
    server_words_outside(
        root,
        SERVER_HTTP_LAYER,
        "the HTTP layer (tidy's SERVER_HTTP_LAYER)",
        |word, _, rest| {
            let named = word == "axum"
                || word.starts_with("axum_")
                || word == "tower"
                || word.starts_with("tower_")
                || word == "StatusCode"
                || (word == "http" && rest.starts_with("::"));
            named.then(|| if word == "http" { "http::".to_owned() } else { word.to_owned() })
        },
    )
}

/// No `rusqlite` in the server's source outside [`SERVER_SQLITE_BACKEND`].
pub fn rusqlite_outside_sqlite_backend(root: &Path) -> Vec<Violation> {
    server_words_outside(
        root,
        SERVER_SQLITE_BACKEND,
        "the SQLite backend (tidy's SERVER_SQLITE_BACKEND)",
        |word, _, _| (word == "rusqlite").then(|| word.to_owned()),
    )
}

/// No PostgreSQL client crate in the server's source outside [`SERVER_POSTGRES_BACKEND`]. The
/// backend's own module is also called `postgres`, so `postgres::` counts only where it is not
/// reached through `crate::` (as `lib.rs` opens the backend).
pub fn postgres_outside_postgres_backend(root: &Path) -> Vec<Violation> {
    server_words_outside(
        root,
        SERVER_POSTGRES_BACKEND,
        "the PostgreSQL backend (tidy's SERVER_POSTGRES_BACKEND)",
        |word, before, rest| {
            let client_crate = matches!(word, "tokio_postgres" | "postgres_types" | "postgres_protocol");
            let client_path = word == "postgres" && rest.starts_with("::") && !before.contains("crate::");
            (client_crate || client_path).then(|| {
                if client_path {
                    "postgres::".to_owned()
                } else {
                    word.to_owned()
                }
            })
        },
    )
}

/// Every path ARCHITECTURE.md writes in backticks exists. A backticked word is a path when it has
/// no spaces and contains a `/` or ends in a known extension (`.rs`, `.svelte`, …); a trailing
/// `::item` is dropped, `{a,b}` braces are expanded, and globs (`*`) and routes (`/api/…`, URLs)
/// are skipped, as are fenced code blocks. A path that doesn't start at the root, as in a crate's
/// own section (`sqlite/feed.rs`), exists when some path in the repository ends with it.
pub fn architecture_paths(root: &Path) -> Vec<Violation> {
    let doc = "ARCHITECTURE.md";
    let text = match fs::read_to_string(root.join(doc)) {
        Ok(text) => text,
        Err(error) => return vec![Violation::new(doc, 1, format!("cannot be read: {error}"))],
    };
    let known: Vec<String> = files_and_dirs(root);
    let exists = |path: &str| {
        let path = path.trim_end_matches('/');
        root.join(path).exists() || known.iter().any(|known| known.ends_with(&format!("/{path}")))
    };
    let mut violations = Vec::new();
    let mut fenced = false;
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        for span in code_spans(line) {
            for path in repo_paths(span) {
                if !exists(&path) {
                    violations.push(Violation::new(
                        doc,
                        index + 1,
                        format!("`{span}` names `{path}`, which is not in the repository"),
                    ));
                }
            }
        }
    }
    violations
}

/// The words (identifiers) of every non-comment line of the server's source files outside
/// `allowed`, checked with `forbidden(word, text after the word)`, which names what it found.
fn server_words_outside(
    root: &Path,
    allowed: &[&str],
    place: &str,
    forbidden: impl Fn(&str, &str, &str) -> Option<String>,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    let in_allowed = |path: &str| {
        allowed
            .iter()
            .any(|entry| if entry.ends_with('/') { path.starts_with(entry) } else { path == *entry })
    };
    let sources =
        files(root).into_iter().filter(|path| path.starts_with(SERVER_SRC) && path.ends_with(".rs"));
    for path in sources.filter(|path| !in_allowed(path)) {
        let Ok(text) = fs::read_to_string(root.join(&path)) else {
            violations.push(Violation::new(&path, 1, "cannot be read"));
            continue;
        };
        for (index, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            let code = without_strings(line);
            let mut named: Vec<String> = Vec::new();
            for (start, word) in words(&code) {
                if let Some(name) = forbidden(word, &code[..start], &code[start + word.len()..]) {
                    if !named.contains(&name) {
                        violations.push(Violation::new(
                            &path,
                            index + 1,
                            format!("`{name}` outside {place}"),
                        ));
                        named.push(name);
                    }
                }
            }
        }
    }
    violations
}

/// A line with the contents of its string literals blanked (`"info,tower_http=warn"` names no
/// crate), so only code is checked. A string that spans lines is not followed.
fn without_strings(line: &str) -> String {
    let mut code = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => {
                in_string = !in_string;
                code.push(c);
            }
            '\'' if !in_string && chars.peek() == Some(&'"') => {
                // The char literal '"'.
                code.push(c);
                chars.next();
            }
            _ if in_string => code.push(' '),
            _ => code.push(c),
        }
    }
    code
}

/// The identifiers of a line with their byte offsets.
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    for (at, c) in line.char_indices().chain(std::iter::once((line.len(), ' '))) {
        let in_word = c.is_alphanumeric() || c == '_';
        match (start, in_word) {
            (None, true) => start = Some(at),
            (Some(from), false) => {
                words.push((from, &line[from..at]));
                start = None;
            }
            _ => {}
        }
    }
    words
}

/// The contents of a line's inline code spans (a run of backticks up to the next run as long).
fn code_spans(line: &str) -> Vec<&str> {
    let mut spans = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('`') {
        let ticks = rest[open..].len() - rest[open..].trim_start_matches('`').len();
        let after = &rest[open + ticks..];
        let fence = &rest[open..open + ticks];
        let Some(close) = find_run(after, fence) else { break };
        spans.push(after[..close].trim());
        rest = &after[close + ticks..];
    }
    spans
}

/// Where a run of exactly `fence` backticks starts in `text`.
fn find_run(text: &str, fence: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find(fence) {
        let at = from + at;
        let end = at + fence.len();
        let longer = text[end..].starts_with('`') || (at > 0 && text[..at].ends_with('`'));
        if !longer {
            return Some(at);
        }
        from = end + text[end..].len() - text[end..].trim_start_matches('`').len();
    }
    None
}

/// The repository paths a code span names: none unless it looks like one (see [`architecture_paths`]).
fn repo_paths(span: &str) -> Vec<String> {
    if span.is_empty()
        || span.contains(char::is_whitespace)
        || span.contains("://")
        || span.starts_with('/')
        || span.contains(['*', '?', '<', '>', '(', ')', '"', '\'', '=', '[', ']'])
    {
        return Vec::new();
    }
    let path = span.split("::").next().unwrap_or(span);
    expand_braces(path)
        .into_iter()
        .filter(|path| path.contains('/') || PATH_EXTENSIONS.iter().any(|ext| path.ends_with(ext)))
        .collect()
}

/// `a/{b,c}.rs` → `a/b.rs`, `a/c.rs` (every brace group, left to right; no nesting).
fn expand_braces(text: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (text.find('{'), text.find('}')) else { return vec![text.to_owned()] };
    if close < open {
        return vec![text.to_owned()];
    }
    let (head, tail) = (&text[..open], &text[close + 1..]);
    text[open + 1..close]
        .split(',')
        .flat_map(|choice| expand_braces(&format!("{head}{choice}{tail}")))
        .collect()
}

/// Every file under `root`, as a `/`-separated path relative to it, outside [`SKIPPED_DIRS`].
fn files(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    walk(root, root, &mut |path, is_dir| {
        if !is_dir {
            found.push(path.to_owned());
        }
    });
    found.sort();
    found
}

/// Every file and directory under `root`, with a leading `/`, so a suffix match starts at a name.
fn files_and_dirs(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    walk(root, root, &mut |path, _| found.push(format!("/{path}")));
    found
}

fn walk(root: &Path, dir: &Path, visit: &mut dyn FnMut(&str, bool)) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> =
        entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    entries.sort();
    for path in entries {
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else { continue };
        let Ok(kind) = fs::symlink_metadata(&path).map(|meta| meta.file_type()) else { continue };
        let relative = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if kind.is_dir() {
            if name.starts_with('.') || SKIPPED_DIRS.contains(&name) {
                continue;
            }
            visit(&relative, true);
            walk(root, &path, visit);
        } else if kind.is_file() {
            visit(&relative, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A directory tree under the system's temp dir, removed when dropped.
    struct Tree(PathBuf);

    impl Tree {
        fn new(files: &[(&str, &str)]) -> Tree {
            static COUNT: AtomicUsize = AtomicUsize::new(0);
            let name =
                format!("switchboard-tidy-{}-{}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed));
            let root = std::env::temp_dir().join(name);
            for (path, text) in files {
                let path = root.join(path);
                fs::create_dir_all(path.parent().expect("a file has a parent"))
                    .expect("creating a directory");
                fs::write(path, text).expect("writing a file");
            }
            Tree(root)
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn shown(violations: &[Violation]) -> Vec<String> {
        violations.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_rust_file_without_a_module_doc_is_reported() {
        let tree = Tree::new(&[
            ("crates/a/src/lib.rs", "//! What a is for.\nfn a() {}\n"),
            ("crates/a/src/bad.rs", "fn b() {}\n"),
            ("crates/a/build.rs", "// a plain comment is not a module doc\nfn main() {}\n"),
            ("target/debug/build/out.rs", "fn generated() {}\n"),
            ("ui/node_modules/x/y.rs", "fn vendored() {}\n"),
            ("src-tauri/gen/z.rs", "fn generated() {}\n"),
        ]);
        let violations = shown(&module_docs(&tree.0));
        assert_eq!(
            violations.iter().map(|v| v.split(':').next().unwrap_or("")).collect::<Vec<_>>(),
            ["crates/a/build.rs", "crates/a/src/bad.rs"],
            "only the two undocumented files outside target/, node_modules/ and gen/: {violations:#?}"
        );
        assert!(
            violations[0].starts_with("crates/a/build.rs:1: "),
            "with its file and line: {violations:#?}"
        );
    }

    #[test]
    fn http_types_outside_the_http_layer_are_reported() {
        let tree = Tree::new(&[
            ("crates/server/src/http.rs", "//! Routes.\nuse axum::Router;\nuse http::StatusCode;\n"),
            ("crates/server/src/http/auth.rs", "//! Auth.\nuse tower_http::limit;\n"),
            (
                "crates/server/src/sqlite/feed.rs",
                "//! Feed.\n// axum is not named in code here\nfn f() -> axum::http::StatusCode { todo() }\n\
                 use tower::Service;\nlet towers = 1; let http_client = 2;\nuse crate::http::thing; http::x(http::y);\n\
                 let filter = \"info,tower_http=warn\"; let quote = '\"'; let in_string = \"a \\\" axum\";\n",
            ),
            ("crates/core/src/api.rs", "//! Not the server.\nuse http::StatusCode;\n"),
        ]);
        let violations = shown(&http_outside_http_layer(&tree.0));
        assert_eq!(
            violations,
            [
                "crates/server/src/sqlite/feed.rs:3: `axum` outside the HTTP layer (tidy's SERVER_HTTP_LAYER)",
                "crates/server/src/sqlite/feed.rs:3: `http::` outside the HTTP layer (tidy's SERVER_HTTP_LAYER)",
                "crates/server/src/sqlite/feed.rs:3: `StatusCode` outside the HTTP layer (tidy's SERVER_HTTP_LAYER)",
                "crates/server/src/sqlite/feed.rs:4: `tower` outside the HTTP layer (tidy's SERVER_HTTP_LAYER)",
                "crates/server/src/sqlite/feed.rs:6: `http::` outside the HTTP layer (tidy's SERVER_HTTP_LAYER)",
            ],
            "each name once per line outside the allow-list; not in comments or strings, not `towers` or \
             `http_client`, not in other crates"
        );
    }

    #[test]
    fn rusqlite_outside_the_sqlite_backend_is_reported() {
        let tree = Tree::new(&[
            ("crates/server/src/sqlite.rs", "//! Backend.\nuse rusqlite::Connection;\n"),
            ("crates/server/src/sqlite/records.rs", "//! Records.\nuse rusqlite::params;\n"),
            ("crates/server/src/workspace/send.rs", "//! Send.\n\nuse rusqlite::Transaction;\n"),
        ]);
        let violations = shown(&rusqlite_outside_sqlite_backend(&tree.0));
        assert_eq!(
            violations,
            ["crates/server/src/workspace/send.rs:3: `rusqlite` outside the SQLite backend (tidy's SERVER_SQLITE_BACKEND)"],
            "only the domain file that names rusqlite"
        );
    }

    #[test]
    fn postgres_outside_the_postgres_backend_is_reported() {
        let tree = Tree::new(&[
            ("crates/server/src/postgres.rs", "//! Backend.\nuse ::postgres::Client;\n"),
            ("crates/server/src/postgres/verbs.rs", "//! Verbs.\nuse postgres::Row;\n"),
            (
                "crates/server/src/lib.rs",
                "//! Lib.\npub mod postgres;\nuse crate::{bus::Bus, postgres::PostgresStore};\n",
            ),
            (
                "crates/server/src/workspace/send.rs",
                "//! Send.\nuse postgres::Client;\nuse tokio_postgres::Row;\n",
            ),
        ]);
        let violations = shown(&postgres_outside_postgres_backend(&tree.0));
        assert_eq!(
            violations,
            [
                "crates/server/src/workspace/send.rs:2: `postgres::` outside the PostgreSQL backend (tidy's SERVER_POSTGRES_BACKEND)",
                "crates/server/src/workspace/send.rs:3: `tokio_postgres` outside the PostgreSQL backend (tidy's SERVER_POSTGRES_BACKEND)",
            ],
            "only the domain file that names the client crates; lib.rs opens the backend through crate::"
        );
    }

    #[test]
    fn architecture_md_naming_a_missing_path_is_reported() {
        let doc = "# Architecture\n\
                   `crates/a/src/lib.rs` and `crates/a/src/{lib,gone}.rs`\n\
                   In a's section: `src/lib.rs::run`, `lib.rs`, `crates/a/`, `missing/file.rs::item`.\n\
                   Not paths: `GET /sync`, `/api/v1/sync`, `crates/*/Cargo.toml`, `Tx::put`, `launch(config, listener)`.\n\
                   ```\n\
                   `inside/a/fence.rs`\n\
                   ```\n\
                   ``double `ticked` span.md`` and `Gone.svelte`\n";
        let tree = Tree::new(&[("ARCHITECTURE.md", doc), ("crates/a/src/lib.rs", "//! a\n")]);
        let violations = shown(&architecture_paths(&tree.0));
        assert_eq!(
            violations,
            [
                "ARCHITECTURE.md:2: `crates/a/src/{lib,gone}.rs` names `crates/a/src/gone.rs`, which is not in the repository",
                "ARCHITECTURE.md:3: `missing/file.rs::item` names `missing/file.rs`, which is not in the repository",
                "ARCHITECTURE.md:8: `Gone.svelte` names `Gone.svelte`, which is not in the repository",
            ],
            "each missing path with its line; braces expanded, items stripped, routes, globs and fences skipped"
        );
    }

    #[test]
    fn code_spans_follow_backtick_runs() {
        assert_eq!(code_spans("a `b` c ``d ` e`` `f"), ["b", "d ` e"]);
        assert_eq!(expand_braces("x/{a,b}/{c,d}.rs"), ["x/a/c.rs", "x/a/d.rs", "x/b/c.rs", "x/b/d.rs"]);
    }
}
