import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * Writes each received piece at its offset at once, on this thread, right after it was hashed:
 * the kernel's copy into the page cache then reads bytes still in the CPU's cache. Writes queued to
 * the thread pool (up to 8 MiB in flight, as before) copied them cold, later, on another core:
 * measured on this 2-core VM, 512 MiB over loopback, the receiver's kernel time fell from 2.5–3.0
 * to 0.6–0.8 ns/B (BENCHMARKS.md, "Issue 9: the receiver's CPU per byte"). A piece is at most
 * PIECE_BYTES, so one call blocks the event loop for tens of microseconds, not milliseconds.
 */
export function writeAt(file: FileHandle, piece: Buffer, position: number): void {
  for (let at = 0; at < piece.length; ) at += writeSync(file.fd, piece, at, piece.length - at, position + at);
}
