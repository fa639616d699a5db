/**
 * Checks for the apps' message catalogues, run by each app's messages.test.ts in Node: both
 * languages have the same keys, every message parses as ICU MessageFormat with the same
 * placeholders in both, and the apps' screens (.tsx) hold no user-facing English outside the
 * catalogues, as far as patterns can tell (JSX text, text attributes, literal messages set into state).
 */
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import type { Catalogues } from './i18n.ts';

function argumentsOf(elements: readonly MessageFormatElement[], out = new Set<string>()): Set<string> {
  for (const e of elements) {
    if (e.type === TYPE.argument || e.type === TYPE.number || e.type === TYPE.date || e.type === TYPE.time) out.add(e.value);
    if (e.type === TYPE.plural || e.type === TYPE.select) {
      out.add(e.value);
      for (const o of Object.values(e.options)) argumentsOf(o.value, out);
    }
    if (e.type === TYPE.tag) argumentsOf(e.children, out);
  }
  return out;
}

/** Problems with a pair of catalogues, one line each; empty when they are sound. */
export function catalogueProblems(c: Catalogues<string>): string[] {
  const problems: string[] = [];
  const en = c.en as Record<string, string>;
  const zh = c['zh-CN'] as Record<string, string>;
  for (const k of Object.keys(en)) if (!(k in zh)) problems.push(`${k}: missing in zh-CN`);
  for (const k of Object.keys(zh)) if (!(k in en)) problems.push(`${k}: missing in en`);
  for (const k of Object.keys(en)) {
    if (!(k in zh)) continue;
    const args: Record<string, Set<string>> = {};
    for (const [lang, text] of [
      ['en', en[k]!],
      ['zh-CN', zh[k]!],
    ] as const) {
      if (text.trim() === '') problems.push(`${k}: empty in ${lang}`);
      try {
        args[lang] = argumentsOf(parse(text));
      } catch (e) {
        problems.push(`${k}: not ICU MessageFormat in ${lang} (${(e as Error).message})`);
      }
    }
    const a = args.en;
    const b = args['zh-CN'];
    if (a && b && [...a].sort().join() !== [...b].sort().join()) problems.push(`${k}: placeholders differ (en {${[...a].join(', ')}}, zh-CN {${[...b].join(', ')}})`);
    // A Chinese message that is the English one was not translated (names such as "English" aside).
    if (/[a-z]{3,}\s+[a-z]{3,}/i.test(zh[k]!) && !/[\u4e00-\u9fff]/.test(zh[k]!)) problems.push(`${k}: zh-CN looks untranslated ("${zh[k]}")`);
  }
  return problems;
}

/** User-facing English written into a screen instead of taken from the catalogue, as `line: text`. */
export function hardCodedStrings(code: string): string[] {
  // Comments are blanked out (same length and lines), so that their words are not taken for text.
  const source = code.replace(/\/\*[\s\S]*?\*\/|(^|[^:])\/\/[^\n]*/g, (m) => m.replace(/[^\n]/g, ' '));
  const found: string[] = [];
  const lines = source.split('\n');
  const lineOf = (index: number) => source.slice(0, index).split('\n').length;
  const report = (index: number, text: string) => found.push(`${lineOf(index)}: ${text.trim()}`);
  // Text between JSX tags, or between a tag and an expression: words of two letters or more.
  for (const m of source.matchAll(/>([^<>{}=;()`]*?[A-Za-z]{2,}[^<>{}=;()`]*?)(?=<|\{)/g)) {
    const text = m[1]!;
    if (/^\s*(?:&&|\|\||\?|:|\||&)/.test(text) || /\?\s*'/.test(text)) continue;
    // An arrow's ">" or a type argument ("call<Me>", "Promise<void>") is code, not text.
    if (source[m.index! - 1] === '=') continue;
    const next = source.slice(m.index! + m[0].length, m.index! + m[0].length + 12);
    if (/^\s*[A-Za-z_$][\w$]*$/.test(text) && /^<(?:[A-Z_{[(]|(?:void|string|number|boolean|unknown|any|never|null|undefined)\b)/.test(next)) continue;
    const line = lines[lineOf(m.index!) - 1] ?? '';
    if (/^\s*(?:\/\/|\*|\/\*)/.test(line) || /=>\s*$/.test(line.slice(0, line.indexOf(text.trim()) + 1))) continue;
    report(m.index!, text);
  }
  // Sentences in JSX text, even with punctuation the pattern above leaves out ("at once; refunding").
  for (const m of source.matchAll(/>\s*([A-Z][a-z]+ [a-z][^<>{}`]*)/g)) {
    if (source[m.index! - 1] === '=' || /[=;]\s*$/.test(m[1]!) || /\)\s*[;{]/.test(m[1]!)) continue;
    if (!found.some((f) => f.startsWith(`${lineOf(m.index!)}: `))) report(m.index!, m[1]!);
  }
  // String literals that read as a sentence ('Refund the shopper…', `Closed the dispute of ${x}.`).
  for (const m of source.matchAll(/(['"`])([A-Z][a-z]+[ ,][^'"`\n]*?[a-z]{2,}[^'"`\n]*)\1/g)) if (!m[2]!.startsWith('Bearer ')) report(m.index!, m[2]!);
  // Words in option lists and label maps: ['open', 'Open'], { face: 'Face' }.
  for (const m of source.matchAll(/\[\s*'[\w-]*',\s*'([A-Z][a-z][^'\s]*)'\s*\]/g)) report(m.index!, m[1]!);
  for (const m of source.matchAll(/\b[a-z_]+: '([A-Z][a-z]+)'/g)) report(m.index!, m[1]!);
  // Text attributes people read or hear.
  for (const m of source.matchAll(/\b(?:label|aria-label|placeholder|title|alt|hint)="([^"]*[A-Za-z]{2,}[^"]*)"/g)) report(m.index!, m[1]!);
  // Messages put into state as literals: setError('...'), setNote('...'), setStatus('...').
  for (const m of source.matchAll(/\bset(?:Error|Note|Status|Message)\(\s*(['"`])([^'"`]*[A-Za-z]{2,}[^'"`]*)\1/g)) report(m.index!, m[2]!);
  return [...new Set(found)].sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
}

/** Words that are the same in every language: the product's name. */
const SAME_IN_EVERY_LANGUAGE = new Set(['Facepay']);

/** Every hard-coded string in the .tsx screens under `dir`, as `file:line: text` (Node only: reads the files). */
export async function hardCodedInApp(dir: string, opts: { skip?: readonly string[] } = {}): Promise<string[]> {
  const { readdirSync, readFileSync } = await import('node:fs');
  const { join, relative } = await import('node:path');
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.tsx') ? [join(d, e.name)] : []));
  const out: string[] = [];
  for (const file of walk(dir)) {
    const name = relative(dir, file);
    if (opts.skip?.includes(name)) continue;
    for (const hit of hardCodedStrings(readFileSync(file, 'utf8'))) {
      if (SAME_IN_EVERY_LANGUAGE.has(hit.slice(hit.indexOf(': ') + 2))) continue;
      out.push(`${name}:${hit}`);
    }
  }
  return out;
}
