/**
 * The report's upstream, as its own process: the fake Anthropic + OpenAI upstream
 * (test/support/fake-upstream.ts, in this process on a private loopback port) behind a thin
 * wrapper that gives every call its own latency and, for 1 % of calls, a 529 overloaded_error
 * (report/upstream-model.ts). Answers, usage and wire formats are the fake's own, except that
 * every text answer gets a fixed-length tag appended, which for a sampled request (no temperature,
 * or one above 0) differs from call to call (SAMPLED_ANSWERS_DIFFER in scenario.ts).
 *
 * Started with bench/processes.ts `spawnBenchServer`: prints `PORT <n>`, reports its counters
 * over IPC and exits when the parent goes away (bench/child.ts).
 */
import * as http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { announce } from '../bench/child';
import { anthropicProvider } from '../test/support/fake-anthropic';
import { openaiProvider } from '../test/support/fake-openai';
import { tokenCount } from '../test/support/fake-text';
import { startFakeUpstream } from '../test/support/fake-upstream';
import { SAMPLED_ANSWERS_DIFFER } from './scenario';
import { percentile } from './stats';
import { answerTag, isSampled, requestKey, upstreamDraw } from './upstream-model';

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parse(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * An Anthropic Messages answer with `tag` appended to its text and its output tokens counted again;
 * undefined for anything else (an error, a stream, a tool call), which is passed on unchanged.
 */
function tagged(payload: Buffer, tag: string): string | undefined {
  const answer = parse(payload) as { content?: { type?: string; text?: unknown }[]; usage?: { output_tokens?: number } } | undefined;
  const block = answer?.content?.length === 1 ? answer.content[0] : undefined;
  if (!answer?.usage || block?.type !== 'text' || typeof block.text !== 'string') return undefined;
  block.text += tag;
  answer.usage.output_tokens = tokenCount(block.text);
  return JSON.stringify(answer);
}

/** Sends the fake's answer on, tagged when `tag` is set and the answer is a text message. */
function passOn(answer: http.IncomingMessage, res: http.ServerResponse, tag: string | undefined): void {
  if (tag === undefined || answer.statusCode !== 200 || !String(answer.headers['content-type'] ?? '').startsWith('application/json')) {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
    return;
  }
  void readBody(answer).then((payload) => {
    const text = tagged(payload, tag);
    res.writeHead(200, { ...answer.headers, 'content-length': String(text === undefined ? payload.length : Buffer.byteLength(text)) });
    res.end(text ?? payload);
  }, (err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
}

async function main(): Promise<void> {
  const fake = await startFakeUpstream();
  const agent = new http.Agent({ keepAlive: true });
  const seen = new Map<string, number>();
  const drawnMs: number[] = [];
  const counts = { calls: 0, overloaded: 0, forwarded: 0, sampled: 0, clientGone: 0, inFlight: 0, maxInFlight: 0 };

  const server = http.createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const path = (req.url ?? '/').split('?')[0];
      const body = parse(raw);
      const key = requestKey(path, body);
      const occurrence = seen.get(key) ?? 0;
      seen.set(key, occurrence + 1);
      const draw = upstreamDraw(key, occurrence);
      counts.calls++;
      counts.inFlight++;
      counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
      drawnMs.push(draw.latencyMs);
      res.once('close', () => counts.inFlight--);
      await sleep(draw.latencyMs);
      if (res.destroyed) {
        counts.clientGone++;
        return;
      }
      if (draw.overloaded) {
        counts.overloaded++;
        const provider = path === openaiProvider.path ? openaiProvider : anthropicProvider;
        const payload = JSON.stringify(provider.error(529));
        res.writeHead(529, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
        res.end(payload);
        return;
      }
      counts.forwarded++;
      const sampled = isSampled(body);
      if (sampled) counts.sampled++;
      const tag = SAMPLED_ANSWERS_DIFFER ? answerTag(key, sampled ? occurrence : undefined) : undefined;
      const upstream = http.request({ host: '127.0.0.1', port: fake.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => passOn(answer, res, tag));
      upstream.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`report upstream: ${err.message}`);
      });
      upstream.end(raw);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`report upstream bug: ${String(err)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // The fake records every request for tests; nothing here reads them.
  setInterval(() => fake.reset(), 1000).unref();
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  announce(address.port, () => {
    const sorted = [...drawnMs].sort((a, b) => a - b);
    return {
      ...counts,
      drawnP50Ms: percentile(sorted, 0.5),
      drawnP95Ms: percentile(sorted, 0.95),
      drawnMeanMs: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0,
      drawnMaxMs: sorted.at(-1) ?? 0,
    };
  });
}

main().catch((err: unknown) => {
  console.error('report upstream failed:', err);
  process.exit(1);
});
