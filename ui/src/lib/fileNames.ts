// A customer's file name as the app shows it: the name the server stores is kept byte-exactly
// (the hostile corpus rule), but a name like `../../etc/passwd`, `C:\x\y.txt` or `a/b.png` shows
// as its last component only, made safe: control characters replaced by `_`, and so are the
// bidirectional controls (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069), because inside the name
// an override still reorders it: `photo\u202Egnp.exe` would read as `photoexe.png`, an executable
// passing for a picture; no trailing dots or spaces. The shell writes a plain copy under the same
// rule (`crates/core/src/attachments.rs`, `open_name`, which also renames Windows device names and
// caps the length for the disk).

/** Control characters and the bidirectional controls, each shown as `_`. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The shown name of an attachment, or `null` when nothing of the name is left to show. */
export function shownFileName(fileName: string): string | null {
  const last = fileName.split(/[/\\]/).pop() ?? '';
  const safe = last.replace(UNSAFE, '_').replace(/[. ]+$/u, '').trimStart();
  return safe === '' || /^\.+$/.test(safe) ? null : safe;
}
