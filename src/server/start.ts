/**
 * `buddylink/server`: the server in-process. `startServer(config)` binds every listener (ports 0
 * pick free ones) and resolves with the bound addresses, their URLs and `close()`.
 *
 * The server's own dependencies (better-sqlite3, pino, prom-client) are optional peer dependencies
 * of the package, so a client-only install does not carry them: install them beside buddylink to
 * use this entry point.
 */
export type { ServerOptions } from './config.js';
export { DEFAULT_OPTIONS, resolveOptions } from './config.js';
export { type ListenAddress, type RunningServer, startServer } from './index.js';
