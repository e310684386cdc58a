// The locale in force and the person's choice, as reactive state: every `t()` in a template reads
// `lang`, so a change of language re-renders the chrome without a restart.
export const current = $state({ lang: 'en', preference: 'system' as string });
