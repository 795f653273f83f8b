/**
 * `--server`, `BUDDYLINK_SERVER` and the library's `server` may name several nodes of one service,
 * separated by commas (SPEC §4.8): the client logs on to the first that answers and, on loss, moves to
 * the next. The whole list, normalised, is the service's name (the kept token belongs to it).
 */
export function serverUrls(server: string): string[] {
  const urls = server
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => (/^wss?:\/\//i.test(s) ? s : `ws://${s}`));
  return urls.length > 0 ? urls : [server];
}
