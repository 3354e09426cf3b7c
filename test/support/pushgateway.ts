/**
 * A real Prometheus Pushgateway (Debian package `prometheus-pushgateway`) on 127.0.0.1, started by
 * the test and stopped by pid; read back through its JSON API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitFor } from './ports';

const BINARY = 'prometheus-pushgateway';

/** One metric family of a group, as `/api/v1/metrics` lists it. */
export interface PushedFamily {
  readonly type: string;
  readonly help: string;
  readonly metrics: readonly { readonly labels: Readonly<Record<string, string>>; readonly value?: string }[];
}

/** One group (job + grouping key) on the gateway. */
export interface PushedGroup {
  readonly labels: Readonly<Record<string, string>>;
  readonly families: Readonly<Record<string, PushedFamily>>;
}

export interface RunningPushgateway {
  readonly url: string;
  readonly port: number;
  /** Every group the gateway holds now. */
  groups(): Promise<PushedGroup[]>;
  /** The group with exactly these grouping labels (job included), or undefined. */
  group(labels: Readonly<Record<string, string>>): Promise<PushedGroup | undefined>;
  /** Stops the process (by pid) and waits until it exited. */
  close(): Promise<void>;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/**
 * Starts `prometheus-pushgateway --web.listen-address=127.0.0.1:<port>` (a free port unless given)
 * without persistence, and resolves once `/-/ready` answers 200.
 */
export async function startPushgateway(port?: number): Promise<RunningPushgateway> {
  const listenPort = port ?? (await freePort());
  const url = `http://127.0.0.1:${listenPort}`;
  const child: ChildProcess = spawn(BINARY, [`--web.listen-address=127.0.0.1:${listenPort}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  await waitFor(
    async () => {
      if (spawnError) throw new Error(`${BINARY} could not start (apt-get install prometheus-pushgateway): ${spawnError.message}`);
      if (child.exitCode !== null) throw new Error(`${BINARY} exited with ${child.exitCode}: ${stderr}`);
      return (await fetch(`${url}/-/ready`)).ok;
    },
    { what: `${BINARY} /-/ready`, timeoutMs: 10_000, intervalMs: 10 },
  );
  const groups = async (): Promise<PushedGroup[]> => {
    const res = await fetch(`${url}/api/v1/metrics`);
    if (!res.ok) throw new Error(`${BINARY} /api/v1/metrics answered ${res.status}`);
    const body = (await res.json()) as { data: ({ labels: Record<string, string> } & Record<string, unknown>)[] };
    return body.data.map(({ labels, ...rest }) => ({
      labels,
      families: Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v === 'object' && v !== null && 'metrics' in v)) as Record<string, PushedFamily>,
    }));
  };
  return {
    url,
    port: listenPort,
    groups,
    group: async (labels) => (await groups()).find((g) => sameLabels(g.labels, labels)),
    async close() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}
