// Sidebar views: names, identity and their `data-view` / `data-id` hooks.
import type { Directory, ViewKey } from './bindings';
import { t } from './i18n';

/** A string that identifies a view (map keys, cache keys). */
export function viewId(view: ViewKey): string {
  // A filter is identified by its criteria (`filters.ts::filterView` keeps their order stable).
  if (view.type === 'filter') return `filter:${JSON.stringify(view.id)}`;
  return 'id' in view ? `${view.type}:${view.id}` : view.type;
}

export function sameView(a: ViewKey, b: ViewKey): boolean {
  return viewId(a) === viewId(b);
}

export function viewName(view: ViewKey, directory: Directory | null): string {
  switch (view.type) {
    case 'mine':
    case 'unassigned':
    case 'all':
    case 'mentions':
    case 'pinned':
    case 'breaching_soon':
    case 'escalated':
    case 'unattended':
      return t(`views.${view.type}`);
    case 'board':
      return t(`board.columns.${view.id}`);
    case 'agent':
      return directory?.agents.find((agent) => agent.id === view.id)?.name ?? t('views.unknown');
    case 'team':
      return directory?.teams.find((team) => team.id === view.id)?.name ?? t('views.unknown');
    case 'inbox':
      return directory?.inboxes.find((inbox) => inbox.id === view.id)?.name ?? t('views.unknown');
    case 'label':
      return view.id;
    case 'filter':
      return t('views.filter');
    case 'saved':
      return directory?.saved_views.find((saved) => saved.id === view.id)?.name ?? t('views.unknown');
  }
}
