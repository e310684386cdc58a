// The rules section of the settings screen: the rules in run order (read from the cache, so the
// list shows offline), switching one on or off, moving it, deleting it after a confirmation, and
// one editor at a time with its draft (kept while the screen closes), the preview over the latest
// conversations, the dry run of a saved rule on one conversation and its run log. Every write is
// sent at once and never queued: offline, the screen says so and the draft stays as typed.
import { ApiError, api } from '../api';
import type { AutomationRule, Directory, RulePreview, RuleRun, RuleTestResult, SlaPolicy } from '../bindings';
import { errorText } from '../errors';
import { t } from '../i18n';
import { draftOf, fromTree, inputOf, newDraft, ruleIssues, sameDraft, serverIssue, type RuleDraft, type RuleIssue } from '../rules';
import { toasts } from '../toasts.svelte';

export type RulesDeps = {
  report: (error: unknown) => void;
  directory: () => Directory | null;
  /** Opens a conversation in the workspace (closing the settings screen). */
  openConversation?: (id: string) => void;
  /** The conversation open in the workspace, if any: "test on this conversation". */
  openId?: () => string | null;
};

/** A conversation the dry run can be tried on, as the picker lists it. */
export type TestChoice = { id: string; label: string; hint: string };

/** The editor: a new rule (`ruleId` null) or a saved one. */
export type RuleEditor = {
  ruleId: string | null;
  draft: RuleDraft;
  base: RuleDraft;
  /** The version the draft began from (0 for a new rule). */
  version: number;
  /** A colleague saved a newer version while this draft had changes. */
  changedElsewhere: boolean;
};

function failureText(error: unknown, directory: Directory | null, offlineKey: 'rules.offlineSave' | 'rules.offlineRead'): { code: string; text: string } {
  const failure = error instanceof ApiError ? error : new ApiError('internal', String(error));
  const text =
    failure.code === 'offline'
      ? t(offlineKey)
      : failure.code === 'not_found'
        ? t('rules.notFound')
        : errorText(failure.code, failure.message, directory);
  return { code: failure.code, text };
}

export class RulesState {
  rules = $state.raw<AutomationRule[]>([]);
  /** The SLA policies a rule's `apply_sla` can name, from the cache. */
  slaPolicies = $state.raw<SlaPolicy[]>([]);
  loaded = $state(false);
  /** A failure of a list action (switch, move, delete), shown above the list. */
  listFailure = $state<string | null>(null);
  /** The rule waiting for "delete?" to be confirmed. */
  confirmingDelete = $state<string | null>(null);
  /** The rule a list action is being sent for. */
  busy = $state<string | null>(null);

  editor = $state<RuleEditor | null>(null);
  /** Unsaved drafts of rules not open now (by rule id, `new` for a new one): leaving the editor
   * keeps what was typed, as the inbox settings do, until it is saved or discarded. */
  private stashed = $state<Record<string, RuleEditor>>({});
  saving = $state(false);
  saveFailure = $state<{ code: string; text: string } | null>(null);
  /** The server's last refusal, placed at the part of the draft its path names. */
  refusedAt = $state.raw<RuleIssue | null>(null);

  preview = $state.raw<RulePreview | null>(null);
  /** The conditions (as JSON) the preview was made for: stale once the editor changes them. */
  previewFor = $state<string | null>(null);
  previewing = $state(false);
  previewFailure = $state<string | null>(null);

  test = $state.raw<{ conversationId: string; result: RuleTestResult } | null>(null);
  /** A conversation the palette asked to try rules on: the list offers Test, and opening a rule
   * runs its dry run there. */
  testTarget = $state<string | null>(null);
  testing = $state(false);
  testFailure = $state<string | null>(null);

  /** Conversations found by the dry run's picker (searched in the cache, so offline too). */
  testChoices = $state.raw<TestChoice[]>([]);
  private searchSeq = 0;

