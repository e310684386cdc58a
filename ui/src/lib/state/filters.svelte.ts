// The filter bar and saved views: the draft filter the list shows as the agent builds it, saving
// it as a view (personal or for a team, queued through the outbox like any action), renaming and
// deleting saved views. The filter is evaluated by the core on the cache; nothing is counted here.
import { api } from '../api';
import type { ConversationFilter, Directory, SavedView, ViewKey } from '../bindings';
import { activeCriteria, emptyFilter, filterView, normalized, teamsForViews, viewNameProblem } from '../filters';
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
    if (view.type === 'filter') this.draft = view.id;
    else if (view.type === 'saved') {
      const saved = this.deps.directory()?.saved_views.find((v) => v.id === view.id);
      this.draft = saved ? saved.filter : emptyFilter();
    } else this.draft = emptyFilter();
    this.open = true;
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

  /** A new draft: the list shows it at once (an empty one goes back to All). */
  change(next: ConversationFilter): void {
    this.draft = normalized(next);
    this.deps.setView(activeCriteria(this.draft) === 0 ? { type: 'all' } : filterView(this.draft));
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
      this.deps.setView({ type: 'saved', id });
      toasts.show(t('filters.saved', { name }));
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
      const shown = this.deps.view();
      if (shown.type === 'saved' && shown.id === view.id) this.deps.setView({ type: 'all' });
    } catch (error) {
      this.deps.report(error);
    }
  }
}
