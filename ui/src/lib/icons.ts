// Icon geometry (24×24, stroked): our own static shapes as path data, drawn by Icon.svelte.
import type { Channel } from './bindings';

const circle = (cx: number, cy: number, r: number) => `M${cx - r} ${cy}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`;
const rect = (x: number, y: number, w: number, h: number, r: number) =>
  `M${x + r} ${y}h${w - 2 * r}a${r} ${r} 0 0 1 ${r} ${r}v${h - 2 * r}a${r} ${r} 0 0 1 ${-r} ${r}h${-(w - 2 * r)}a${r} ${r} 0 0 1 ${-r} ${-r}v${-(h - 2 * r)}a${r} ${r} 0 0 1 ${r} ${-r}z`;

export const ICONS = {
  search: [circle(11, 11, 7), 'm20 20-3.5-3.5'],
  pin: ['M9 3.5h6l-1 6.5 3.5 3.2V15h-11v-1.8L10 10z', 'M12 15v6'],
  clock: [circle(12, 12, 9), 'M12 7v5l3 2'],
  check: ['m5 12.5 4.5 4.5L19 7.5'],
  checks: ['m2 12.5 4.5 4.5L16 7.5', 'm11.5 16 1 1L22 7.5'],
  alert: [circle(12, 12, 9), 'M12 7.5v5.5', 'M12 16.5v.01'],
  paperclip: ['m20.5 11.5-8.3 8.3a5 5 0 0 1-7-7l8.6-8.6a3.4 3.4 0 0 1 4.8 4.8l-8.5 8.6a1.7 1.7 0 0 1-2.5-2.5l7.9-7.8'],
  send: ['M4.5 12 20 4.5 15.5 20l-3.5-6.5z', 'm12 13.5 8-9'],
  x: ['M6 6l12 12', 'M18 6 6 18'],
  chevronDown: ['m6 9 6 6 6-6'],
  user: [circle(12, 8, 4), 'M4 20.5a8 8 0 0 1 16 0'],
  users: [circle(9, 8, 3.5), 'M2.5 20a6.5 6.5 0 0 1 13 0', 'M16 4.6a3.5 3.5 0 0 1 0 6.8', 'M18 14a6.2 6.2 0 0 1 3.5 6'],
  userX: [circle(10, 8, 4), 'M2.5 20.5a7.6 7.6 0 0 1 11.5-6.5', 'm16.5 15 5 5', 'm21.5 15-5 5'],
  tag: ['M3.5 12V4.5a1 1 0 0 1 1-1H12l8.5 8.5-8.5 8.5z', circle(8, 8, 1.3)],
  inbox: ['M3 13h5l1.5 3h5l1.5-3h5', 'M5.5 5h13L21 13v5.5a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V13z'],
  at: [circle(12, 12, 4), 'M16 8v5a3 3 0 0 0 6 0v-1a10 10 0 1 0-4 8'],
  layers: ['m12 3 9 5-9 5-9-5z', 'm3 12.5 9 5 9-5', 'm3 17 9 5 9-5'],
  moon: ['M20 14.5A8.5 8.5 0 0 1 9.5 4a8.5 8.5 0 1 0 10.5 10.5z'],
  bell: ['M6 9a6 6 0 0 1 12 0c0 6.5 2.5 8.5 2.5 8.5h-17S6 15.5 6 9', 'M10 20.5a2.2 2.2 0 0 0 4 0'],
  refresh: ['M20 12a8 8 0 1 1-2.4-5.7', 'M20 4v5h-5'],
  panel: [rect(3, 4, 18, 16, 2), 'M15 4v16'],
  image: [rect(3, 4, 18, 16, 2), circle(9, 10, 2), 'm21 16-5-5-9 9'],
  file: ['M14 3H6.5a1.5 1.5 0 0 0-1.5 1.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8z', 'M14 3v5h5'],
  keyboard: [rect(2, 6, 20, 12, 2), 'M6 10h.01', 'M10 10h.01', 'M14 10h.01', 'M18 10h.01', 'M7 14h10'],
  logout: ['M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3', 'M10 17l-5-5 5-5', 'M5 12h11'],
  plus: ['M12 5v14', 'M5 12h14'],
  pencil: ['M4 20h4L19 9l-4-4L4 16z', 'm13.5 6.5 4 4'],
  trash: ['M4 7h16', 'M9 7V4h6v3', 'M6 7l1 13h10l1-13', 'M10 11v6', 'M14 11v6'],
  bookmark: ['M6 3.5h12V21l-6-4.5L6 21z'],
  sliders: ['M4 6h9', 'M17 6h3', circle(15, 6, 2), 'M4 12h3', 'M11 12h9', circle(9, 12, 2), 'M4 18h11', 'M19 18h1', circle(17, 18, 2)],
  note: ['M4.5 4.5h15V14l-5.5 5.5H4.5z', 'M14 19.5V14h5.5'],
  reply: ['M9 14 4 9l5-5', 'M4 9h10.5a5.5 5.5 0 0 1 5.5 5.5V19'],
  external: ['M14 4h6v6', 'M20 4 10.5 13.5', 'M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5'],
  phone: ['M5 3.5h3.5l2 5-2.5 1.5a11 11 0 0 0 6 6l1.5-2.5 5 2V19a2 2 0 0 1-2 2A17 17 0 0 1 3 5.5a2 2 0 0 1 2-2'],
  mail: [rect(3, 5, 18, 14, 2), 'm3.5 7 8.5 6 8.5-6'],
  flag: ['M5 21V4', 'M5 4.5h12.5l-2.5 4 2.5 4H5'],
  checkCircle: [circle(12, 12, 9), 'm8 12.5 3 3 5-6'],
  eye: ['M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12', circle(12, 12, 3)],
  lock: [rect(5, 11, 14, 10, 2), 'M8 11V7a4 4 0 0 1 8 0v4'],
  shield: ['M12 3 4.5 6v5.5c0 4.5 3.2 8.3 7.5 9.5 4.3-1.2 7.5-5 7.5-9.5V6z', 'm9 12 2 2 4-4'],
  more: [circle(5, 12, 1), circle(12, 12, 1), circle(19, 12, 1)],
  command: ['M9 6a3 3 0 1 0-3 3h12a3 3 0 1 0-3-3v12a3 3 0 1 0 3-3H6a3 3 0 1 0 3 3z'],
  offline: ['M2 2l20 20', 'M8.5 16.5a5 5 0 0 1 7 0', 'M5 12.5a10 10 0 0 1 4.5-2.3', 'M19 12.5a10 10 0 0 0-2-1.5', 'M2 8.8a15 15 0 0 1 4.3-2.6', 'M12 20h.01'],
  wifi: ['M5 12.5a10 10 0 0 1 14 0', 'M8.5 16a5 5 0 0 1 7 0', 'M2 9a15 15 0 0 1 20 0', 'M12 19.5h.01'],
  chevronRight: ['m9 6 6 6-6 6'],
  chevronLeft: ['m15 6-6 6 6 6'],
  chart: ['M4 4v16h16', 'M8 16v-5', 'M12 16V8', 'M16 16v-3', 'M20 16V6'],
  download: ['M12 4v11', 'm7 10 5 5 5-5', 'M5 20h14'],
  globe: [circle(12, 12, 9), 'M3 12h18', 'M12 3a14 14 0 0 1 0 18a14 14 0 0 1 0-18'],
} satisfies Record<string, string[]>;

