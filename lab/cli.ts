#!/usr/bin/env node
import { downAll, listNamespaces } from './cleanup.js';
import { Lab } from './lab.js';
import { runMatrix } from './matrix-run.js';
import { RunNames } from './names.js';
import { LAB_DEFAULTS } from './options.js';
import { findTopology, TOPOLOGIES, withDelay } from './topologies.js';

/**
 * `npm run lab -- list | up TOPOLOGY [--delay MS] | down`: the NAT lab for people, on their own
 * Linux box (root, iproute2, nftables).
 */

const USAGE = `usage: npm run lab -- list
       npm run lab -- up TOPOLOGY [--delay MS]
       npm run lab -- matrix [--delay MS] [--runs N] [--only TOPOLOGY,...] [--results DIR]
       npm run lab -- down [RUN]`;

/** The value after `flag` in `args`, if any. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

function wholeNumber(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

async function matrix(args: string[]): Promise<number> {
  const delayMs = wholeNumber(flagValue(args, '--delay'), 0);
  const runs = wholeNumber(flagValue(args, '--runs'), 1);
  if (delayMs === undefined || runs === undefined || runs < 1) {
    console.error(USAGE);
    return 2;
  }
  const only = (flagValue(args, '--only') ?? '').split(',').filter((t) => t !== '');
  const resultsDir = flagValue(args, '--results');
  console.log(`NAT matrix with the real CLI, ${delayMs} ms delay each way, ${runs} send(s) per row`);
  const outcomes = await runMatrix({ delayMs, runs, only, ...(resultsDir ? { resultsDir } : {}) }, (o) => {
    const verdict = o.asExpected && o.sha256Checked ? 'ok  ' : 'FAIL';
    const time = o.connectMs === null ? '-' : `${o.connectMs} ms`;
    console.log(
      `${verdict} ${o.topology.padEnd(20)} ${String(o.path ?? 'none').padEnd(9)} ${time.padStart(8)}  ${o.row}`,
    );
    if (verdict === 'FAIL') console.log(`     expected ${o.expectedPath ?? 'no path'}: ${JSON.stringify(o)}`);
  });
  return outcomes.every((o) => o.asExpected && o.sha256Checked) ? 0 : 1;
}

function list(): void {
  const width = Math.max(...TOPOLOGIES.map((t) => t.name.length));
  for (const t of TOPOLOGIES) console.log(`${t.name.padEnd(width)}  ${t.summary}`);
}

function describe(lab: Lab): void {
  const { spec } = lab;
  console.log(`lab ${spec.name} is up (run ${lab.runId}). Run a command inside a host:`);
  if (lab.plan.delayMs > 0) {
    const how =
      lab.plan.delayMode === 'netem' ? 'tc netem' : 'the userspace delay wire (no netem in this kernel)';
    console.log(`  ${lab.plan.delayMs} ms each way on every internet link, by ${how}`);
  }
  for (const r of spec.routers) {
    console.log(
      `  ${r.name.padEnd(9)} router  wan ${r.wan.v4}  lan ${r.lan.v4}  nat ${r.nat.kind}  unsolicited ${r.unsolicited ?? 'drop'}`,
    );
    console.log(`            ${lab.argvIn(r.name, ['nft', 'list', 'ruleset']).join(' ')}`);
  }
  for (const h of spec.hosts) {
    const where = h.on === 'internet' ? 'internet' : `behind ${h.on}`;
    console.log(`  ${h.name.padEnd(9)} ${h.role.padEnd(7)} ${h.v4}${h.v6 ? ` ${h.v6}` : ''} (${where})`);
    console.log(`            ${lab.argvIn(h.name, ['bash']).join(' ')}`);
  }
  console.log('Ctrl-C (or `npm run lab -- down` elsewhere) removes it.');
}

async function up(name: string | undefined, args: string[]): Promise<number> {
  const base = name === undefined ? undefined : findTopology(name);
  if (!base) {
    console.error(`unknown topology ${name ?? '(none)'}; \`npm run lab -- list\` shows them`);
    return 2;
  }
  const delayMs = wholeNumber(flagValue(args, '--delay'), 0);
  if (delayMs === undefined) {
    console.error('--delay takes a whole number of milliseconds');
    return 2;
  }
  const lab = new Lab(delayMs > 0 ? withDelay(base, delayMs) : base);
  await lab.up();
  describe(lab);
  // Stay up until SIGINT/SIGTERM: the lab's own handlers tear it down and exit.
  await new Promise<never>(() => {
    setInterval(() => {}, 1 << 30);
  });
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'list':
      list();
      return 0;
    case 'up':
      return up(rest[0], rest.slice(1));
    case 'matrix':
      return matrix(rest);
    case 'down': {
      // `down RUN` removes one run only (tests use it; a bare `down` removes every lab).
      const run = rest[0];
      if (run !== undefined && !/^[a-z][a-z0-9]*$/.test(run)) {
        console.error(USAGE);
        return 2;
      }
      const prefix = run === undefined ? LAB_DEFAULTS.namespacePrefix : new RunNames(run).namespacePrefix;
      const removed = await downAll(prefix);
      console.log(removed.length === 0 ? 'no lab namespaces left' : `removed ${removed.join(', ')}`);
      const left = await listNamespaces(prefix);
      return left.length === 0 ? 0 : 1;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
