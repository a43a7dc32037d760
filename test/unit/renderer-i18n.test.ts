import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { de } from '../../src-renderer/src/i18n/de';
import { en } from '../../src-renderer/src/i18n/en';
import { CATALOGS, pickLanguage } from '../../src-renderer/src/i18n/i18n';

/** The message catalog: one place for every string, a complete second language, and the system language chosen. */

const RENDERER = join(__dirname, '../../src-renderer/src');

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'i18n' ? [] : files(path, ext);
    return ext.test(name) ? [path] : [];
  });
}

/** A message function's sentence for sample arguments (names or counts, whichever it takes). */
function call(fn: (...a: unknown[]) => unknown): string {
  const samples: unknown[][] = [Array(fn.length).fill(3), Array(fn.length).fill('Ann'), Array.from({ length: fn.length }, (_, i) => (i % 2 === 0 ? 'Ann' : 3))];
  for (const args of samples) {
    try {
      return String(fn(...args));
    } catch {
      // Not these argument types: the next set.
    }
  }
  throw new Error(`no sample arguments suit ${fn.toString().slice(0, 60)}`);
}

/** Every leaf of a catalog, with functions called on sample arguments. */
function leaves(catalog: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(catalog as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(path, value);
    else if (typeof value === 'function') out.set(path, call(value as (...a: unknown[]) => unknown));
    else for (const [k, v] of leaves(value, path)) out.set(k, v);
  }
  return out;
}

/** Text a person would read or hear, written straight into a component instead of taken from the catalog. */
function hardCodedText(path: string): string[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const spoken = new Set(['aria-label', 'title', 'placeholder', 'alt', 'label', 'confirmLabel', 'body']);
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node) && /[A-Za-z]{2,}/.test(node.text)) found.push(`${path}: text "${node.text.trim()}"`);
    if (ts.isJsxAttribute(node) && spoken.has(node.name.getText()) && node.initializer && ts.isStringLiteral(node.initializer) && /[A-Za-z]{2,}/.test(node.initializer.text)) {
      found.push(`${path}: ${node.name.getText()}="${node.initializer.text}"`);
    }
    // toast('…') and announce('…') with a literal: a notice outside the catalog.
    if (ts.isCallExpression(node) && /(^|\.)(toast|announce)$/.test(node.expression.getText()) && node.arguments[0] && (ts.isStringLiteral(node.arguments[0]) || ts.isNoSubstitutionTemplateLiteral(node.arguments[0]) || ts.isTemplateExpression(node.arguments[0]))) {
      found.push(`${path}: ${node.getText().slice(0, 80)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('message catalog', () => {
  it('follows the system language, in order of preference, and falls back to English', () => {
    expect(pickLanguage(['de-DE', 'en-US'])).toBe('de');
    expect(pickLanguage(['fr-FR', 'de-AT'])).toBe('de');
    expect(pickLanguage(['en-GB', 'de'])).toBe('en');
    expect(pickLanguage(['fr-FR'])).toBe('en');
    expect(pickLanguage([])).toBe('en');
  });

  it('has German complete: the same keys, every sentence a non-empty string, and actually translated', () => {
    const english = leaves(en);
    const german = leaves(de);
    expect([...german.keys()].sort()).toEqual([...english.keys()].sort());
    for (const [key, text] of german) expect(text.trim(), key).not.toBe('');
    // Names, codes and words both languages share (Chat, Hand, Jitter…) may stay; sentences may not.
    const same = [...english].filter(([key, text]) => german.get(key) === text && text.split(' ').length > 2);
    expect(same).toEqual([]);
    expect(Object.keys(CATALOGS).sort()).toEqual(['de', 'en']);
  });

  it('holds every user-visible string: no text, label or notice is written into a component', () => {
    const offenders = files(RENDERER, /\.tsx$/).flatMap(hardCodedText);
    expect(offenders).toEqual([]);
  });

  it('has no strings nobody uses', () => {
    const code = files(RENDERER, /\.tsx?$/).map((f) => readFileSync(f, 'utf8')).join('\n');
    const unused = [...leaves(en).keys()].filter((key) => key !== 'languageName' && !new RegExp(`\\bt\\.${key.replace(/\./g, '\\.')}\\b`).test(code));
    expect(unused).toEqual([]);
  });
});
