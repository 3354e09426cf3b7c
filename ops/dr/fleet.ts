/**
 * The docker-compose topology on loopback as a fleet an operator deploys to: three named replica
 * slots (tbo-1 … tbo-3) running `node service/dist/main.js`, behind the top-level nginx.conf
 * (rendered by test/topology's helpers). A slot is deployed the way a rolling update replaces a
 * replica: out of nginx's rotation (reload), drained (SIGTERM), the new version started, and back
 * into rotation only once its readiness probe (`GET /ready`) answers 200 within the deadline. A
 * version that never becomes ready leaves its slot out of rotation, so traffic stays on the others.
 *
 * `rollback(slot)` redeploys the slot's previous known-good version: the loopback equivalent of
 * the runbook's rollback, {@link ROLLBACK_COMMAND} (the previous revision's pod template back), and
 * on the compose topology of `docker-compose up -d --no-deps tbo-N` with the known-good image.
 */
import type { ChildProcess } from 'node:child_process';
import { findServiceNode } from '../../scripts/service-node.cjs';
import { PROBE_PATHS } from '../../service/src/config/settings';
import { waitFor } from '../../test/support/ports';
import { launchTbo } from '../../test/support/tbo';
import { loopbackValues, readNginxConf, renderNginxConf, startNginx, type NginxProcess } from '../../test/topology/nginx';
import { guard } from '../../test/topology/processes';

/** The runbook command `rollback()` mirrors (RUNBOOK.md, Kubernetes, rollback step 1: "Undo the rollout"). */
export const ROLLBACK_COMMAND = 'kubectl -n <namespace> rollout undo deployment/<deployment_name>';
/** The same on the compose topology this fleet runs. */
export const COMPOSE_ROLLBACK_COMMAND = 'docker-compose up -d --no-deps tbo-N (known-good image)';

const SLOTS = 3;
/** The Node.js the image runs (scripts/service-node), whose V8 code cache the build made; else this node. */
const SERVICE_NODE = findServiceNode()?.path ?? process.execPath;

/** A release: a name and the environment (configuration) its replicas run with. */
export interface Version {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
}

/** A running replica. */
export interface Instance {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** What starting a version on a slot came to. */
export type StartOutcome =
  | { readonly ready: true; readonly instance: Instance; readonly ms: number }
  | { readonly ready: false; readonly port: number; readonly ms: number; readonly exitCode: number | null; readonly reason: string };

interface Slot {
  version: Version;
  /** The version before the last deploy: what `rollback()` redeploys. */
  previous: Version | undefined;
  instance: Instance | undefined;
  /** Port nginx.conf names for the slot (the last instance's, while the slot is empty). */
  port: number;
  inRotation: boolean;
  unguard: (() => void) | undefined;
}

/**
 * Why a start failed: the service's first configuration issue (`- SETTING (yaml.key): … (received …)`,
 * which never shows a secret or URL credentials), else its last output line.
 */
function reasonOf(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => l.startsWith('- ')) ?? lines.at(-1) ?? '';
}

/** Starts `version` on free ports and waits for readiness; a process that exits or stays unready past the deadline is a failed start. */
export async function startInstance(version: Version, readyTimeoutMs: number): Promise<StartOutcome> {
  const startedAt = performance.now();
  const { port, url, child, exited, output } = await launchTbo(version.env, SERVICE_NODE);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  try {
    await waitFor(
      async () => {
        if (exitCode !== undefined) return true;
        // A probe per connection, as the kubelet's: no idle kept-alive connection for the drain to wait on.
        const res = await fetch(`${url}${PROBE_PATHS.readiness}`, { headers: { connection: 'close' } });
        await res.arrayBuffer();
        return res.status === 200;
      },
      { what: `${version.name} to become ready`, timeoutMs: readyTimeoutMs, intervalMs: 25 },
    );
  } catch {
    child.kill('SIGKILL');
    await exited;
    return { ready: false, port, ms: performance.now() - startedAt, exitCode: null, reason: `not ready within ${readyTimeoutMs} ms` };
  }
  if (exitCode !== undefined) return { ready: false, port, ms: performance.now() - startedAt, exitCode, reason: reasonOf(output()) };
  return { ready: true, instance: { port, url, child, exited, output }, ms: performance.now() - startedAt };
}

/** Stops an instance by pid: SIGTERM (it drains), SIGKILL after `graceMs`. */
async function stopInstance(instance: Instance, graceMs: number): Promise<number | null> {
  const timer = setTimeout(() => instance.child.kill('SIGKILL'), graceMs);
  if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGTERM');
  const code = await instance.exited;
  clearTimeout(timer);
  return code;
}

/** What a deploy or rollback of one slot came to. */
export interface SlotChange {
  readonly ready: boolean;
  /** From the start of the operation until the slot was back in rotation, or the start was given up. */
  readonly ms: number;
  /** The new version's port (the one nginx would have routed to). */
  readonly port: number;
  readonly exitCode?: number | null;
  readonly reason?: string;
}

