/**
 * Drill 2: a release that never becomes ready, and the rollback.
 *
 * Three replicas of the known-good version behind nginx (the compose topology on loopback, see
 * fleet.ts) serve steady client traffic. Slot tbo-1 is rolled to a release whose configuration has
 * a typo, `REDIS_URL=redis-cache:6379` (no scheme), the kind of mistake a release's config change
 * ships with: the service refuses it at start-up (exit 2, naming REDIS_URL and the accepted
 * schemes), so the replica never passes its readiness probe (in Kubernetes: a CrashLoopBackOff pod
 * the rollout waits on). The deploy gives up, the slot stays out of rotation and the traffic stays
 * on tbo-2 and tbo-3 with no failed request. The rollback (fleet.ts `rollback`, mirroring
 * {@link ROLLBACK_COMMAND}) redeploys the known-good version and full capacity returns.
 */
import { startFakeUpstream, type FakeUpstream } from '../../test/support/fake-upstream';
import { upstreamEnv } from '../../test/support/tbo';
import { closeClients } from '../../test/topology/client';
import type { AccessLogLine } from '../../test/topology/nginx';
import { Checks, type DrillCheck } from './checks';
import { COMPOSE_ROLLBACK_COMMAND, Fleet, ROLLBACK_COMMAND, type Version } from './fleet';
import { SteadyTraffic } from './traffic';

const TENANT = 'dr';
const API_KEY = `${TENANT}-key-0123456789abcdef`;
const MODEL = 'claude-haiku-4-5';
/** Requests that complete in each phase: before the deploy, while degraded, and twice that after the rollback. */
export const PHASE_REQUESTS = 30;
/** The slot rolled (tbo-1). */
const SLOT = 0;