export type IconName = keyof typeof ICONS;

/** An icon's strokes as one path's data: one SVG element to build, lay out and paint per icon, not
 * one per stroke. A relative moveto that starts a path is taken as absolute; joined after another
 * stroke it would be relative to that one's end, so such a stroke first moves to the origin. */
export function onePath(strokes: readonly string[]): string {
  return strokes.map((d) => (d.startsWith('m') ? `M0 0${d}` : d)).join('');
}

const joinAll = <K extends string>(icons: Record<K, readonly string[]>): Record<K, string> =>
  Object.fromEntries(Object.entries<readonly string[]>(icons).map(([name, strokes]) => [name, onePath(strokes)])) as Record<K, string>;

/** `ICONS`, each as one path. */
export const ICON_PATHS = joinAll(ICONS);

/** Channel glyphs (stroked, drawn white on the channel's colour). */
export const CHANNEL_GLYPHS: Record<Channel, string[]> = {
  whatsapp: [
    'M12 3.8a8.2 8.2 0 0 0-7 12.5L3.8 20.2l4-1.1A8.2 8.2 0 1 0 12 3.8z',
    'M9.3 8.4c.3-.3.7-.2.9.1l.6 1.3c.1.3 0 .5-.2.7l-.4.5a6 6 0 0 0 2.7 2.7l.5-.4c.2-.2.5-.3.7-.2l1.3.6c.3.2.4.6.1.9l-.5.5c-.6.6-1.4.7-2.2.3a8.6 8.6 0 0 1-3.9-3.9c-.4-.8-.3-1.6.3-2.2z',
  ],
  instagram: [rect(4, 4, 16, 16, 4.5), circle(12, 12, 3.6), 'M16.6 7.4v.01'],
  telegram: ['M20.5 4.5 3.5 11.2l5.3 1.9 1.9 5.9 3-3.3 4.6 3.4z', 'm8.8 13.1 8.4-5.8'],
  email: [rect(3.5, 5.5, 17, 13, 2), 'm4 7.5 8 5.5 8-5.5'],
  webchat: ['M4.5 5.5h15a1 1 0 0 1 1 1V15a1 1 0 0 1-1 1H10l-4.5 3.5V16h-1a1 1 0 0 1-1-1V6.5a1 1 0 0 1 1-1z', 'M8.5 10.8h.01', 'M12 10.8h.01', 'M15.5 10.8h.01'],
  api: ['m8 8-4 4 4 4', 'm16 8 4 4-4 4', 'm13.5 5.5-3 13'],
  facebook: ['M12 3.8c-4.6 0-8.2 3.4-8.2 7.8 0 2.4 1.1 4.6 2.9 6v3l2.8-1.6c.8.2 1.6.3 2.5.3 4.6 0 8.2-3.4 8.2-7.8S16.6 3.8 12 3.8z', 'm7.5 13.6 3-3.3 2.4 1.9 3.6-3.8'],
};

/** `CHANNEL_GLYPHS`, each as one path. */
export const CHANNEL_PATHS = joinAll(CHANNEL_GLYPHS);

export const CHANNEL_COLOR: Record<Channel, string> = {
  whatsapp: 'var(--wa)',
  instagram: 'var(--ig)',
  telegram: 'var(--tg)',
  email: 'var(--em)',
  webchat: 'var(--wc)',
  api: 'var(--api)',
  facebook: 'var(--fb)',
};