export class Fleet {
  private constructor(
    private readonly slots: Slot[],
    readonly nginx: NginxProcess,
    private readonly source: string,
    private readonly readyTimeoutMs: number,
    private readonly drainGraceMs: number,
  ) {}

  /** Starts `version` in every slot, then nginx in front of them. */
  static async start(version: Version, opts: { readonly readyTimeoutMs?: number; readonly drainGraceMs?: number } = {}): Promise<Fleet> {
    const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
    const outcomes = await Promise.all(Array.from({ length: SLOTS }, () => startInstance(version, readyTimeoutMs)));
    const started = outcomes.flatMap((o) => (o.ready ? [o.instance] : []));
    const failed = outcomes.find((o) => !o.ready);
    if (failed && !failed.ready) {
      await Promise.all(started.map((instance) => stopInstance(instance, 0)));
      throw new Error(`${version.name} did not start: ${failed.reason}`);
    }
    const slots: Slot[] = started.map((instance) => ({
      version,
      previous: undefined,
      instance,
      port: instance.port,
      inRotation: true,
      unguard: guard(instance.child.pid as number, 'SIGKILL'),
    }));
    const source = await readNginxConf();
    let nginx: NginxProcess;
    try {
      nginx = await startNginx((port) => renderFor(source, port, slots));
    } catch (err) {
      await Promise.all(slots.map((slot) => slot.instance && stopInstance(slot.instance, 0)));
      for (const slot of slots) slot.unguard?.();
      throw err;
    }
    return new Fleet(slots, nginx, source, readyTimeoutMs, opts.drainGraceMs ?? 10_000);
  }

  /** Slots in nginx's rotation with a ready instance. */
  get capacity(): number {
    return this.slots.filter((s) => s.inRotation && s.instance).length;
  }

  get size(): number {
    return this.slots.length;
  }

  /** The port nginx routes slot `i` to. */
  portOf(i: number): number {
    return this.slots[i].port;
  }

  /** The version slot `i` runs (or last ran). */
  versionOf(i: number): string {
    return this.slots[i].version.name;
  }

  private async rerender(): Promise<void> {
    await this.nginx.reload(renderFor(this.source, this.nginx.port, this.slots));
  }

  /**
   * Replaces slot `i` with `version`: out of rotation, drained, started, and back in rotation once
   * ready. A version that does not become ready leaves the slot empty and out of rotation.
   */
  async deploy(i: number, version: Version): Promise<SlotChange> {
    const slot = this.slots[i];
    const startedAt = performance.now();
    slot.inRotation = false;
    await this.rerender();
    if (slot.instance) {
      await stopInstance(slot.instance, this.drainGraceMs);
      slot.unguard?.();
      slot.instance = undefined;
    }
    slot.previous = slot.version;
    slot.version = version;
    return this.bringUp(slot, startedAt);
  }

  /** Redeploys slot `i`'s previous (known-good) version; see {@link ROLLBACK_COMMAND}. */
  async rollback(i: number): Promise<SlotChange> {
    const slot = this.slots[i];
    if (!slot.previous) throw new Error(`slot ${i} has no previous version to roll back to`);
    const startedAt = performance.now();
    if (slot.instance) {
      slot.inRotation = false;
      await this.rerender();
      await stopInstance(slot.instance, this.drainGraceMs);
      slot.unguard?.();
      slot.instance = undefined;
    }
    slot.version = slot.previous;
    slot.previous = undefined;
    return this.bringUp(slot, startedAt);
  }

  private async bringUp(slot: Slot, startedAt: number): Promise<SlotChange> {
    const outcome = await startInstance(slot.version, this.readyTimeoutMs);
    if (!outcome.ready) return { ready: false, ms: performance.now() - startedAt, port: outcome.port, exitCode: outcome.exitCode, reason: outcome.reason };
    slot.instance = outcome.instance;
    slot.unguard = guard(outcome.instance.child.pid as number, 'SIGKILL');
    slot.port = outcome.instance.port;
    slot.inRotation = true;
    await this.rerender();
    return { ready: true, ms: performance.now() - startedAt, port: outcome.instance.port };
  }

  /** Stops nginx, then every instance (SIGTERM, SIGKILL after the grace period). */
  async stop(): Promise<void> {
    await this.nginx.stop();
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.instance) await stopInstance(slot.instance, 5_000);
        slot.unguard?.();
        slot.instance = undefined;
      }),
    );
  }
}

/** nginx.conf for loopback: the slots' ports, `down` for slots out of rotation, per-IP limits above the drill's traffic. */
function renderFor(source: string, listenPort: number, slots: readonly Slot[]): string {
  const values = loopbackValues(listenPort, slots.map((s) => s.port));
  for (const [i, slot] of slots.entries()) if (!slot.inRotation) values[`tbo-${i + 1}:8000`] += ' down';
  return renderNginxConf(source, { ...values, 'rate=10r/s': 'rate=100000r/s', '10': '1000' });
}
