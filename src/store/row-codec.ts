import type { KdfParams } from './store.js';

/** How both SQL stores keep what SQL has no type for: a pair in one order, the scrypt parameters as text. */

/** One row per unordered pair: the smaller name first. */
export function orderPair(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

export function kdfText(k: KdfParams): string {
  return `scrypt:${k.N}:${k.r}:${k.p}:${k.keyLength}`;
}

export function parseKdf(text: string): KdfParams {
  const [, N, r, p, keyLength] = text.split(':').map(Number);
  return { N: N ?? 0, r: r ?? 0, p: p ?? 0, keyLength: keyLength ?? 0 };
}
