import type { PathMove, PeerConnection } from '../client/index.js';
import type { Output } from './output.js';

/** Prints each move of a connection's session: `{"event":"path","from":…,"to":…,"ms":…}`. */
export function reportPathMoves(out: Output, connection: PeerConnection): void {
  connection.on('path', (move: PathMove) => {
    out.event(
      { event: 'path', from: move.from, to: move.to, ms: move.ms },
      `  moved from ${move.from} to ${move.to}`,
    );
  });
}

/** Each path that carried the session, with its payload bytes (for `sent` and `received`). */
export function pathsCarried(connection: PeerConnection): { path: string; bytes: number }[] {
  return connection.paths.map((use) => ({ path: use.path, bytes: use.bytes }));
}
