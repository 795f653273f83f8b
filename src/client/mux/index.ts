export { type CloseCode, closeCodeOf, type MessageErrorCode, MuxError, type MuxErrorCode } from './errors.js';
export { Mux, type MuxEvents, type MuxOptions, type RequestHandler } from './mux.js';
export { MuxStream } from './mux-stream.js';
