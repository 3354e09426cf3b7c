/**
 * Large bodies (a phone screenshot as a base64 image) are accepted up to TBO_MAX_BODY_BYTES, and
 * the bytes all requests in flight hold are bounded by TBO_MAX_INFLIGHT_BODY_BYTES: beyond it a
 * request is turned away at once with 503 and Retry-After (never an out-of-memory crash), and
 * its body is not read.
 */
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { waitFor } from '../support/ports';
import { startTbo, upstreamEnv, type RunningTbo } from '../support/tbo';

const KEY = 'body-budget-key-0123456789';
const MiB = 1024 ** 2;

let fake: FakeUpstream;
let tbo: RunningTbo;
beforeAll(async () => {
  fake = await startFakeUpstream();
  tbo = await startTbo(upstreamEnv(fake.url, { TBO_API_KEYS: `team:${KEY}`, TBO_MAX_BODY_BYTES: String(9 * MiB), TBO_MAX_INFLIGHT_BODY_BYTES: String(20 * MiB) }));
});
afterAll(async () => {
  await tbo?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

const claude = () => new Anthropic({ apiKey: KEY, baseURL: tbo.url, maxRetries: 0 });
/** A message with an 8 MB base64 "screenshot". */
const withImage = (text: string) => ({
  model: 'claude-test',
  max_tokens: 16,
  messages: [{
    role: 'user' as const,
    content: [
      { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'A'.repeat(8 * MiB) } },
      { type: 'text' as const, text },
    ],
  }],
});

async function inflightBytes(): Promise<number> {
  const text = await (await fetch(`${tbo.adminUrl}/metrics`)).text();
  return Number(/^tbo_inflight_body_bytes (\S+)$/m.exec(text)?.[1]);
}

it('accepts an 8 MB image body and answers it', async () => {
  const message = await claude().messages.create(withImage('one screenshot'));
  expect(message.content).toEqual([{ type: 'text', text: 'echo: one screenshot' }]);
});

it('turns a body away with 503 + Retry-After while the bodies in flight would exceed the budget, and admits it again once they end', async () => {
  fake.setLatency(400);
  const first = claude().messages.create(withImage('first'));
  const second = claude().messages.create(withImage('second'));
  await waitFor(async () => (await inflightBytes()) > 16 * MiB, { what: 'two 8 MB bodies in flight' });
  const third = await claude().messages.create(withImage('third')).catch((e: unknown) => e);
  expect(third).toBeInstanceOf(Anthropic.APIError);
  expect((third as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
  expect((third as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('1');
  expect((third as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  await Promise.all([first, second]);
  await waitFor(async () => (await inflightBytes()) === 0, { what: 'the budget to be given back' });
  fake.setLatency(0);
  const again = await claude().messages.create(withImage('third, again'));
  expect(again.content).toEqual([{ type: 'text', text: 'echo: third, again' }]);
  expect(fake.calls).toBe(3);
});