export interface RollbackDrillOptions {
  /** Client requests per second through nginx. @default 50 */
  readonly rate?: number;
  /** How long a deploy waits for readiness before giving up. @default 10000 ms */
  readonly readyTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface RollbackDrillResult {
  readonly requests: number;
  readonly failures: number;
  readonly failureSamples: readonly string[];
  readonly goodVersion: string;
  readonly badVersion: string;
  /** Why the bad version never became ready (its refusal, which names the setting). */
  readonly badVersionReason: string;
  readonly badVersionExitCode: number | null | undefined;
  /** From the start of the deploy until it gave up on the bad version. */
  readonly deployFailedSeconds: number;
  /** Replicas in rotation: before, while the bad version was out, after the rollback. */
  readonly capacity: { readonly before: number; readonly degraded: number; readonly after: number; readonly of: number };
  /** From the start of the rollback until the slot was ready and back in rotation. */
  readonly rollbackSeconds: number;
  /** Requests served while the slot was out (all by the other replicas). */
  readonly servedWhileDegraded: number;
  /** Requests nginx sent to the rolled slot's bad instance or its drained one while out of rotation (0 expected). */
  readonly routedToRolledSlotWhileOut: number;
  /** Requests the rolled-back replica served after the rollback. */
  readonly servedByRolledBack: number;
  /** The runbook command the rollback mirrors. */
  readonly mirrors: string;
  readonly checks: readonly DrillCheck[];
}

/** The instance ports a logged request was sent to, in order. */
function upstreamPorts(line: AccessLogLine): number[] {
  return line.upstream
    .split(', ')
    .map((address) => Number(address.slice(address.lastIndexOf(':') + 1)))
    .filter((port) => port > 0);
}

/** Runs drill 2 on loopback; everything it starts is stopped before it returns. */
export async function runRollbackDrill(opts: RollbackDrillOptions = {}): Promise<RollbackDrillResult> {
  const log = opts.log ?? (() => undefined);
  const checks = new Checks();
  let fake: FakeUpstream | undefined;
  let fleet: Fleet | undefined;
  let traffic: SteadyTraffic | undefined;
  try {
    fake = await startFakeUpstream();
    const good: Version = { name: 'v1 (known-good)', env: upstreamEnv(fake.url, { TBO_API_KEYS: `${TENANT}:${API_KEY}`, TBO_DRAIN_TIMEOUT: '5' }) };
    const bad: Version = { name: 'v2 (REDIS_URL=redis-cache:6379, no scheme)', env: { ...good.env, REDIS_URL: 'redis-cache:6379' } };
    fleet = await Fleet.start(good, { readyTimeoutMs: opts.readyTimeoutMs ?? 10_000 });
    const capacityBefore = fleet.capacity;
    const drainedPort = fleet.portOf(SLOT);
    log(`${fleet.size} replicas of ${good.name} behind nginx on 127.0.0.1:${fleet.nginx.port}`);

    traffic = new SteadyTraffic({ port: fleet.nginx.port, apiKey: API_KEY, model: MODEL, rate: opts.rate ?? 50 });
    traffic.start();
    await traffic.more(PHASE_REQUESTS);

    const deploy = await fleet.deploy(SLOT, bad);
    const capacityDegraded = fleet.capacity;
    log(`deploy of ${bad.name} to tbo-${SLOT + 1}: ${deploy.ready ? 'ready' : `never ready (exit ${deploy.exitCode}: ${deploy.reason})`} after ${(deploy.ms / 1000).toFixed(2)} s`);
    checks.equal('the bad version never becomes ready', deploy.ready, false);
    checks.equal('capacity while the bad version is out', capacityDegraded, fleet.size - 1);
    const degradedFrom = traffic.requests.length;
    await traffic.more(PHASE_REQUESTS);
    const degradedTo = traffic.requests.length;

    const rollback = await fleet.rollback(SLOT);
    log(`rollback of tbo-${SLOT + 1} to ${fleet.versionOf(SLOT)}: ${rollback.ready ? 'ready and in rotation' : 'failed'} after ${(rollback.ms / 1000).toFixed(2)} s`);
    checks.equal('the rollback is ready', rollback.ready, true);
    const capacityAfter = fleet.capacity;
    checks.equal('capacity after the rollback', capacityAfter, fleet.size);
    const afterFrom = traffic.requests.length;
    await traffic.more(PHASE_REQUESTS * 2);
    await traffic.stop();

    // Which replica served what, from nginx's access log ($upstream_addr lists every instance tried).
    const lines = new Map<string, AccessLogLine>();
    for (const line of fleet.nginx.log()) lines.set(line.request_id, line);
    const linesOf = (from: number, to: number) => traffic?.requests.slice(from, to).flatMap((r) => lines.get(r.id) ?? []) ?? [];
    const rolledOutPorts = new Set([drainedPort, deploy.port]);
    const degradedLines = linesOf(degradedFrom, degradedTo);
    const routedToRolledSlotWhileOut = degradedLines.filter((l) => upstreamPorts(l).some((p) => rolledOutPorts.has(p))).length;
    const servedByRolledBack = linesOf(afterFrom, traffic.requests.length).filter((l) => upstreamPorts(l).at(-1) === rollback.port).length;
    checks.equal('requests routed to the rolled slot while it was out', routedToRolledSlotWhileOut, 0);
    checks.add('the rolled-back replica serves traffic again', servedByRolledBack > 0, `${servedByRolledBack} requests`);
    checks.equal('failed client requests', traffic.failures, 0);

    return {
      requests: traffic.requests.length,
      failures: traffic.failures,
      failureSamples: traffic.failureSamples,
      goodVersion: good.name,
      badVersion: bad.name,
      badVersionReason: deploy.reason ?? '',
      badVersionExitCode: deploy.exitCode,
      deployFailedSeconds: deploy.ms / 1000,
      capacity: { before: capacityBefore, degraded: capacityDegraded, after: capacityAfter, of: fleet.size },
      rollbackSeconds: rollback.ms / 1000,
      servedWhileDegraded: degradedLines.length,
      routedToRolledSlotWhileOut,
      servedByRolledBack,
      mirrors: `${ROLLBACK_COMMAND}; compose: ${COMPOSE_ROLLBACK_COMMAND}`,
      checks: checks.list,
    };
  } finally {
    await traffic?.stop();
    closeClients();
    await fleet?.stop();
    await fake?.close();
  }
}
