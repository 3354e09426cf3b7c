/**
 * The fake upstream as its own process, timed like a model generating an answer: a fixed time to
 * first byte (`BENCH_UPSTREAM_LATENCY_MS`), stream frames `BENCH_STREAM_CHUNK_MS` apart, and a JSON
 * answer only once the whole generation is done (`BENCH_JSON_LATENCY_MS` more). Reports its call
 * count over IPC (the run is short: its request records are kept).
 */
import { startFakeUpstream } from '../test/support/fake-upstream';
import { announce } from './child';

async function main(): Promise<void> {
  const fake = await startFakeUpstream();
  fake.setLatency(Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 0));
  fake.setStreamChunkDelay(Number(process.env.BENCH_STREAM_CHUNK_MS ?? 0));
  fake.setJsonLatency(Number(process.env.BENCH_JSON_LATENCY_MS ?? 0));
  announce(fake.port, () => ({ calls: fake.calls }));
}

main().catch((err: unknown) => {
  console.error('generation-upstream-server failed:', err);
  process.exit(1);
});
