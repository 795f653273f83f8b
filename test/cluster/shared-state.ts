import { Redis } from 'ioredis';
import pg from 'pg';

/** Every key and value in the Redis, as text: strings, hashes, sets, sorted sets (with scores), lists. */
export async function dumpRedis(url: string): Promise<string[]> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  const out: string[] = [];
  try {
    let cursor = '0';
    for (let round = 0; round < 10_000; round++) {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
      for (const key of keys) {
        out.push(key);
        const type = await redis.type(key);
        if (type === 'string') out.push((await redis.get(key)) ?? '');
        else if (type === 'hash') out.push(...Object.entries(await redis.hgetall(key)).flat());
        else if (type === 'set') out.push(...(await redis.smembers(key)));
        else if (type === 'zset') out.push(...(await redis.zrange(key, 0, -1, 'WITHSCORES')));
        else if (type === 'list') out.push(...(await redis.lrange(key, 0, -1)));
        else out.push(`<${type}>`);
      }
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
  return out;
}

/** Every row of every table of the database, each as PostgreSQL's text of the whole row. */
export async function dumpPostgres(url: string): Promise<string[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name
       FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    const out: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
      out.push(...rows.rows.map((r) => `${name} ${r.row}`));
    }
    return out;
  } finally {
    await client.end();
  }
}

/** The forms an IPv4 address could take in shared state: text, mapped, hex (bytea), base64 of the bytes. */
export function addressForms(ip: string): string[] {
  const bytes = Buffer.from(ip.split('.').map(Number));
  return [ip, `::ffff:${ip}`, bytes.toString('hex'), bytes.toString('base64').replace(/=+$/, '')];
}
