export * from './addresses.js';
export * from './envelope.js';
export * from './errors.js';
export * from './events.js';
export * from './fields.js';
export * from './requests.js';
export * from './results.js';
export * from './version.js';
