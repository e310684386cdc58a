// The app's chrome in several languages: `t('signin.title')`, `t('list.waiting', {duration: '2h'})`.
// A table per language (`en.ts` is the source of the keys; every other table is a full
// `Messages`, and i18n.test.ts fails on a missing, unknown or differently-parameterised key and
// on a plural lacking a category the language's CLDR rules select). The language in force is
// reactive state (state.svelte.ts): choosing another one re-renders the chrome at once.
// To add a language: write `xx.ts` (`const xx: Messages = {...}`), add it to `tables` below and
// its own name to `NATIVE_NAMES`.
import en from './en';
import fa from './fa';
import ar from './ar';
import pl from './pl';
import ro from './ro';
import { current } from './state.svelte';
import type { Messages, Plural, SourcePlural } from './types';

export type { Messages, Plural, PluralCategory } from './types';

/** Every dotted key of the English table whose value is a string or a plural. */
type Keys<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string | SourcePlural ? `${P}${K}` : Keys<T[K], `${P}${K}.`>;
}[keyof T & string];
export type MessageKey = Keys<typeof en>;
export type Params = Record<string, string | number>;

/** Every table, by language code. */
export const tables: Record<string, Messages> = {
  en,
  fa,
  ar,
  ro,
  pl,
};

/** Each language's name in that language, for the picker. */
export const NATIVE_NAMES: Record<string, string> = {
  en: 'English',
  fa: 'فارسی',
  ar: 'العربية',
  ro: 'Română',
  pl: 'Polski',
};

const RTL_LANGUAGES = new Set(['ar', 'fa', 'he', 'ur', 'ps', 'ckb', 'yi']);

/** The person's choice: a language code, or following the system's language. */
export type LanguagePreference = 'system' | string;
export const LANGUAGE_KEY = 'switchboard.language';

/** The languages the app has, in the picker's order (English first, then by code). */
export function languages(): string[] {
  return Object.keys(tables).sort((a, b) => (a === 'en' ? -1 : b === 'en' ? 1 : a.localeCompare(b)));
}

function base(language: string): string {
  return language.toLowerCase().split(/[-_]/)[0];
}

/** The first of the system's languages the app has, else English. */
export function systemLanguage(navigatorLanguages: readonly string[] | undefined): string {
  for (const wanted of navigatorLanguages ?? []) {
    if (base(wanted) in tables) return base(wanted);
  }
  return 'en';
}

/** The language to use: `?lang=` if given and known, else the stored choice, else the system's. */
export function pickLocale(
  navigatorLanguage: string | readonly string[] | undefined,
  search: string,
  preference: LanguagePreference = 'system',
): string {
  const system = typeof navigatorLanguage === 'string' ? [navigatorLanguage] : navigatorLanguage;
  const forced = new URLSearchParams(search).get('lang');
  if (forced && base(forced) in tables) return base(forced);
  if (preference !== 'system' && preference in tables) return preference;
  return systemLanguage(system);
}

/** The stored choice ('system' when none, or one the app no longer has). */
export function loadPreference(storage: Pick<Storage, 'getItem'> | null): LanguagePreference {
  const stored = storage?.getItem(LANGUAGE_KEY) ?? null;
  return stored !== null && stored in tables ? stored : 'system';
}

export function savePreference(storage: Pick<Storage, 'setItem' | 'removeItem'> | null, preference: LanguagePreference): void {
  if (!storage) return;
  if (preference === 'system') storage.removeItem(LANGUAGE_KEY);
  else storage.setItem(LANGUAGE_KEY, preference);
}

export function isRtl(language: string): boolean {
  return RTL_LANGUAGES.has(base(language));
}

let plurals = new Intl.PluralRules('en');
let numbers = new Intl.NumberFormat('en');

/** Puts `language` in force (English if unknown): the tables, plural rules, number formatting,
 * and the document's `lang` and `dir`. */
export function setLocale(language: string): void {
  const lang = language in tables ? language : 'en';
  plurals = new Intl.PluralRules(lang);
  numbers = new Intl.NumberFormat(lang);
  current.lang = lang;
  if (typeof document !== 'undefined') {
    document.documentElement.lang = lang;
    document.documentElement.dir = isRtl(lang) ? 'rtl' : 'ltr';
  }
}

export function locale(): string {
  return current.lang;
}

/** A number in the current locale's digits and separators (Persian and Arabic digits included). */
export function formatNumber(value: number): string {
  void current.lang;
  return numbers.format(value);
}

function lookup(table: unknown, key: string): unknown {
  let node: unknown = table;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Explicit bidi formatting characters: embeddings, overrides, isolates and their pops. */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;

/** A value put into a sentence: one carrying bidi controls (a customer's name with a
 * right-to-left override, say) goes inside a first-strong isolate, so whatever it opens ends with
 * it and the sentence around it keeps its order. */
export function isolated(value: string): string {
  return BIDI_CONTROLS.test(value) && !oneIsolate(value) ? `\u2068${value}\u2069` : value;
}

/** Whether `value` is already one isolate from its first character to its last (as
 * `format.ts::isolate` makes): whatever it opens inside ends with it. */
function oneIsolate(value: string): boolean {
  if (!value.startsWith('\u2068') || !value.endsWith('\u2069')) return false;
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x2066 && c <= 0x2068) depth++;
    else if (c === 0x2069 && --depth === 0 && i < value.length - 1) return false;
  }
  return depth === 0;
}

function interpolate(text: string, params?: Params): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    if (!(name in params)) return whole;
    const value = params[name];
    return typeof value === 'number' ? numbers.format(value) : isolated(value);
  });
}

/** The string for `key` in the current locale (falling back to English), with `{params}` filled
 * (numbers in the locale's digits); a plural picks its CLDR category from `count`. */
export function t(key: MessageKey, params?: Params): string {
  const lang = current.lang;
  let value = lookup(tables[lang], key);
  if (value === undefined) value = lookup(en, key);
  if (value !== null && typeof value === 'object') {
    const plural = value as Plural;
    const category = plurals.select(Number(params?.count ?? 0));
    value = plural[category] ?? plural.other;
  }
  return typeof value === 'string' ? interpolate(value, params) : key;
}
