import { describe, expect, it } from 'vitest';
import { CHANNEL_GLYPHS, CHANNEL_PATHS, ICONS, ICON_PATHS, onePath } from './icons';

describe('icons as one path each', () => {
  it('keeps absolute strokes as they are and starts relative ones from the origin', () => {
    // Joined as is, `m20 20` would move 20,20 from where the first stroke ended (12+2, 7).
    expect(onePath(['M12 7h2', 'm20 20-3.5-3.5'])).toBe('M12 7h2M0 0m20 20-3.5-3.5');
    expect(onePath(['M6 6l12 12', 'M18 6 6 18'])).toBe('M6 6l12 12M18 6 6 18');
  });

  it('joins every stroke of every icon, each path starting with an absolute move', () => {
    const moves = (path: string) => path.split(/(?=[Mm])/).filter((part) => part !== 'M0 0').length;
    const sets: [Record<string, readonly string[]>, Record<string, string>][] = [
      [ICONS, ICON_PATHS],
      [CHANNEL_GLYPHS, CHANNEL_PATHS],
    ];
    for (const [strokesByName, paths] of sets) {
      for (const [name, strokes] of Object.entries(strokesByName)) {
        expect(paths[name].startsWith('M'), name).toBe(true);
        expect(moves(paths[name]), name).toBe(strokes.reduce((sum, stroke) => sum + moves(stroke), 0));
      }
    }
  });
});
