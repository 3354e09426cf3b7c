/**
 * The bench's fake upstream with a fake Amazon Bedrock Runtime beside it, one process: the fake
 * Anthropic + OpenAI APIs (test/support/fake-upstream.ts, as bench/upstream-server.ts runs them) on
 * the port it announces (`PORT <n>`), and Bedrock's `invoke` / `invoke-with-response-stream` for
 * Claude (bench/bedrock-wire.ts) on a second loopback port, printed first as `BEDROCK_PORT <n>`.
 * One process, so the bench's upstream counters (CPU time, `calls`) cover calls to both, and a
 * Bedrock chunk and a public-API chunk of the same rounds are answered by the same process.
 * Counters over IPC: `calls` (every backend), `bedrockCalls` (Bedrock only).
 *
 * No artificial latency. Bedrock errors have its shape: the status, `x-amzn-ErrorType` and
 * `{"message": …}`. The SigV4 signature is checked for shape and scope, not recomputed (see
 * bench/bedrock-wire.ts).
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { startFakeUpstream } from '../test/support/fake-upstream';
import { authProblem, BEDROCK_PORT_PREFIX, bedrockRoute, bodyProblem, invokeReply, streamMessages, type BedrockCall, type BedrockRejection } from './bedrock-wire';
import { announce } from './child';

function reject(res: http.ServerResponse, requestId: string, r: BedrockRejection): void {
  const payload = JSON.stringify({ message: r.message });
  res.writeHead(r.status, { 'x-amzn-requestid': requestId, 'x-amzn-errortype': `${r.errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
  res.end(payload);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Bedrock Runtime on 127.0.0.1; `calls` counts requests that reached a model route. */
async function startFakeBedrock(): Promise<{ readonly port: number; calls(): number }> {
  let calls = 0;
  const server = http.createServer((req, res) => {
    void (async () => {
      const requestId = randomUUID();
      const route = req.method === 'POST' ? bedrockRoute((req.url ?? '/').split('?')[0]) : undefined;
      const raw = await readBody(req);
      if (!route) return reject(res, requestId, { status: 404, errorType: 'UnknownOperationException', message: `fake Bedrock: no operation ${req.method} ${req.url}` });
      calls++;
      const auth = authProblem(req.headers);
      if (auth) return reject(res, requestId, auth);
      let body: unknown;
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        body = undefined;
      }
      const problem = bodyProblem(body);
      if (problem) return reject(res, requestId, { status: 400, errorType: 'ValidationException', message: problem });
      const call = { ...route, body } as BedrockCall;
      if (call.operation === 'invoke') {
        const reply = invokeReply(call);
        const payload = JSON.stringify(reply.body);
        res.writeHead(200, { 'x-amzn-requestid': requestId, ...reply.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
        res.end(payload);
        return;
      }
      const messages = streamMessages(call);
      res.writeHead(200, { 'x-amzn-requestid': requestId, 'x-amzn-bedrock-content-type': 'application/json', 'content-type': 'application/vnd.amazon.eventstream' });
      res.flushHeaders();
      for (const message of messages) res.write(message);
      res.end();
    })().catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else reject(res, randomUUID(), { status: 500, errorType: 'InternalServerException', message: `fake Bedrock bug: ${String(err)}` });
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake Bedrock: no address');
  return { port: address.port, calls: () => calls };
}

async function main(): Promise<void> {
  const fake = await startFakeUpstream();
  const bedrock = await startFakeBedrock();
  // As in bench/upstream-server.ts: the fake's request records are dropped every 250 ms, its call count kept.
  let publicCalls = 0;
  setInterval(() => {
    publicCalls += fake.calls;
    fake.reset();
  }, 250);
  process.stdout.write(`${BEDROCK_PORT_PREFIX}${bedrock.port}\n`);
  announce(fake.port, () => ({ calls: publicCalls + fake.calls + bedrock.calls(), bedrockCalls: bedrock.calls() }));
}

main().catch((err: unknown) => {
  console.error('bedrock-upstream-server failed:', err);
  process.exit(1);
});
