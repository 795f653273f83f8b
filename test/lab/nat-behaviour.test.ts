import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Lab } from '../../lab/lab.js';
import { CliProcess, type JsonLine, runCli } from '../../lab/scenario/cli-driver.js';
import { findTopology } from '../../lab/topologies.js';
import { requireLab, withLab } from './support.js';

/**
 * `buddylink doctor` against real netfilter NATs: the class it reports (RFC 5780 terms) is the
 * class the lab built, from the real server's two STUN ports.
 */

const PASSWORD = 'lab password 1';

async function doctorOf(topologyName: string, users: readonly string[]): Promise<Map<string, JsonLine>> {
  const spec = findTopology(topologyName);
  assert.ok(spec, topologyName);
  const dir = await mkdtemp(join(tmpdir(), 'buddylab-doctor-'));
  const found = new Map<string, JsonLine>();
  await withLab(new Lab(spec), async (lab) => {
    const serverHost = spec.hosts.find((h) => h.role === 'server');
    assert.ok(serverHost?.v4);
    const server = CliProcess.spawn(
      lab,
      'server',
      ['server', '--json', '--host', serverHost.v4, '--port', '0', '--http-port', '0', '--data', ':memory:'],
      {},
    );
    try {
      const listening = await server.waitForEvent('listening', 15_000);
      assert.ok(listening, `server started: ${server.stderr}`);
      const env = (user: string) => ({
        BUDDYLINK_SERVER: `ws://${serverHost.v4}:${new URL(String(listening.ws)).port}`,
        BUDDYLINK_HOME: join(dir, user),
        BUDDYLINK_PASSWORD: PASSWORD,
      });
      for (const user of users) {
        const created = await runCli(lab, user, ['account', 'create', user, '--json'], env(user));
        assert.equal(created.exitCode, 0, created.stderr);
        const doctor = await runCli(lab, user, ['doctor', '--json'], env(user));
        assert.equal(doctor.exitCode, 0, doctor.stderr);
        const line = doctor.lines.find((l) => l.event === 'doctor');
        assert.ok(line, doctor.stdout);
        found.set(user, line);
      }
    } finally {
      await server.stop();
    }
  });
  return found;
}

test('doctor tells a symmetric NAT (a port per destination) from an endpoint-independent one, both port-filtering', async (t) => {
  if (!requireLab(t)) return;
  const found = await doctorOf('symmetric-one', ['alice', 'bob']);
  const alice = found.get('alice'); // behind masquerade random
  const bob = found.get('bob'); // behind plain masquerade with an input filter
  assert.equal(alice?.udp, true);
  assert.equal(alice?.behindNat, true);
  assert.equal(alice?.mapping, 'address-and-port-dependent');
  assert.equal(bob?.behindNat, true);
  assert.equal(bob?.mapping, 'endpoint-independent');
  assert.equal(bob?.portPreserved, true);
  // Linux conntrack lets in only replies from the very address and port we sent to.
  assert.equal(bob?.filtering, 'address-and-port-dependent');
  assert.equal(bob?.hairpin, false, 'the lab routers do not hairpin');
  assert.match(String(bob?.global), /^203\.0\.113\.11:\d+$/);
});

test('doctor says a public host has no NAT in front of it, and a NATed one has', async (t) => {
  if (!requireLab(t)) return;
  const found = await doctorOf('public-and-nat', ['alice', 'bob']);
  assert.equal(found.get('bob')?.behindNat, false);
  assert.equal(found.get('bob')?.mapping, 'endpoint-independent');
  assert.equal(found.get('bob')?.filtering, 'port-independent');
  assert.equal(found.get('alice')?.behindNat, true);
});