  runs = $state.raw<RuleRun[] | null>(null);
  runsFailure = $state<string | null>(null);

  constructor(private readonly deps: RulesDeps) {}

  canEdit(): boolean {
    const role = this.deps.directory()?.me.role;
    return role === 'admin' || role === 'lead';
  }

  /** Reads the rules from the cache (again, when the feed changed them). An open rule a colleague
   * saved meanwhile follows their version when nothing was typed, else the editor says so. */
  async load(): Promise<void> {
    try {
      [this.rules, this.slaPolicies] = await Promise.all([api.automationRules(), api.slaPolicies()]);
      this.loaded = true;
    } catch (error) {
      this.deps.report(error);
      return;
    }
    for (const editor of [this.editor, ...Object.values(this.stashed)]) {
      const now = editor?.ruleId ? this.ruleById(editor.ruleId) : null;
      if (!editor || !now || now.version <= editor.version) continue;
      if (sameDraft(editor.draft, editor.base)) {
        Object.assign(editor, this.editorFor(now));
      } else {
        editor.base = draftOf(now);
        editor.version = now.version;
        editor.changedElsewhere = true;
      }
    }
  }

  private editorFor(rule: AutomationRule): RuleEditor {
    return { ruleId: rule.id, draft: draftOf(rule), base: draftOf(rule), version: rule.version, changedElsewhere: false };
  }

  ruleById(id: string | null): AutomationRule | null {
    return this.rules.find((rule) => rule.id === id) ?? null;
  }

  async setEnabled(rule: AutomationRule, enabled: boolean): Promise<boolean> {
    if (!this.canEdit() || this.busy) return false;
    this.busy = rule.id;
    this.listFailure = null;
    try {
      const saved = await api.setRuleEnabled(rule.id, enabled);
      this.rules = this.rules.map((r) => (r.id === saved.id ? saved : r));
      // A draft of this rule takes the switch too: it is this person's own change, not a colleague's.
      for (const editor of [this.editor, ...Object.values(this.stashed)]) {
        if (editor?.ruleId !== saved.id) continue;
        editor.version = saved.version;
        editor.base.enabled = saved.enabled;
        editor.draft.enabled = saved.enabled;
      }
      return true;
    } catch (error) {
      this.listFailure = failureText(error, this.deps.directory(), 'rules.offlineSave').text;
      return false;
    } finally {
      this.busy = null;
    }
  }

  /** Moves a rule one place earlier (−1) or later (+1) in the run order. */
  async move(rule: AutomationRule, offset: number): Promise<boolean> {
    if (!this.canEdit() || this.busy) return false;
    this.busy = rule.id;
    this.listFailure = null;
    try {
      this.rules = await api.moveRule(rule.id, offset);
      return true;
    } catch (error) {
      this.listFailure = failureText(error, this.deps.directory(), 'rules.offlineSave').text;
      return false;
    } finally {
      this.busy = null;
    }
  }

  askDelete(rule: AutomationRule): void {
    this.confirmingDelete = rule.id;
  }

  async confirmDelete(): Promise<boolean> {
    const id = this.confirmingDelete;
    if (!id || !this.canEdit() || this.busy) return false;
    this.busy = id;
    this.listFailure = null;
    try {
      await api.deleteRule(id);
      this.rules = this.rules.filter((rule) => rule.id !== id);
      this.confirmingDelete = null;
      if (this.editor?.ruleId === id) this.editor = null;
      delete this.stashed[id];
      toasts.show(t('rules.deleted'));
      return true;
    } catch (error) {
      this.listFailure = failureText(error, this.deps.directory(), 'rules.offlineSave').text;
      return false;
    } finally {
      this.busy = null;
    }
  }

  // -------------------------------------------------------------------------------------------
  // The editor

  /** A new rule (or the new rule's kept draft). */
  startNew(): void {
    this.stash();
    this.editor = this.stashed.new ?? { ruleId: null, draft: newDraft(), base: newDraft(), version: 0, changedElsewhere: false };
    delete this.stashed.new;
    this.clearResults();
  }

