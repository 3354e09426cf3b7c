/**
 * Graceful shutdown of the real process (`node service/dist/main.js`, as the container runs it).
 * Needs a current build: `npm run build --prefix service` (run by `npm test`'s pretest).
 */
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { spawnTbo, upstreamEnv, type TboProcess } from '../support/tbo';

let fake: FakeUpstream;
let proc: TboProcess | undefined;

beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());
afterEach(async () => {
  if (proc && proc.child.exitCode === null && proc.child.signalCode === null) await proc.stop('SIGKILL');
  proc = undefined;
});

/** The exit code, or a rejection naming the deadline (and the process output) when it is still running. */
async function exitWithin(p: TboProcess, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`tbo did not exit within ${ms} ms; output:\n${p.output()}`)), ms);
  });
  try {
    return await Promise.race([p.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function refused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}

/** True once the service stopped taking work: /ready answers 503, or new connections are refused. */
async function notTakingWork(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/ready`)).status === 503;
  } catch (err) {
    return refused(err);
  }
}

function textOf(message: Anthropic.Message): string {
  return message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

function streamParams(prompt: string) {
  return { model: 'claude-test', max_tokens: 200, messages: [{ role: 'user' as const, content: prompt }] };
}

describe('SIGTERM', () => {
  it('stops taking work, lets the in-flight stream finish with the full text, and exits 0', async () => {
    fake.setStreamChunkDelay(200);
    proc = await spawnTbo(upstreamEnv(fake.url));
    const client = new Anthropic({ apiKey: 'client-key-ignored-when-open', baseURL: proc.url, maxRetries: 0 });
    const prompt = 'a slow stream that is still running when the pod is told to stop';
    const stream = client.messages.stream(streamParams(prompt));
    let streamEnded = false;
    const final = stream.finalMessage().finally(() => (streamEnded = true));
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));

    proc.child.kill('SIGTERM');
    await waitFor(() => notTakingWork((proc as TboProcess).url), { timeoutMs: 5_000, intervalMs: 10, what: '/ready 503 or a refused connection' });
    expect(streamEnded).toBe(false); // observed while the stream was still in flight

    const message = await final;
    expect(textOf(message)).toBe(`echo: ${prompt}`);
    expect(message.stop_reason).toBe('end_turn');
    expect(await exitWithin(proc, 15_000)).toBe(0);
    expect(fake.aborted).toBe(0);
  });

  it('with nothing in flight exits 0 promptly (no drain wait)', async () => {
    proc = await spawnTbo(upstreamEnv(fake.url)); // default TBO_DRAIN_TIMEOUT: 25 s
    const started = Date.now();
    proc.child.kill('SIGTERM');
    expect(await exitWithin(proc, 10_000)).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await notTakingWork(proc.url)).toBe(true);
  });

  it('cuts a stream that outlives TBO_DRAIN_TIMEOUT, cancels its upstream call, and still exits 0', async () => {
    fake.setStreamChunkDelay(1000); // the whole answer would take about 30 s
    proc = await spawnTbo(upstreamEnv(fake.url, { TBO_DRAIN_TIMEOUT: '1' }));
    const client = new Anthropic({ apiKey: 'client-key-ignored-when-open', baseURL: proc.url, maxRetries: 0 });
    const prompt = `a stream far longer than the drain timeout ${'and more words '.repeat(12)}`;
    const stream = client.messages.stream(streamParams(prompt));
    let received = '';
    stream.on('text', (t) => (received += t));
    const final = stream.finalMessage().then(
      () => 'completed',
      () => 'cut',
    );
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));

    const signalled = Date.now();
    proc.child.kill('SIGTERM');
    expect(await exitWithin(proc, 12_000)).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(900); // it did wait for the drain timeout
    expect(await final).toBe('cut');
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(`echo: ${prompt}`.length);
    await waitFor(() => fake.aborted === 1, { what: 'the upstream stream to be cancelled' });
  }, 45_000);
});
