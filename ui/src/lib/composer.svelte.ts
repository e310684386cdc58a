// The composer's timers: saving the draft a moment after typing stops (at once when leaving), and
// telling colleagues the agent is typing (refreshed while typing goes on, withdrawn when it stops).
// The decisions are the pure `draftDecision` and `typingDecision` in `composer.ts`; this drives them.
import { api } from './api';
import type { SendKind } from './bindings';
import { IDLE_TYPING, draftDecision, typingDecision, type TypingEvent } from './composer';

export type Draft = { kind: SendKind; body: string };

export type ComposerDeps = {
  /** What the composer holds now. */
  current: () => Draft;
  /** Keeps the text in memory, so switching back shows it before the backend's copy is read. */
  remember: (draft: Draft) => void;
  now?: () => number;
};

/** One per composer (one per open conversation). Call `destroy` when the composer goes. */
export class ComposerTimers {
  private saved: Draft;
  private lastEditAt = 0;
  private draftTimer: ReturnType<typeof setTimeout> | null = null;
  private typingState = IDLE_TYPING;
  private typingTicker: ReturnType<typeof setInterval> | null = null;
  private now: () => number;

  constructor(
    private conversationId: string,
    initial: Draft,
    private deps: ComposerDeps,
  ) {
    this.saved = { ...initial };
    this.now = deps.now ?? Date.now;
  }

  /** The text or mode changed: remember it and save it once typing pauses. */
  edited(): void {
    this.lastEditAt = this.now();
    this.deps.remember(this.deps.current());
    this.saveDraft();
  }

  /** Saves the draft if it changed: now with `force` (leaving, blur), else once typing pauses. */
  saveDraft(force = false): void {
    const current = this.deps.current();
    const decision = draftDecision({ saved: this.saved, current, lastEditAt: this.lastEditAt }, this.now(), force);
    this.cancelDraft();
    if (decision.action === 'save') {
      const snapshot = { ...current };
      this.saved = snapshot;
      api.saveDraft(this.conversationId, snapshot.kind, snapshot.body).catch(() => {});
    } else if (decision.action === 'wait') {
      this.draftTimer = setTimeout(() => this.saveDraft(), decision.ms);
    }
  }

  /** A typing event (input, a tick, send, blur, leave); replies only are announced. */
  typing(event: TypingEvent): void {
    const decision = typingDecision(this.typingState, event, this.now());
    this.typingState = decision.state;
    if (decision.send !== null && this.deps.current().kind === 'reply') {
      api.typing(this.conversationId, decision.send).catch(() => {});
    }
    if (this.typingState.active && !this.typingTicker) this.typingTicker = setInterval(() => this.typing('tick'), 1000);
    if (!this.typingState.active && this.typingTicker) {
      clearInterval(this.typingTicker);
      this.typingTicker = null;
    }
  }

  /** The message went: the draft is empty (the server cleared its copy), typing stopped. */
  sent(kind: SendKind): void {
    this.typing('send');
    this.saved = { kind, body: '' };
    this.deps.remember(this.saved);
    this.cancelDraft();
  }

  /** The composer goes: save what is unsaved and stop announcing typing. */
  destroy(): void {
    this.saveDraft(true);
    this.typing('leave');
    if (this.typingTicker) clearInterval(this.typingTicker);
    this.typingTicker = null;
  }

  private cancelDraft(): void {
    if (this.draftTimer) clearTimeout(this.draftTimer);
    this.draftTimer = null;
  }
}
