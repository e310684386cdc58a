import { afterEach, describe, expect, it } from 'vitest';
import en from './en';
import {
  formatNumber,
  isolated,
  isRtl,
  languages,
  loadPreference,
  locale,
  NATIVE_NAMES,
  pickLocale,
  savePreference,
  setLocale,
  systemLanguage,
  t,
  tables,
} from './index';

afterEach(() => setLocale('en'));

type Node = string | { [key: string]: Node };

const CATEGORIES = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);

/** en.ts's plurals are exactly `{one, other}`. */
function isSourcePlural(node: Node): node is Record<string, string> {
  return typeof node === 'object' && Object.keys(node).sort().join() === 'one,other' && Object.values(node).every((v) => typeof v === 'string');
}

function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();
}

/** Every way `table` differs from en.ts's shape, as readable lines (empty when it matches). */
function problems(lang: string, table: Node, source: Node = en as unknown as Node, path = ''): string[] {
  const out: string[] = [];
  if (typeof source === 'string') {
    if (typeof table !== 'string') return [`${path}: should be a string`];
    if (placeholders(table).join() !== placeholders(source).join()) {
      out.push(`${path}: placeholders {${placeholders(table).join('}, {')}} instead of {${placeholders(source).join('}, {')}}`);
    }
    return out;
  }
  if (typeof table !== 'object' || table === null) return [`${path}: missing`];
  if (isSourcePlural(source)) {
    const needed = new Intl.PluralRules(lang).resolvedOptions().pluralCategories as string[];
    for (const category of needed) {
      if (typeof table[category] !== 'string') out.push(`${path}.${category}: missing plural form`);
    }
    const allowed = new Set(Object.values(source).flatMap(placeholders));
    for (const [category, text] of Object.entries(table)) {
      if (!CATEGORIES.has(category) || !needed.includes(category)) {
        out.push(`${path}.${category}: not a plural category of ${lang}`);
        continue;
      }
      if (typeof text !== 'string') {
        out.push(`${path}.${category}: should be a string`);
        continue;
      }
      for (const name of placeholders(text)) if (!allowed.has(name)) out.push(`${path}.${category}: unknown placeholder {${name}}`);
    }
    // The general form says everything English says (`one`/`two` may spell the number out).
    if (typeof table.other === 'string' && placeholders(table.other).join() !== placeholders(source.other as string).join()) {
      out.push(`${path}.other: placeholders {${placeholders(table.other as string).join('}, {')}} instead of {${placeholders(source.other as string).join('}, {')}}`);
    }
    return out;
  }
  for (const key of Object.keys(source)) {
    const at = path ? `${path}.${key}` : key;
    if (!(key in table)) out.push(`${at}: missing`);
    else out.push(...problems(lang, table[key], source[key], at));
  }
  for (const key of Object.keys(table)) {
    if (!(key in source)) out.push(`${path ? `${path}.${key}` : key}: not a key of en.ts`);
  }
  return out;
}

describe('the translation tables', () => {
  it('has the five languages, each named in its own language', () => {
    for (const lang of languages()) expect(NATIVE_NAMES[lang], lang).toBeTruthy();
    expect(languages()[0]).toBe('en');
    expect(languages()).toEqual(expect.arrayContaining(['en', 'fa', 'ar']));
  });

  for (const lang of Object.keys(tables)) {
    it(`${lang}: every key of en.ts, no other, the same {placeholders}, every plural category`, () => {
      expect(problems(lang, tables[lang] as unknown as Node)).toEqual([]);
    });
  }

  it('catches a missing key, an unknown key, a lost placeholder and a missing plural form', () => {
    const broken = JSON.parse(JSON.stringify(tables.ar)) as Record<string, Record<string, Node>>;
    delete broken.signin.title;
    broken.signin.extra = 'x';
    broken.list.waiting = 'waiting';
    delete (broken.list.total as Record<string, Node>).few;
    expect(problems('ar', broken as unknown as Node)).toEqual([
      'signin.title: missing',
      'signin.extra: not a key of en.ts',
      'list.waiting: placeholders {} instead of {duration}',
      'list.total.few: missing plural form',
    ]);
  });

  it('has no English left in the other tables where English differs', () => {
    // A sample of long strings: an untranslated copy of en.ts would pass the shape test.
    for (const lang of Object.keys(tables).filter((l) => l !== 'en')) {
      setLocale(lang);
      for (const key of ['signin.title', 'settings.hours.hint', 'rules.hint', 'team.people.hint', 'composer.windowClosedBody'] as const) {
        setLocale('en');
        const english = t(key);
        setLocale(lang);
        expect(t(key), `${lang} ${key}`).not.toBe(english);
      }
    }
  });
});

