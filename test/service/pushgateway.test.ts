/**
 * PROMETHEUS_GATEWAY: the service pushes its registry to a real Prometheus Pushgateway (Debian
 * `prometheus-pushgateway`, started here on loopback) under job `tbo` and its instance, replaces
 * the group on every push, and deletes it on shutdown.
 */
import { Gauge } from '../../service/node_modules/prom-client';
import { createLogger } from '../../service/src/observability/logger';
import { Metrics } from '../../service/src/observability/metrics';
import { FAILURE_LOG_EVERY_MS, instanceId, PushgatewayExporter, PUSHGATEWAY_JOB, type Every } from '../../service/src/observability/pushgateway';
import { FakeClock } from '../support/fake-clock';
import { freePort, waitFor } from '../support/ports';
import { startPushgateway, type RunningPushgateway } from '../support/pushgateway';
import { startTbo, upstreamEnv } from '../support/tbo';

let gateway: RunningPushgateway;

beforeAll(async () => {
  gateway = await startPushgateway();
});
afterAll(async () => {
  await gateway?.close();
});

/** A logger whose JSON lines the test reads. */
function capturingLogger() {
  const lines: string[] = [];
  const logger = createLogger('info', 'tbo', { write: (line: string) => void lines.push(line) });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** A timer the test fires by hand. */
function manualEvery() {
  const ticks: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  const every: Every = (ms, fn) => {
    const tick = { ms, fn, cancelled: false };
    ticks.push(tick);
    return () => (tick.cancelled = true);
  };
  return { every, ticks };
}

function sampleValue(group: Awaited<ReturnType<RunningPushgateway['group']>>, family: string, labels: Record<string, string> = {}): number | undefined {
  const metric = group?.families[family]?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  return metric?.value === undefined ? undefined : Number(metric.value);
}

describe('Pushgateway export', () => {
  it('pushes the service registry under job tbo and its instance at start, on demand, and deletes the group at shutdown', async () => {
    const tbo = await startTbo(upstreamEnv('http://127.0.0.1:9', { PROMETHEUS_GATEWAY: gateway.url }));
    const exporter = tbo.service.pushgateway as PushgatewayExporter;
    const key = { job: PUSHGATEWAY_JOB, instance: exporter.instance };
    try {
      expect(exporter.instance).toMatch(new RegExp(`-${process.pid}(-[0-9a-f]{8})?$`)); // <hostname>-<pid> of this process
      // The push at start: the instance shows up at once, not one export interval later.
      await waitFor(async () => (await gateway.group(key)) !== undefined, { what: 'the push at start', timeoutMs: 5000, intervalMs: 10 });
      let group = await gateway.group(key);
      expect(group?.families.tbo_cache_hit_rate?.type).toBe('GAUGE');
      expect(group?.families.tbo_requests_total).toBeUndefined(); // no request yet: a labelled counter has no series

      expect((await fetch(`${tbo.url}/health`)).status).toBe(200);
      // The access log counts a request when its response closes: push until the count is there.
      const health = { method: 'GET', endpoint: '/health', status: '200' };
      await waitFor(async () => (await exporter.push()) && sampleValue(await gateway.group(key), 'tbo_requests_total', health) === 1, { what: 'the request counted on the gateway', timeoutMs: 5000, intervalMs: 10 });
      group = await gateway.group(key);
      // Every series carries the grouping key as labels (what Prometheus scrapes from the gateway).
      expect(group?.families.tbo_requests_total.metrics.every((m) => m.labels.job === 'tbo' && m.labels.instance === exporter.instance)).toBe(true);
    } finally {
      await tbo.close();
    }
    expect(await gateway.group(key)).toBeUndefined();
  });

  it('replaces the whole group on each push (PUT): a series the instance no longer has disappears', async () => {
    const metrics = new Metrics();
    const temporary = new Gauge({ name: 'tbo_test_temporary', help: 'present in the first push only', registers: [metrics.registry] });
    temporary.set(7);
    const { every } = manualEvery();
    const exporter = new PushgatewayExporter(metrics, { url: gateway.url, intervalSeconds: 60, instance: 'replace-test', every }, createLogger('silent'));
    const key = { job: 'tbo', instance: 'replace-test' };
    expect(await exporter.push()).toBe(true);
    expect(sampleValue(await gateway.group(key), 'tbo_test_temporary')).toBe(7);
    metrics.registry.removeSingleMetric('tbo_test_temporary');
    expect(await exporter.push()).toBe(true);
    const group = await gateway.group(key);
    expect(group?.families.tbo_test_temporary).toBeUndefined();
    expect(group?.families.tbo_cache_hit_rate).toBeDefined();
    await exporter.stop();
    expect(await gateway.group(key)).toBeUndefined();
  });

  it('pushes on every tick of the export interval, with computed gauges refreshed, and stops ticking at shutdown', async () => {
    const metrics = new Metrics();
    let sessions = 0;
    metrics.onCollect(() => metrics.activeSessions.set(sessions));
    const { every, ticks } = manualEvery();
    const exporter = new PushgatewayExporter(metrics, { url: gateway.url, intervalSeconds: 15, instance: 'tick-test', every }, createLogger('silent'));
    const key = { job: 'tbo', instance: 'tick-test' };
    exporter.start();
    expect(ticks).toHaveLength(1);
    expect(ticks[0].ms).toBe(15_000);
    expect(await exporter.push()).toBe(true); // joins the push made at start (one at a time)
    expect(sampleValue(await gateway.group(key), 'tbo_active_sessions')).toBe(0);

    sessions = 3;
    metrics.cacheResult('hit');
    ticks[0].fn();
    expect(await exporter.push()).toBe(true);
    const group = await gateway.group(key);
    expect(sampleValue(group, 'tbo_active_sessions')).toBe(3);
    expect(sampleValue(group, 'tbo_cache_requests_total', { result: 'hit' })).toBe(1);

    await exporter.stop();
    expect(ticks[0].cancelled).toBe(true);
    expect(await exporter.push()).toBe(false); // stopped: nothing recreates the deleted group
    expect(await gateway.group(key)).toBeUndefined();
  });

  it('logs failures without the gateway credentials, at most once per interval with a count, then the recovery', async () => {
    const port = await freePort(); // nothing listens here yet
    const clock = new FakeClock();
    const { logger, records, lines } = capturingLogger();
    const url = `http://pushuser:s3cret-Pa55@127.0.0.1:${port}/?token=qs-secret`;
    const exporter = new PushgatewayExporter(new Metrics(), { url, intervalSeconds: 60, instance: 'failure-test', clock, every: manualEvery().every }, logger);
    expect(exporter.target).toBe(`http://127.0.0.1:${port}`);

    expect(await exporter.push()).toBe(false);
    expect(await exporter.push()).toBe(false);
    expect(await exporter.push()).toBe(false);
    expect(records()).toHaveLength(1);
    expect(records()[0]).toMatchObject({ level: 40, gateway: `http://127.0.0.1:${port}`, instance: 'failure-test', operation: 'push', failures_not_logged: 0 });
    expect(String(records()[0].err)).toContain('ECONNREFUSED');

    clock.advance(FAILURE_LOG_EVERY_MS);
    expect(await exporter.push()).toBe(false);
    expect(records()).toHaveLength(2);
    expect(records()[1]).toMatchObject({ failures_not_logged: 2 });

    const late = await startPushgateway(port);
    try {
      expect(await exporter.push()).toBe(true); // the gateway ignores basic auth it was not configured for
      expect(records()[2]).toMatchObject({ level: 30, msg: 'pushgateway reachable again', failures_not_logged: 0 });
      expect(await late.group({ job: 'tbo', instance: 'failure-test' })).toBeDefined();
      await exporter.stop();
      expect(await late.group({ job: 'tbo', instance: 'failure-test' })).toBeUndefined();
    } finally {
      await late.close();
    }
    const all = lines.join('');
    for (const secret of ['s3cret-Pa55', 'pushuser', 'qs-secret']) expect(all).not.toContain(secret);
  });

  it('logs a failed delete at shutdown whatever the pace (the instance\'s series stay on the gateway)', async () => {
    const port = await freePort();
    const { logger, records } = capturingLogger();
    const exporter = new PushgatewayExporter(new Metrics(), { url: `http://127.0.0.1:${port}`, intervalSeconds: 60, instance: 'delete-test', every: manualEvery().every, clock: new FakeClock() }, logger);
    expect(await exporter.push()).toBe(false);
    await exporter.stop();
    expect(records().map((r) => r.operation)).toEqual(['push', 'delete']);
  });
});

describe('instance grouping label', () => {
  it('is <hostname>-<pid>, with characters a URL path segment would escape replaced', () => {
    expect(instanceId('tbo-7d9f8-abcde', 1)).toBe('tbo-7d9f8-abcde-1');
    expect(instanceId('ip-10-0-1-2.ec2.internal', 42)).toBe('ip-10-0-1-2.ec2.internal-42');
    expect(instanceId('Weird Host/ä', 7)).toBe('weird-host---7');
  });

  it('adds a random id where the hostname names no machine', () => {
    expect(instanceId('localhost', 1, () => 'a1b2c3d4')).toBe('localhost-1-a1b2c3d4');
    expect(instanceId('', 1, () => 'a1b2c3d4')).toBe('1-a1b2c3d4');
  });
});
