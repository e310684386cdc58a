import { describe, expect, it } from 'vitest';
import corpus from '../../../tests/fixtures/hostile/cases.jsonl?raw';
import { shownFileName } from './fileNames';

describe('shownFileName', () => {
  it('keeps only the last component of a path a customer sent', () => {
    expect(shownFileName('../../etc/passwd')).toBe('passwd');
    expect(shownFileName('C:\\x\\y.txt')).toBe('y.txt');
    expect(shownFileName('a/b.png')).toBe('b.png');
    expect(shownFileName('..\\..\\Windows\\evil.bat')).toBe('evil.bat');
    expect(shownFileName('invoice.pdf')).toBe('invoice.pdf');
  });

  it('makes control characters visible and drops trailing dots and spaces', () => {
    expect(shownFileName('report\u0000.pdf')).toBe('report_.pdf');
    expect(shownFileName('two\nlines.txt')).toBe('two_lines.txt');
    expect(shownFileName('report.pdf.  ')).toBe('report.pdf');
  });

  it('shows a bidirectional control as `_`, so an override cannot disguise the extension', () => {
    expect(shownFileName('photo\u202Egnp.exe')).toBe('photo_gnp.exe');
    expect(shownFileName('a\u2067b\u2069.txt')).toBe('a_b_.txt');
    expect(shownFileName('\u200Finvoice.pdf')).toBe('_invoice.pdf');
  });

  it('answers nothing for a name with no file left in it', () => {
    for (const name of ['', '.', '..', 'dir/', 'a/..', '...', '   ', '/']) {
      expect(shownFileName(name), JSON.stringify(name)).toBeNull();
    }
  });

  it('shows every file name of the hostile corpus without a separator or control character', () => {
    let checked = 0;
    for (const line of corpus.split('\n').filter((l) => l.trim() !== '')) {
      const entry = JSON.parse(line) as { name: string; kind: string; text?: string; file_name?: string };
      const name = entry.kind === 'file_name' ? entry.text : entry.kind === 'attachment' ? entry.file_name : undefined;
      if (name === undefined) continue;
      const shown = shownFileName(name);
      checked += 1;
      if (shown === null) continue;
      expect(shown, entry.name).not.toMatch(/[/\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
      expect(shown.endsWith('.') || shown.endsWith(' '), entry.name).toBe(false);
      // What is shown is the end of what was sent, never something the app made up.
      expect(
        name.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '_').includes(shown),
        entry.name,
      ).toBe(true);
    }
    expect(checked).toBeGreaterThanOrEqual(50);
  });
});
