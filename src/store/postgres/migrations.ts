import type { Migration } from '../migrations.js';

/**
 * The PostgreSQL schema, the same tables as SQLite's (../migrations.ts) in PostgreSQL's types. `user`
 * is a reserved word there, hence `user_name`. Never edit a released migration; add the next one.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts, session tokens, buddy relations',
    sql: `
      CREATE TABLE accounts (
        user_name TEXT PRIMARY KEY,
        password_hash BYTEA NOT NULL,
        salt BYTEA NOT NULL,
        kdf TEXT NOT NULL,
        public_key TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE session_tokens (
        token_hash TEXT PRIMARY KEY,
        user_name TEXT NOT NULL REFERENCES accounts(user_name) ON DELETE CASCADE,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX session_tokens_expiry ON session_tokens(expires_at);
      -- One row per unordered pair (user_lo < user_hi), so that a pair can never hold two relations;
      -- COLLATE "C" so that the database orders names as the server's code does, whatever its locale.
      CREATE TABLE buddy_relations (
        user_lo TEXT COLLATE "C" NOT NULL REFERENCES accounts(user_name) ON DELETE CASCADE,
        user_hi TEXT COLLATE "C" NOT NULL REFERENCES accounts(user_name) ON DELETE CASCADE,
        requester TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
        created_at BIGINT NOT NULL,
        PRIMARY KEY (user_lo, user_hi),
        CHECK (user_lo < user_hi),
        CHECK (requester IN (user_lo, user_hi))
      );
      CREATE INDEX buddy_relations_hi ON buddy_relations(user_hi);
    `,
  },
  {
    version: 2,
    name: 'block list; the device a session token was issued to',
    sql: `
      CREATE TABLE blocks (
        user_name TEXT NOT NULL REFERENCES accounts(user_name) ON DELETE CASCADE,
        blocked TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (user_name, blocked)
      );
      ALTER TABLE session_tokens ADD COLUMN device TEXT;
      CREATE INDEX session_tokens_user ON session_tokens(user_name);
    `,
  },
];
