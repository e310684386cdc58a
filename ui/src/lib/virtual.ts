// The arithmetic of the virtualized conversation list: which rows to draw, which pages to fetch.

export const ROW_HEIGHT = 72;
export const PAGE_SIZE = 100;
export const OVERSCAN = 8;

/** Rows [start, end) to keep in the DOM for a scroll position, with overscan on both sides. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  total: number,
  rowHeight = ROW_HEIGHT,
  overscan = OVERSCAN,
): { start: number; end: number } {
  if (total <= 0 || viewportHeight <= 0) return { start: 0, end: Math.min(total, Math.max(0, overscan)) };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const last = Math.ceil((Math.max(0, scrollTop) + viewportHeight) / rowHeight);
  const start = Math.max(0, Math.min(first, total - 1) - overscan);
  const end = Math.min(total, last + overscan);
  return { start, end: Math.max(start, end) };
}

/** Offsets of the pages that hold rows [start, end). */
export function pagesFor(start: number, end: number, pageSize = PAGE_SIZE): number[] {
  if (end <= start) return [];
  const pages: number[] = [];
  for (let offset = Math.floor(start / pageSize) * pageSize; offset < end; offset += pageSize) pages.push(offset);
  return pages;
}

/** The scrollTop that brings row `index` into view (unchanged when it already is). */
export function scrollToReveal(index: number, scrollTop: number, viewportHeight: number, rowHeight = ROW_HEIGHT): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return bottom - viewportHeight;
  return scrollTop;
}

/** The indices from `anchor` to `target`, inclusive, in either direction. */
export function rangeBetween(anchor: number, target: number): [number, number] {
  return anchor <= target ? [anchor, target] : [target, anchor];
}
