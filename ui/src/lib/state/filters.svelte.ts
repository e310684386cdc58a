// The filter bar and saved views: the draft filter the list shows as the agent builds it, saving
// it as a view (personal or for a team, queued through the outbox like any action), renaming and
// deleting saved views. The filter is evaluated by the core on the cache; nothing is counted here.
import { api } from '../api';
import type { ConversationFilter, Directory, SavedView, ViewKey } from '../bindings';
import {
  activeCriteria,
  draftFor,
  draftState,
  emptyFilter,
  filterView,
  normalized,
  sameFilter,
  teamsForViews,
  viewNameProblem,
} from '../filters';
import { t } from '../i18n';
import { toasts } from '../toasts.svelte';

export type FilterDeps = {
  report: (error: unknown) => void;
  directory: () => Directory | null;
  view: () => ViewKey;
  setView: (view: ViewKey) => void;
};

export class FilterBar {
  /** Whether the bar is shown. */
  open = $state(false);
  draft = $state.raw<ConversationFilter>(emptyFilter());
  /** The saved view the draft was opened from (and "Update view" writes to), if any. */
  base = $state<string | null>(null);
  /** The unsaved draft the last switch of view discarded, until restored or another switch. */
  discarded = $state.raw<{ draft: ConversationFilter; base: string | null } | null>(null);
  /** The "save as view" form. */
  saving = $state(false);
  name = $state('');
  /** null: a personal view; else the team it is for. */
  team = $state<string | null>(null);
  problem = $state<string | null>(null);
  /** The saved view being renamed in the sidebar, and the one waiting for its delete confirmation. */
  renaming = $state<string | null>(null);
  confirming = $state<string | null>(null);

  constructor(private deps: FilterDeps) {}

  /** Shows or hides the bar; opening it on a filter or a saved view starts from its criteria. */
  toggle(): void {
    if (this.open) {
      this.close();
      return;
    }
    const view = this.deps.view();
    // The list still shows the draft (a saved view being edited included): it stays as it is.
    if (!(view.type === 'filter' && sameFilter(view.id, this.draft))) this.take(view);
    this.open = true;
  }

  /** The saved view the draft edits, as the directory has it now. */
  baseView(): SavedView | null {
    return this.deps.directory()?.saved_views.find((v) => v.id === this.base) ?? null;
  }

  /** What the bar offers for its draft: nothing to save, save as new, update (or save as new), or
   * save as new only for a view this agent may not edit. */
  get state(): 'clean' | 'new' | 'update' | 'readOnly' {
    const base = this.baseView();
    // A view saved a moment ago that the directory does not list yet: nothing unsaved.
    if (this.base && !base) return 'clean';
    return draftState(this.draft, base, this.deps.directory()?.me);
  }

  /**
   * The list moved to `view` from elsewhere (the sidebar, the palette): the bar follows it. An
   * unsaved draft is discarded with a word saying so, and kept for `restore` until the next switch.
   */
  follow(view: ViewKey): void {
    if (view.type === 'filter' && sameFilter(view.id, this.draft)) return;
    const unsaved = this.state !== 'clean';
    this.discarded = unsaved ? { draft: this.draft, base: this.base } : null;
    if (unsaved) toasts.show(t('filters.discarded'));
    this.take(view);
    this.saving = false;
    this.problem = null;
  }

  /** Brings back the draft the last switch discarded. */
  restore(): void {
    const kept = this.discarded;
    if (!kept) return;
    this.discarded = null;
    this.base = kept.base;
    this.open = true;
    this.change(kept.draft);
  }

  private take(view: ViewKey): void {
    const { draft, base } = draftFor(view, this.deps.directory());
    this.draft = draft;
    this.base = base?.id ?? null;
  }

  close(): void {
    this.open = false;
    this.saving = false;
    this.problem = null;
  }

  /** How many criteria the draft sets. */
  get active(): number {
    return activeCriteria(this.draft);
  }

  /** A new draft: the list shows it at once (an empty one goes back to All, unless it edits a
   * saved view: emptying a view's filter is a change to it like any other). */
  change(next: ConversationFilter): void {
    this.draft = normalized(next);
    this.deps.setView(activeCriteria(this.draft) === 0 && !this.base ? { type: 'all' } : filterView(this.draft));
  }

  clear(): void {
    this.change(emptyFilter());
  }

  /** The teams this agent may save a team view for. */
  teams(): { id: string; name: string }[] {
    return teamsForViews(this.deps.directory()?.me, this.deps.directory());
  }

  startSaving(): void {
    this.saving = true;
    this.name = '';
    this.team = null;
    this.problem = null;
  }

  /** Saves the draft as a view and opens it; a name the server would refuse is said first. */
  async save(): Promise<boolean> {
    const problem = viewNameProblem(this.name);
    if (problem) {
      this.problem = t(`filters.nameProblem.${problem}`);
      return false;
    }
    try {
      const name = this.name.trim();
      const id = await api.createView(name, normalized(this.draft), this.team);
      this.close();
      this.base = id;
      this.discarded = null;
      this.deps.setView({ type: 'saved', id });
      toasts.show(t('filters.saved', { name }));
      return true;
    } catch (error) {
      this.deps.report(error);
      return false;
    }
  }

  /** Writes the draft into the saved view it was opened from, and shows that view again. */
  async update(): Promise<boolean> {
    const view = this.baseView();
    if (!view || this.state !== 'update') return false;
    try {
      await api.updateViewFilter(view.id, normalized(this.draft));
      this.discarded = null;
      this.saving = false;
      this.deps.setView({ type: 'saved', id: view.id });
      toasts.show(t('filters.updated', { name: view.name }));
      return true;
    } catch (error) {
      this.deps.report(error);
      return false;
    }
  }

  async rename(view: SavedView, name: string): Promise<boolean> {
    const problem = viewNameProblem(name);
    if (problem) {
      this.problem = t(`filters.nameProblem.${problem}`);
      return false;
    }
    try {
      await api.renameView(view.id, name.trim());
      this.renaming = null;
      this.problem = null;
      return true;
    } catch (error) {
      this.deps.report(error);
      return false;
    }
  }

  /** Deletes a saved view; the list leaves it for All when it was showing it. */
  async remove(view: SavedView): Promise<void> {
    this.confirming = null;
    try {
      await api.deleteView(view.id);
      if (this.base === view.id) this.base = null;
      const shown = this.deps.view();
      if (shown.type === 'saved' && shown.id === view.id) this.deps.setView({ type: 'all' });
    } catch (error) {
      this.deps.report(error);
    }
  }
}
