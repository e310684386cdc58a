// The person's language choice on this device: kept in localStorage ('system' stores nothing),
// applied at once (the chrome re-renders: `t()` reads reactive state), and while following the
// system, re-applied when the system's language changes.
import { loadPreference, pickLocale, savePreference, setLocale, type LanguagePreference } from './index';
import { current } from './state.svelte';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function systemLanguages(): readonly string[] | undefined {
  return typeof navigator === 'undefined' ? undefined : navigator.languages?.length ? navigator.languages : [navigator.language];
}

function search(): string {
  return typeof location === 'undefined' ? '' : location.search;
}

let listening = false;

/** Puts the language for `preference` in force (`?lang=` still wins) and remembers the choice. */
export function followSystemLanguage(preference: LanguagePreference): void {
  current.preference = preference;
  setLocale(pickLocale(systemLanguages(), search(), preference));
  if (!listening && typeof window !== 'undefined') {
    listening = true;
    window.addEventListener('languagechange', () => {
      if (current.preference === 'system') setLocale(pickLocale(systemLanguages(), search(), 'system'));
    });
  }
}

export function storedPreference(): LanguagePreference {
  return loadPreference(storage());
}

/** Settings → Language: stores the choice and applies it without a restart. */
export function chooseLanguage(preference: LanguagePreference): void {
  savePreference(storage(), preference);
  // A chosen language beats `?lang=` from here on: drop it so the choice shows.
  if (typeof location !== 'undefined' && new URLSearchParams(location.search).has('lang') && typeof history !== 'undefined') {
    const url = new URL(location.href);
    url.searchParams.delete('lang');
    history.replaceState(history.state, '', url);
  }
  followSystemLanguage(preference);
}

/** The choice in force ('system' or a language code), reactive. */
export function languagePreference(): LanguagePreference {
  return current.preference;
}
