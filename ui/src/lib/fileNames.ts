// A customer's file name as the app shows it: the name the server stores is kept byte-exactly
// (the hostile corpus rule), but a name like `../../etc/passwd`, `C:\x\y.txt` or `a/b.png` shows
// as its last component only, made safe: control characters replaced by `_`, no trailing dots or
// spaces. The shell writes a plain copy under the same rule (`crates/core/src/attachments.rs`,
// `open_name`, which also renames Windows device names and caps the length for the disk).

/** The shown name of an attachment, or `null` when nothing of the name is left to show. */
export function shownFileName(fileName: string): string | null {
  const last = fileName.split(/[/\\]/).pop() ?? '';
  const safe = last.replace(/[\u0000-\u001f\u007f-\u009f]/g, '_').replace(/[. ]+$/u, '').trimStart();
  return safe === '' || /^\.+$/.test(safe) ? null : safe;
}
