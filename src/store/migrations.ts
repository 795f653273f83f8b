/**
 * Schema versions, applied in order and recorded in `schema_migrations`; a migration is never edited
 * once released, only followed by a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts, session tokens, buddy relations',
    sql: `
      CREATE TABLE accounts (
        user TEXT PRIMARY KEY,
        password_hash BLOB NOT NULL,
        salt BLOB NOT NULL,
        kdf TEXT NOT NULL,
        public_key TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE session_tokens (
        token_hash TEXT PRIMARY KEY,
        user TEXT NOT NULL REFERENCES accounts(user) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX session_tokens_expiry ON session_tokens(expires_at);
      -- One row per unordered pair (user_lo < user_hi), so that a pair can never hold two relations.
      CREATE TABLE buddy_relations (
        user_lo TEXT NOT NULL REFERENCES accounts(user) ON DELETE CASCADE,
        user_hi TEXT NOT NULL REFERENCES accounts(user) ON DELETE CASCADE,
        requester TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_lo, user_hi),
        CHECK (user_lo < user_hi),
        CHECK (requester IN (user_lo, user_hi))
      ) STRICT;
      CREATE INDEX buddy_relations_hi ON buddy_relations(user_hi);
    `,
  },
  {
    version: 2,
    name: 'block list; the device a session token was issued to',
    sql: `
      CREATE TABLE blocks (
        user TEXT NOT NULL REFERENCES accounts(user) ON DELETE CASCADE,
        blocked TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user, blocked)
      ) STRICT;
      ALTER TABLE session_tokens ADD COLUMN device TEXT;
      CREATE INDEX session_tokens_user ON session_tokens(user);
    `,
  },
];