describe('i18n', () => {
  it('fills parameters and picks plurals', () => {
    expect(t('list.waiting', { duration: '2h' })).toBe('waiting 2h');
    expect(t('list.total', { count: 1 })).toBe('1 conversation');
    expect(t('list.total', { count: 3 })).toBe('3 conversations');
  });

  it('isolates a parameter carrying bidi controls, so it cannot reorder the sentence', () => {
    // A customer's name with a right-to-left override (the hostile corpus's `bidi-rlo-name`).
    const name = 'Ann \u202enosnhoJ';
    expect(t('lock.signedInAs', { name, email: 'a@b.test' })).toBe('Signed in as \u2068Ann \u202enosnhoJ\u2069 (a@b.test)');
    expect(isolated('\u2067Mallory')).toBe('\u2068\u2067Mallory\u2069');
    // Already one isolate (format.ts's isolate): left as it is; one that closes early is wrapped.
    expect(isolated('\u2068Omid\u2069')).toBe('\u2068Omid\u2069');
    expect(isolated('\u2068a\u2069\u202eb\u2068c\u2069')).toBe('\u2068\u2068a\u2069\u202eb\u2068c\u2069\u2069');
    // Plain names, Persian ones included, are left as they are.
    expect(isolated('Ana Pop')).toBe('Ana Pop');
    expect(isolated('رضا احمدی')).toBe('رضا احمدی');
  });

  it('picks every CLDR category: Arabic zero, one, two, few, many, other', () => {
    setLocale('ar');
    const forms = tables.ar.list.total;
    const rules = new Intl.PluralRules('ar');
    const n = (value: number) => new Intl.NumberFormat('ar').format(value);
    expect(rules.select(0)).toBe('zero');
    expect(t('list.total', { count: 0 })).toBe(forms.zero!.replace('{count}', n(0)));
    expect(t('list.total', { count: 1 })).toBe(forms.one!.replace('{count}', n(1)));
    expect(t('list.total', { count: 2 })).toBe(forms.two!.replace('{count}', n(2)));
    expect(t('list.total', { count: 3 })).toBe(forms.few!.replace('{count}', n(3)));
    expect(t('list.total', { count: 11 })).toBe(forms.many!.replace('{count}', n(11)));
    expect(t('list.total', { count: 100 })).toBe(forms.other.replace('{count}', n(100)));
    expect(new Set([0, 1, 2, 3, 11, 100].map((c) => t('list.total', { count: c }))).size).toBe(6);
  });

  it('writes numbers in the locale’s digits, as Intl gives them', () => {
    setLocale('fa');
    expect(formatNumber(1234)).toBe(new Intl.NumberFormat('fa').format(1234));
    expect(t('list.total', { count: 3 })).toContain('۳');
    setLocale('ar');
    expect(t('time.minutes', { n: 5 })).toContain(new Intl.NumberFormat('ar').format(5));
  });

  it('picks the locale from ?lang, then the stored choice, then the system, else English', () => {
    expect(pickLocale('en-US', '?lang=fa')).toBe('fa');
    expect(pickLocale('fa-IR', '')).toBe('fa');
    expect(pickLocale('de-DE', '')).toBe('en');
    expect(pickLocale(undefined, '?mock')).toBe('en');
    expect(pickLocale('en-US', '', 'ar')).toBe('ar');
    expect(pickLocale('ar-EG', '', 'system')).toBe('ar');
    expect(pickLocale('ar-EG', '?lang=en', 'fa')).toBe('en');
    expect(pickLocale(['de-DE', 'fa-IR', 'en'], '')).toBe('fa');
    expect(systemLanguage(['de', 'fr'])).toBe('en');
  });

  it('keeps the choice in storage; following the system stores nothing', () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    };
    expect(loadPreference(storage)).toBe('system');
    savePreference(storage, 'ar');
    expect(loadPreference(storage)).toBe('ar');
    savePreference(storage, 'system');
    expect(store.size).toBe(0);
    store.set('switchboard.language', 'xx');
    expect(loadPreference(storage)).toBe('system');
    expect(loadPreference(null)).toBe('system');
  });

  it('switches language at once, unknown ones falling back to English', () => {
    setLocale('fa');
    expect(locale()).toBe('fa');
    expect(t('signin.submit')).toBe('ورود');
    expect(t('availability.busy')).toBe('مشغول');
    setLocale('xx');
    expect(locale()).toBe('en');
    expect(t('signin.submit')).toBe('Sign in');
  });

  it('knows which languages are right-to-left', () => {
    expect(isRtl('fa')).toBe(true);
    expect(isRtl('ar-EG')).toBe(true);
    expect(isRtl('en')).toBe(false);
    expect(isRtl('pl')).toBe(false);
  });
});
