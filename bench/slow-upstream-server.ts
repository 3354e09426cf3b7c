/**
 * The fake upstream as its own process with a fixed time to first byte
 * (`BENCH_UPSTREAM_LATENCY_MS`), for measuring queueing in front of a slow provider.
 */
import { startFakeUpstream } from '../test/support/fake-upstream';
import { announce } from './child';

async function main(): Promise<void> {
  const fake = await startFakeUpstream();
  fake.setLatency(Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 0));
  let calls = 0;
  setInterval(() => {
    calls += fake.calls;
    fake.reset();
    fake.setLatency(Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 0));
  }, 250);
  announce(fake.port, () => ({ calls: calls + fake.calls }));
}

main().catch((err: unknown) => {
  console.error('slow-upstream-server failed:', err);
  process.exit(1);
});
