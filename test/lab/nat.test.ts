import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lab } from '../../lab/lab.js';
import { findTopology, withDelay } from '../../lab/topologies.js';
import type { TopologySpec } from '../../lab/topology.js';
import { hostOf, requireLab, UdpPeer, withLab } from './support.js';

/** Self-tests of the lab: its NATs behave as the topologies say, on real Linux netfilter. */

const REFLECTOR_PORT = 3478;
const SECOND_REFLECTOR_PORT = 3479;

function topology(name: string): TopologySpec {
  const spec = findTopology(name);
  assert.ok(spec, `topology ${name}`);
  return spec;
}

/** Both peers learn their global address from the server, then punch toward each other's. */
async function punch(a: UdpPeer, b: UdpPeer): Promise<{ aSeenByB?: string; bSeenByA?: string }> {
  const server = `203.0.113.2:${REFLECTOR_PORT}`;
  const [ga, gb] = await Promise.all([a.probe(server), b.probe(server)]);
  assert.ok(ga && gb, 'both peers reach the server');
  // Each side's first packet opens its own NAT's state; the other side's probes then get through.
  b.send(ga);
  const [aSeenByB, bSeenByA] = await Promise.all([a.probe(gb, 5), b.probe(ga, 5)]);
  return { aSeenByB, bSeenByA };
}

test('a client behind a NAT is seen by the server with the router public address, a public host with its own', async (t) => {
  if (!requireLab(t)) return;
  await withLab(new Lab(topology('public-and-nat')), async (lab) => {
    await UdpPeer.start(lab, 'server', { port: REFLECTOR_PORT });
    const alice = await UdpPeer.start(lab, 'alice');
    const bob = await UdpPeer.start(lab, 'bob');
    const server = `203.0.113.2:${REFLECTOR_PORT}`;
    assert.equal(hostOf(await alice.probe(server)), '203.0.113.10');
    assert.equal(await bob.probe(server), `198.51.100.20:${bob.port}`);
  });
});

test('two clients behind one NAT cannot reach each other by their public addresses (no hairpin), only on the LAN', async (t) => {
  if (!requireLab(t)) return;
  await withLab(new Lab(topology('one-nat')), async (lab) => {
    await UdpPeer.start(lab, 'server', { port: REFLECTOR_PORT });
    const alice = await UdpPeer.start(lab, 'alice');
    const bob = await UdpPeer.start(lab, 'bob');
    const { aSeenByB, bSeenByA } = await punch(alice, bob);
    assert.equal(aSeenByB, undefined, 'bob must not hear alice through the public address');
    assert.equal(bSeenByA, undefined, 'alice must not hear bob through the public address');
    assert.equal(await alice.probe(`192.168.1.11:${bob.port}`), `192.168.1.10:${alice.port}`);
  });
});

test('two endpoint-independent NATs let their clients punch a hole to each other', async (t) => {
  if (!requireLab(t)) return;
  await withLab(new Lab(topology('two-nats')), async (lab) => {
    await UdpPeer.start(lab, 'server', { port: REFLECTOR_PORT });
    const alice = await UdpPeer.start(lab, 'alice');
    const bob = await UdpPeer.start(lab, 'bob');
    const { aSeenByB, bSeenByA } = await punch(alice, bob);
    assert.equal(hostOf(aSeenByB), '203.0.113.10');
    assert.equal(hostOf(bSeenByA), '203.0.113.11');
  });
});

test('an endpoint-independent NAT keeps one mapping for all destinations, a symmetric NAT makes one per destination', async (t) => {
  if (!requireLab(t)) return;
  await withLab(new Lab(topology('symmetric-one')), async (lab) => {
    await UdpPeer.start(lab, 'server', { port: REFLECTOR_PORT });
    await UdpPeer.start(lab, 'server', { port: SECOND_REFLECTOR_PORT });
    const alice = await UdpPeer.start(lab, 'alice'); // behind the symmetric NAT
    const bob = await UdpPeer.start(lab, 'bob'); // behind the endpoint-independent NAT
    const targets = [`203.0.113.2:${REFLECTOR_PORT}`, `203.0.113.2:${SECOND_REFLECTOR_PORT}`];
    const aliceSeen = [await alice.probe(targets[0]!), await alice.probe(targets[1]!)];
    const bobSeen = [await bob.probe(targets[0]!), await bob.probe(targets[1]!)];
    assert.ok(aliceSeen[0] && aliceSeen[1] && bobSeen[0] && bobSeen[1], 'every probe answered');
    assert.notEqual(aliceSeen[0], aliceSeen[1], 'symmetric: a new mapping per destination');
    assert.equal(bobSeen[0], bobSeen[1], 'endpoint-independent: one mapping');
  });
});