  /** Opens a saved rule, with its kept draft if it has one. */
  edit(rule: AutomationRule): void {
    if (this.editor?.ruleId !== rule.id) {
      this.stash();
      this.editor = this.stashed[rule.id] ?? this.editorFor(rule);
      delete this.stashed[rule.id];
      this.clearResults();
    }
    this.loadRuns();
  }

  /** Tries rules on this conversation: back to the list to pick one. */
  testOn(conversationId: string): void {
    this.closeEditor();
    this.testTarget = conversationId;
  }

  /** Opens a saved rule and runs its dry run on the conversation asked for. */
  async editAndTest(rule: AutomationRule): Promise<void> {
    const target = this.testTarget;
    this.edit(rule);
    if (target) await this.runTest(target);
  }

  /** Back to the list; an unsaved draft is kept for when the rule is opened again. */
  closeEditor(): void {
    this.stash();
    this.editor = null;
    this.clearResults();
  }

  /** Whether anything typed on this page is unsaved (the nav marks it). */
  hasUnsaved(): boolean {
    return (this.editor !== null && this.isDirty()) || Object.keys(this.stashed).length > 0;
  }

  hasDraft(ruleId: string): boolean {
    return ruleId in this.stashed;
  }

  private stash(): void {
    const editor = this.editor;
    if (!editor || !this.isDirty()) return;
    // A new rule nobody typed into is not worth keeping.
    if (editor.ruleId === null && sameDraft(editor.draft, newDraft())) return;
    this.stashed[editor.ruleId ?? 'new'] = editor;
  }

  private clearResults(): void {
    this.saveFailure = null;
    this.refusedAt = null;
    this.preview = null;
    this.previewFor = null;
    this.previewFailure = null;
    this.test = null;
    this.testFailure = null;
    this.testChoices = [];
    this.runs = null;
    this.runsFailure = null;
  }

  /** Puts the draft back to the rule as saved. */
  discard(): void {
    if (!this.editor) return;
    this.editor.draft = JSON.parse(JSON.stringify(this.editor.base)) as RuleDraft;
    this.editor.changedElsewhere = false;
    this.saveFailure = null;
    this.refusedAt = null;
  }

  isDirty(): boolean {
    return Boolean(this.editor && (this.editor.ruleId === null || !sameDraft(this.editor.draft, this.editor.base)));
  }

  issues(): RuleIssue[] {
    if (!this.editor) return [];
    const issues = ruleIssues(this.editor.draft);
    return this.refusedAt ? [...issues, this.refusedAt] : issues;
  }

  /** Sends the draft; a refusal (offline, forbidden, the server's checks) leaves it as typed. */
  async save(): Promise<boolean> {
    const editor = this.editor;
    if (!editor || this.saving || !this.canEdit() || !this.isDirty()) return false;
    this.refusedAt = null;
    if (this.issues().length > 0) {
      this.saveFailure = { code: 'validation', text: t('rules.fixFirst') };
      return false;
    }
    this.saving = true;
    this.saveFailure = null;
    const sent = JSON.parse(JSON.stringify(editor.draft)) as RuleDraft;
    try {
      // A rule a colleague deleted meanwhile is added again rather than refused as missing.
      const gone = editor.ruleId !== null && this.loaded && !this.ruleById(editor.ruleId);
      const saved = await api.saveRule(gone ? null : editor.ruleId, inputOf(sent));
      const known = this.rules.some((rule) => rule.id === saved.id);
      this.rules = known ? this.rules.map((r) => (r.id === saved.id ? saved : r)) : [...this.rules, saved];
      if (this.editor === editor || this.editor?.ruleId === editor.ruleId) {
        const typedSince = !sameDraft(editor.draft, sent);
        this.editor = { ...this.editorFor(saved), draft: typedSince ? editor.draft : draftOf(saved) };
      }
      toasts.show(t('rules.saved'));
      return true;
    } catch (error) {
      this.saveFailure = failureText(error, this.deps.directory(), 'rules.offlineSave');
      if (error instanceof ApiError && error.code === 'validation' && this.editor) {
        this.refusedAt = serverIssue(error.message, this.editor.draft.tree);
      }
      return false;
    } finally {
      this.saving = false;
    }
  }

