export { CHUNK_BYTES } from './body.js';
export { TransferCancelledError, TransferDeclinedError } from './errors.js';
export {
  type Answer,
  answerFrame,
  type DeclineCode,
  type Hello,
  type Offer,
  readFrame,
  readHello,
  readTyped,
  TRANSFER_VERSION,
  writeFrame,
} from './frames.js';
export { safeFileName, safeRelativePath } from './names.js';
export { sweepStaleParts } from './parts.js';
export {
  type Decision,
  declineHello,
  type IncomingOffer,
  type ReceivedFile,
  type ReceivedTransfer,
  type ReceiveOptions,
  receiveTransfer,
} from './receive.js';
export {
  type SendOptions,
  type SentFile,
  type SentTransfer,
  sendText,
  sendTransfer,
  type TransferProgress,
} from './send.js';
export { LocalFileError, planItems, type SendItem } from './sources.js';