test('a pool NAT sends two LAN clients out by different public addresses', async (t) => {
  if (!requireLab(t)) return;
  await withLab(new Lab(topology('pool-nat')), async (lab) => {
    await UdpPeer.start(lab, 'server', { port: REFLECTOR_PORT });
    const alice = await UdpPeer.start(lab, 'alice');
    const bob = await UdpPeer.start(lab, 'bob');
    const server = `203.0.113.2:${REFLECTOR_PORT}`;
    assert.equal(hostOf(await alice.probe(server)), '203.0.113.20');
    assert.equal(hostOf(await bob.probe(server)), '203.0.113.21');
  });
});

test('a hairpinning carrier NAT lets two homes punch through to each other, one without hairpin does not', async (t) => {
  if (!requireLab(t)) return;
  const tryPunch = (name: string) =>
    withLab(new Lab(topology(name)), async (lab) => {
      await UdpPeer.start(lab, 'server', { port: REFLECTOR_PORT });
      const alice = await UdpPeer.start(lab, 'alice');
      const bob = await UdpPeer.start(lab, 'bob');
      return punch(alice, bob);
    });
  const [hairpin, plain] = await Promise.all([tryPunch('carrier-nat-hairpin'), tryPunch('carrier-nat')]);
  assert.equal(hostOf(hairpin.aSeenByB), '203.0.113.30', 'hairpinned: bob sees alice at the carrier address');
  assert.equal(hostOf(hairpin.bSeenByA), '203.0.113.30');
  assert.equal(plain.aSeenByB, undefined);
  assert.equal(plain.bSeenByA, undefined);
});

test('UDP blocked between two NATs stops punching while the server still answers', async (t) => {
  if (!requireLab(t)) return;
  await withLab(new Lab(topology('udp-blocked')), async (lab) => {
    await UdpPeer.start(lab, 'server', { port: REFLECTOR_PORT });
    const alice = await UdpPeer.start(lab, 'alice');
    const bob = await UdpPeer.start(lab, 'bob');
    const { aSeenByB, bSeenByA } = await punch(alice, bob);
    assert.equal(aSeenByB, undefined);
    assert.equal(bSeenByA, undefined);
  });
});

test('IPv6 hosts in one /64 reach each other directly; in two prefixes only after punching the stateful firewalls', async (t) => {
  if (!requireLab(t)) return;
  const oneLan = withLab(new Lab(topology('ipv6-one-lan')), async (lab) => {
    const alice = await UdpPeer.start(lab, 'alice', { v6: true });
    const bob = await UdpPeer.start(lab, 'bob', { v6: true });
    return alice.probe(`[2001:db8:a::11]:${bob.port}`);
  });
  const twoPrefixes = withLab(new Lab(topology('ipv6-two-prefixes')), async (lab) => {
    const alice = await UdpPeer.start(lab, 'alice', { v6: true });
    const bob = await UdpPeer.start(lab, 'bob', { v6: true });
    const toBob = `[2001:db8:b::10]:${bob.port}`;
    const unsolicited = await alice.probe(toBob, 2);
    bob.send(`[2001:db8:a::10]:${alice.port}`);
    const punched = await alice.probe(toBob, 5);
    return { unsolicited, punched, alicePort: alice.port };
  });
  const [same, routed] = await Promise.all([oneLan, twoPrefixes]);
  assert.equal(hostOf(same), '2001:db8:a::10');
  assert.equal(routed.unsolicited, undefined, 'the firewall drops an unsolicited inbound packet');
  assert.equal(routed.punched, `[2001:db8:a::10]:${routed.alicePort}`, 'no translation on IPv6');
});

