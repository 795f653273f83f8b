import { Redis } from 'ioredis';
import pg from 'pg';
import { alive } from './proc.js';

/** Readings of the shared PostgreSQL and Redis: their processes, transactions, commands, memory. */

/** Pids of the PostgreSQL backends connected to the bench database (the nodes' pools), when local. */
export async function postgresBackends(url: string): Promise<number[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return rows.map((r) => r.pid).filter(alive);
  } finally {
    await client.end();
  }
}

/** Transactions committed or rolled back in the bench database so far (PostgreSQL's own statistics). */
export async function postgresTransactions(url: string): Promise<number> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

/** redis-server's pid (when it runs on this machine) and used memory. */
export async function redisInfo(
  url: string,
): Promise<{ pid: number | undefined; usedBytes: number; commands: number }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info();
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    return {
      pid: alive(pid) ? pid : undefined,
      usedBytes: Number(/^used_memory:(\d+)/m.exec(info)?.[1]),
      commands: Number(/^total_commands_processed:(\d+)/m.exec(info)?.[1]),
    };
  } finally {
    redis.disconnect();
  }
}
