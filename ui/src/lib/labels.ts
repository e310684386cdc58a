// Label names as people write them. The server keeps a label's name exactly as typed and says two
// names are one label when their keys match (`crates/proto/src/labels.rs::label_key`); this is the
// same key, so the UI finds a label's colour by any spelling a conversation or rule carries.
import type { Label } from './bindings';

/** NFC, trimmed, whitespace runs as one space, lower case, Arabic ي/ى/ك as Persian ی/ک. */
export function labelKey(name: string): string {
  return name
    .normalize('NFC')
    .trim()
    .split(/\s+/u)
    .join(' ')
    .toLowerCase()
    .replace(/[يى]/gu, 'ی')
    .replace(/ك/gu, 'ک')
    .normalize('NFC');
}

/** A label's colour by any spelling of its name (`null`: no such label). */
export function labelColors(labels: Label[]): (name: string) => string | null {
  const byKey = new Map(labels.map((label) => [labelKey(label.name), label.color]));
  return (name) => byKey.get(labelKey(name)) ?? null;
}
