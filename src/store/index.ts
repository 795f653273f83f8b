export * from './memory-online.js';
export * from './migrations.js';
export * from './online.js';
export * from './relation-cache.js';
export * from './sqlite-store.js';
export * from './store.js';
