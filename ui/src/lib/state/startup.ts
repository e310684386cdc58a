// Start-up timing: the performance marks the shell's benchmark reads, and "after the first frame",
// which defers work that would otherwise delay the inbox list's first paint.
import { api } from '../api';

/** Marks a start-up step (`switchboard:<name>`); `reportFirstPaint` sends them all to the shell. */
export function mark(name: string): void {
  performance.mark(`switchboard:${name}`);
}

/** Runs `work` once the frame being built now is on screen: a frame's `requestAnimationFrame` runs
 * before its style, layout and paint, the next one after the compositor has shown it, and the
 * timeout lets what that callback started (the start-up mark) go out first. A hidden window draws
 * no frames, so after a second it runs anyway. */
export function afterFirstFrame(work: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    work();
  };
  requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(once)));
  setTimeout(once, 1000);
}

let firstPaintSent = false;

/** Reports the first frame with the list once it is on screen (once per window): a frame's
 * `requestAnimationFrame` runs before that frame's style, layout and paint, and the next one only
 * after the compositor has shown it. The benchmark's hello-world reports its first frame the same
 * way. */
export function reportFirstPaint(): void {
  if (firstPaintSent) return;
  firstPaintSent = true;
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      const marks = performance
        .getEntriesByType('mark')
        .filter((entry) => entry.name.startsWith('switchboard:'))
        .map((entry): [string, number] => [entry.name.slice('switchboard:'.length), entry.startTime]);
      api.firstPaint(performance.now(), marks).catch(() => {});
    }),
  );
}
