import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** PostgreSQL and Redis for tests: .ci/run starts them once (.ci/services.sh); alone, a test starts its own. */
export interface TestServices {
  /** A database of its own for the caller, dropped by `stop`. */
  postgres: string;
  redis: string;
  /** Keys of this caller begin with it, so that tests may share one Redis. */
  redisPrefix: string;
  stop(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('../../../.ci/services.sh', import.meta.url));

/**
 * The services, or a reason why there are none: then a test skips with that reason, except under
 * CI=true, where CI promised them and their absence is a failure.
 */
export async function testServices(): Promise<TestServices | string> {
  try {
    return await openServices();
  } catch (err) {
    const reason = `PostgreSQL/Redis unavailable (${err instanceof Error ? err.message : String(err)}); run .ci/services.sh start`;
    if (process.env.CI === 'true') throw new Error(reason);
    return reason;
  }
}

async function openServices(): Promise<TestServices> {
  let base = process.env.BUDDYLINK_TEST_POSTGRES;
  let redis = process.env.BUDDYLINK_TEST_REDIS;
  let ownDir: string | undefined;
  if (!base || !redis) {
    const env = parseExports(execFileSync('bash', [SCRIPT, 'start'], { encoding: 'utf8', timeout: 60_000 }));
    ownDir = env.BUDDYLINK_TEST_SERVICES_DIR;
    base = env.BUDDYLINK_TEST_POSTGRES;
    redis = env.BUDDYLINK_TEST_REDIS;
    if (!base || !redis) throw new Error('services.sh printed no URLs');
  }
  const stopOwn = () => {
    if (ownDir) execFileSync('bash', [SCRIPT, 'stop', ownDir], { timeout: 60_000 });
  };
  try {
    const name = `buddylink_t_${randomBytes(6).toString('hex')}`;
    await adminQuery(base, `CREATE DATABASE ${name}`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    return {
      postgres: url.toString(),
      redis,
      redisPrefix: `${process.env.BUDDYLINK_TEST_REDIS_PREFIX ?? 'test:'}${name}:`,
      stop: async () => {
        await adminQuery(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
        stopOwn();
      },
    };
  } catch (err) {
    stopOwn();
    throw err;
  }
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^export (\w+)='([^']*)'$/gm))
    if (m[1] && m[2] !== undefined) out[m[1]] = m[2];
  return out;
}
