// The shape every translation table has: every key of en.ts, strings as strings, and each of
// en.ts's plurals (`{one, other}`) as a `Plural` carrying the CLDR categories its language uses.
import type en from './en';

/** The CLDR plural categories `Intl.PluralRules` can select. */
export type PluralCategory = 'zero' | 'one' | 'two' | 'few' | 'many' | 'other';

/** A plural chosen by `count`: `other` always, and each category the language's rules name
 * (English one/other, Polish one/few/many/other, Arabic all six). A test checks the set. */
export type Plural = { zero?: string; one?: string; two?: string; few?: string; many?: string; other: string };

/** How a plural looks in en.ts (the source of the key set). */
export type SourcePlural = { one: string; other: string };

type Shape<T> = { [K in keyof T]: T[K] extends string ? string : T[K] extends SourcePlural ? Plural : Shape<T[K]> };

/** A complete table: `const ar: Messages = { ... }`. A missing or unknown key is a type error. */
export type Messages = Shape<typeof en>;