test('a lab with delay adds it once in each direction between two internet nodes', async (t) => {
  if (!requireLab(t)) return;
  const delayMs = 30;
  await withLab(new Lab(withDelay(topology('two-nats'), delayMs)), async (lab) => {
    await UdpPeer.start(lab, 'server', { port: REFLECTOR_PORT });
    const alice = await UdpPeer.start(lab, 'alice');
    const server = `203.0.113.2:${REFLECTOR_PORT}`;
    assert.ok(await alice.probe(server, 4, 500), 'the server answers'); // also resolves ARP on the way
    const rtts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      assert.ok(await alice.probe(server, 1, 1_000));
      rtts.push(performance.now() - started);
    }
    const best = Math.min(...rtts);
    assert.ok(best >= 2 * delayMs - 1, `round trip ${best.toFixed(1)} ms covers the delay both ways`);
    assert.ok(best < 2 * delayMs + 40, `round trip ${best.toFixed(1)} ms is not much more than the delay`);
  });
});

/** Both peers' global addresses, from the server's reflector. */
async function globals(a: UdpPeer, b: UdpPeer): Promise<[string, string]> {
  const server = `203.0.113.2:${REFLECTOR_PORT}`;
  const [ga, gb] = await Promise.all([a.probe(server), b.probe(server)]);
  assert.ok(ga && gb, 'both peers reach the server');
  return [ga, gb];
}

test('routers without an input filter break punching when the buddy sends first; routers that reject or drop do not', async (t) => {
  if (!requireLab(t)) return;
  const naive = (name: string) =>
    withLab(new Lab(topology(name)), async (lab) => {
      await UdpPeer.start(lab, 'server', { port: REFLECTOR_PORT });
      return punch(await UdpPeer.start(lab, 'alice'), await UdpPeer.start(lab, 'bob'));
    });
  const [bare, rejecting] = await Promise.all([naive('two-bare-nats'), naive('two-rejecting-nats')]);
  // Bob's first packet reached homeA before alice had sent: homeA kept it in conntrack, so alice's
  // own flow to bob left by another port, which homeB (address-and-port filtering) does not let in.
  assert.equal(bare.aSeenByB, undefined, 'bob never hears alice through bare routers');
  assert.equal(bare.bSeenByA, undefined, 'alice never hears bob through bare routers');
  assert.equal(
    hostOf(rejecting.aSeenByB),
    '192.0.2.10',
    'a rejecting router keeps no state for the early packet',
  );
  assert.equal(hostOf(rejecting.bSeenByA), '192.0.2.74');
});

test("a TTL-3 packet leaves its own NAT and expires before the buddy's NAT, four router hops away; TTL 5 arrives", async (t) => {
  if (!requireLab(t)) return;
  await withLab(new Lab(topology('two-bare-nats')), async (lab) => {
    await UdpPeer.start(lab, 'server', { port: REFLECTOR_PORT });
    const alice = await UdpPeer.start(lab, 'alice');
    const bob = await UdpPeer.start(lab, 'bob');
    const [ga, gb] = await globals(alice, bob);
    // The opening packet: homeB now maps bob towards alice, and homeA never saw it.
    bob.send(ga, 3);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await alice.probe(gb, 3), ga, 'alice reaches bob, and by her own mapping (no remap)');
    assert.ok(
      bob.events.some((e) => e.event === 'probe' && e.from === ga),
      'bob heard alice at her STUN address',
    );
  });
  await withLab(new Lab(topology('two-bare-nats')), async (lab) => {
    await UdpPeer.start(lab, 'server', { port: REFLECTOR_PORT });
    const alice = await UdpPeer.start(lab, 'alice');
    const bob = await UdpPeer.start(lab, 'bob');
    const [ga, gb] = await globals(alice, bob);
    bob.send(ga, 5); // reaches homeA with TTL 1: delivered to the router, which keeps its entry
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await alice.probe(gb, 3), undefined, "TTL 5 reached the buddy's NAT and broke the punch");
  });
});
