import { describe, expect, it } from 'vitest';
import { pagesFor, rangeBetween, scrollToReveal, visibleRange } from './virtual';

describe('virtual list arithmetic', () => {
  it('draws only the rows in view plus overscan', () => {
    expect(visibleRange(0, 720, 100_000, 72, 8)).toEqual({ start: 0, end: 18 });
    expect(visibleRange(72_000, 720, 100_000, 72, 8)).toEqual({ start: 992, end: 1018 });
  });
  it('clamps at the end and handles empty lists', () => {
    expect(visibleRange(72 * 99_990, 720, 100_000, 72, 8)).toEqual({ start: 99_982, end: 100_000 });
    expect(visibleRange(0, 720, 0)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(5000, 720, 3, 72, 8)).toEqual({ start: 0, end: 3 });
  });
  it('lists the pages that hold a range', () => {
    expect(pagesFor(0, 18)).toEqual([0]);
    expect(pagesFor(95, 118)).toEqual([0, 100]);
    expect(pagesFor(99_982, 100_000)).toEqual([99_900]);
    expect(pagesFor(5, 5)).toEqual([]);
  });
  it('scrolls just enough to reveal a row', () => {
    expect(scrollToReveal(0, 144, 720, 72)).toBe(0);
    expect(scrollToReveal(5, 0, 720, 72)).toBe(0);
    expect(scrollToReveal(10, 0, 720, 72)).toBe(72);
  });
  it('orders ranges', () => {
    expect(rangeBetween(7, 3)).toEqual([3, 7]);
    expect(rangeBetween(3, 7)).toEqual([3, 7]);
  });
});
