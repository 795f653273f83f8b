/**
 * A peer's path reduced to harmless components inside the receive directory: no `..`, no absolute
 * paths, no control characters, and each component short enough for any filesystem (255 bytes,
 * with room for a ` (n)` rename), so a long name fails at the offer, not after the whole file.
 */
const MAX_COMPONENT_BYTES = 240;
const MAX_DEPTH = 32;
const FALLBACK = 'received-file';

function printable(text: string): string {
  return [...text].filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f).join('');
}

/** Cuts to at most `max` UTF-8 bytes on a character boundary. */
function cutBytes(text: string, max: number): string {
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (used + n > max) break;
    out += ch;
    used += n;
  }
  return out;
}

/** Shortens a name to MAX_COMPONENT_BYTES, keeping a short extension (`…あ.bin`). */
export function fitComponent(name: string): string {
  if (Buffer.byteLength(name) <= MAX_COMPONENT_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && Buffer.byteLength(name.slice(dot)) <= 16 ? name.slice(dot) : '';
  return (
    cutBytes(name.slice(0, name.length - ext.length), MAX_COMPONENT_BYTES - Buffer.byteLength(ext)) + ext
  );
}

function component(part: string): string | undefined {
  const cleaned = fitComponent(printable(part).trim());
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? undefined : cleaned;
}

/** `album/sub/b.txt` stays as it is; `../../etc/passwd` becomes `etc/passwd`; `/` becomes `received-file`. */
export function safeRelativePath(name: string): string {
  const parts = name
    .split(/[/\\]/)
    .map(component)
    .filter((p): p is string => p !== undefined);
  if (parts.length === 0) return FALLBACK;
  // Deeper than anyone sends on purpose: keep the last components (the file itself).
  return parts.slice(-MAX_DEPTH).join('/');
}

/** The last component only (the single-name form, for `--name` and older callers). */
export function safeFileName(name: string): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  return component(last) ?? FALLBACK;
}
