// A tiny translation helper: `t('signin.title')`, `t('list.waiting', {duration: '2h'})`.
// The locale is chosen once at start-up (navigator.language, overridable with `?lang=fa`).
import en, { type Messages } from './en';
import fa from './fa';

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends string ? string : DeepPartial<T[K]> };

type Plural = { one: string; other: string };
/** Every dotted key of the English table whose value is a string or a plural. */
type Keys<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string | Plural ? `${P}${K}` : Keys<T[K], `${P}${K}.`>;
}[keyof T & string];
export type MessageKey = Keys<Messages>;
export type Params = Record<string, string | number>;

const tables: Record<string, DeepPartial<Messages>> = { en, fa };
const RTL_LANGUAGES = new Set(['ar', 'fa', 'he', 'ur', 'ps', 'ckb', 'yi']);

let lang = 'en';
let plurals = new Intl.PluralRules('en');

/** The language to use: `?lang=` if given and known, else the browser's, else English. */
export function pickLocale(navigatorLanguage: string | undefined, search: string): string {
  const wanted = new URLSearchParams(search).get('lang') ?? navigatorLanguage ?? 'en';
  const base = wanted.toLowerCase().split(/[-_]/)[0];
  return base in tables ? base : 'en';
}

export function isRtl(language: string): boolean {
  return RTL_LANGUAGES.has(language.toLowerCase().split(/[-_]/)[0]);
}

export function setLocale(language: string): void {
  lang = language in tables ? language : 'en';
  plurals = new Intl.PluralRules(lang);
}

export function locale(): string {
  return lang;
}

function lookup(table: unknown, key: string): unknown {
  let node: unknown = table;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function interpolate(text: string, params?: Params): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** The string for `key` in the current locale (falling back to English), with `{params}` filled. */
export function t(key: MessageKey, params?: Params): string {
  let value = lookup(tables[lang], key);
  if (value === undefined) value = lookup(en, key);
  if (value !== null && typeof value === 'object') {
    const plural = value as Plural;
    const count = Number(params?.count ?? 0);
    value = plurals.select(count) === 'one' ? plural.one : plural.other;
  }
  return typeof value === 'string' ? interpolate(value, params) : key;
}