  /** The editor's current conditions as the preview is keyed by. */
  conditionsKey(): string | null {
    return this.editor ? JSON.stringify(fromTree(this.editor.draft.tree)) : null;
  }

  /** Whether the shown preview was made for other conditions than the editor's now. */
  previewStale(): boolean {
    return this.preview !== null && this.previewFor !== this.conditionsKey();
  }

  /** Which of the latest 100 conversations the editor's conditions (saved or not) match now. */
  async runPreview(): Promise<void> {
    const editor = this.editor;
    if (!editor || this.previewing) return;
    const conditions = fromTree(editor.draft.tree);
    this.previewing = true;
    this.previewFailure = null;
    try {
      this.preview = await api.previewRule(conditions);
      this.previewFor = JSON.stringify(conditions);
    } catch (error) {
      this.previewFailure = failureText(error, this.deps.directory(), 'rules.offlineRead').text;
    } finally {
      this.previewing = false;
    }
  }

  /** The conversation open in the workspace, if any. */
  openConversationId(): string | null {
    return this.deps.openId?.() ?? null;
  }

  /** The saved rule's dry run on a conversation. */
  async runTest(conversationId: string): Promise<void> {
    const ruleId = this.editor?.ruleId;
    if (!ruleId || this.testing) return;
    this.testing = true;
    this.testFailure = null;
    try {
      this.test = { conversationId, result: await api.testRule(ruleId, conversationId) };
    } catch (error) {
      this.test = null;
      this.testFailure = failureText(error, this.deps.directory(), 'rules.offlineRead').text;
    } finally {
      this.testing = false;
    }
  }

  /** Finds conversations to try the rule on: messages and conversations matching `query`
   * (the cache's search), one entry per conversation, at most 8. */
  async searchTestChoices(query: string): Promise<void> {
    const seq = ++this.searchSeq;
    if (query.trim().length < 2) {
      this.testChoices = [];
      return;
    }
    try {
      const results = await api.search(query.trim());
      if (seq !== this.searchSeq) return;
      const choices = new Map<string, TestChoice>();
      for (const hit of results.messages) {
        if (!choices.has(hit.conversation_id)) {
          choices.set(hit.conversation_id, { id: hit.conversation_id, label: hit.contact_name, hint: hit.snippet.replace(/[[\]]/g, '') });
        }
      }
      for (const conversation of results.conversations) {
        if (!choices.has(conversation.id)) {
          choices.set(conversation.id, { id: conversation.id, label: conversation.subject ?? conversation.preview, hint: conversation.preview });
        }
      }
      this.testChoices = [...choices.values()].slice(0, 8);
    } catch (error) {
      this.deps.report(error);
    }
  }

  async loadRuns(): Promise<void> {
    const ruleId = this.editor?.ruleId;
    if (!ruleId) return;
    try {
      const runs = await api.ruleRuns(ruleId);
      if (this.editor?.ruleId === ruleId) {
        this.runs = runs;
        this.runsFailure = null;
      }
    } catch (error) {
      this.runsFailure = failureText(error, this.deps.directory(), 'rules.offlineRead').text;
    }
  }

  open(conversationId: string): void {
    this.deps.openConversation?.(conversationId);
  }

  /** A new session: nothing of the previous account's rules may show. */
  reset(): void {
    this.rules = [];
    this.slaPolicies = [];
    this.loaded = false;
    this.listFailure = null;
    this.confirmingDelete = null;
    this.busy = null;
    this.editor = null;
    this.stashed = {};
    this.testTarget = null;
    this.clearResults();
  }
}
