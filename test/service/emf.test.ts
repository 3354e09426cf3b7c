import { EMF_METRICS, EmfExporter } from '../../service/src/observability/emf';
import { Metrics } from '../../service/src/observability/metrics';

describe('CloudWatch Embedded Metric Format export', () => {
  it('writes one EMF document per flush with latency as a distribution of what changed', async () => {
    const metrics = new Metrics();
    const lines: string[] = [];
    const emf = new EmfExporter(metrics, { namespace: 'TBO', service: 'tbo-test', intervalSeconds: 60 }, (l) => lines.push(l));
    metrics.request('POST', '/v1/messages', 200, 0.3);
    metrics.request('POST', '/v1/messages', 200, 2.5);
    metrics.request('POST', '/v1/chat/completions', 200, 2.5);
    metrics.request('GET', '/health', 200, 0.001); // not a proxied request: not in the latency distribution
    metrics.request('GET', '/v1/performance', 200, 0.001); // nor is the report
    metrics.cacheResult('miss');
    metrics.cacheResult('hit');
    await emf.flush(1_700_000_000_000);
    const doc = JSON.parse(lines[0]) as Record<string, unknown> & { _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } };
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(doc._aws.Timestamp).toBe(1_700_000_000_000);
    expect(doc._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'TBO', Dimensions: [['Service']] });
    // No session yet: bandwidth is absent (no data), not 0, so it cannot fire an alarm.
    // No request yet went through the optimizer: no overhead distribution either.
    expect(doc._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name).sort()).toEqual(Object.values(EMF_METRICS).filter((n) => n !== EMF_METRICS.bandwidthEfficiency && n !== EMF_METRICS.overhead).sort());
    expect(doc[EMF_METRICS.queueLength]).toBe(0);
    expect(doc[EMF_METRICS.bandwidthEfficiency]).toBeUndefined();
    expect(doc.Service).toBe('tbo-test');
    expect(doc[EMF_METRICS.requestLatency]).toEqual({ Values: [0.5, 3], Counts: [1, 2] });
    expect(doc[EMF_METRICS.requests]).toBe(3);
    expect(doc[EMF_METRICS.cacheHitRate]).toBe(0.5);

    metrics.request('POST', '/v1/messages', 200, 0.02);
    metrics.overhead(0.0004);
    metrics.overhead(0.003);
    metrics.queue(7, undefined);
    metrics.cacheResult('miss');
    metrics.cacheResult('miss');
    metrics.bandwidthEfficiency.set(0.2);
    await emf.flush();
    const second = JSON.parse(lines[1]) as Record<string, unknown>;
    expect(second[EMF_METRICS.requestLatency]).toEqual({ Values: [0.025], Counts: [1] });
    expect(second[EMF_METRICS.requests]).toBe(1);
    expect(second[EMF_METRICS.cacheHitRate]).toBe(0); // this interval only: 0 of 2, not 1 of 4 since start
    expect(second[EMF_METRICS.bandwidthEfficiency]).toBe(0.2);
    // The scale-out signal and TBO's own time (the guide's latency signal, not the model's).
    expect(second[EMF_METRICS.queueLength]).toBe(7);
    expect(second[EMF_METRICS.overhead]).toEqual({ Values: [0.0005, 0.005], Counts: [1, 1] });

    await emf.flush();
    const idle = JSON.parse(lines[2]) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } };
    expect(idle[EMF_METRICS.requestLatency]).toBeUndefined();
    expect(idle._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name)).not.toContain(EMF_METRICS.requestLatency);
    expect(idle[EMF_METRICS.requests]).toBe(0);
    expect(idle[EMF_METRICS.cacheHitRate]).toBeUndefined(); // idle: no data rather than a low hit rate
  });
});
