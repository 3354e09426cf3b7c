/**
 * The fault suite's load generator, run as a second process so a fault in the service (or in the
 * test process that injects it) cannot slow the client down:
 *
 *   node --import tsx test/faults/load.ts '<LoadConfig as JSON>'
 *
 * Workers send requests over keep-alive to 127.0.0.1, a mix of endpoints, streaming and not, with
 * distinct and repeated prompts (so both upstream calls and cache hits happen), and check every
 * answer: the status, the echoed text, and for streams the terminal event (`message_stop`,
 * `[DONE]`, `message_complete`) with no error event. Commands arrive on stdin and reports leave on
 * stdout, one JSON object a line (see `load-protocol.ts`). The generator stops at its duration or
 * request limit, on `stop`, or when its stdin closes (the test process is gone).
 */
import * as http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FailureSample, LoadCommand, LoadConfig, LoadCounters, LoadKind, LoadMessage, LoadReport, RequestRecord } from './load-protocol';

type Json = Record<string, unknown>;

const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
const timeoutMs = config.timeoutMs ?? 15_000;
const sessions = Math.max(1, config.sessions ?? 1);
const filler = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '.repeat(200).slice(0, config.padding ?? 0);
const agent = new http.Agent({ keepAlive: true, maxSockets: config.connections * 2, keepAliveMsecs: 1000 });

let mix = config.mix;
let rps = config.rps;
let stopping = false;
let seq = 0;
let nextSlot = 0;
const started = Date.now();

const counters = {
  sent: 0,
  ok: 0,
  failed: 0,
  inFlight: {} as Partial<Record<LoadKind, number>>,
  statuses: {} as Record<string, number>,
  reasons: {} as Record<string, number>,
  cache: {} as Record<string, number>,
  applied: {} as Record<string, number>,
  models: {} as Record<string, number>,
};
const latencies: number[] = [];
const failures: FailureSample[] = [];
const records: RequestRecord[] = [];

const bump = (map: Record<string, number>, key: string, by = 1) => (map[key] = (map[key] ?? 0) + by);

/** A small deterministic generator (same run, same prompts). */
let seed = 0x2545f491;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x1_0000_0000;
}

interface Planned {
  readonly kind: LoadKind;
  readonly target: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly expected: string;
}

function plan(n: number): Planned {
  const kind = mix[n % mix.length];
  const target = config.targets[n % config.targets.length];
  const repeated = random() < config.repeatShare;
  const prompt = `${config.tag} ${repeated ? `repeated ${Math.floor(random() * config.repeatPool)}` : `distinct ${n}`}${filler ? ` ${filler}` : ''}`;
  const session = `${config.tag.replace(/[^A-Za-z0-9._:@-]/g, '-')}-s${n % sessions}`;
  const stream = kind.endsWith('-stream');
  const messages = [{ role: 'user', content: prompt }];
  const expected = `echo: ${prompt}`;
  if (kind.startsWith('messages')) {
    return {
      kind,
      target,
      path: '/v1/messages',
      headers: { 'x-api-key': 'load-client', 'anthropic-version': '2023-06-01', 'x-tbo-session-id': session },
      body: JSON.stringify({ model: config.anthropicModel ?? 'claude-load', max_tokens: 256, messages, ...(stream ? { stream } : {}) }),
      expected,
    };
  }
  if (kind.startsWith('chat')) {
    return {
      kind,
      target,
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer load-client', 'x-tbo-session-id': session },
      body: JSON.stringify({ model: config.openaiModel ?? 'gpt-load', messages, ...(stream ? { stream, stream_options: { include_usage: true } } : {}) }),
      expected,
    };
  }
  return {
    kind,
    target,
    path: '/v1/collaborate',
    headers: {},
    body: JSON.stringify({ messages, context: { session_id: session, complexity: config.complexity ?? 1 }, ...(stream ? { stream } : {}) }),
    expected,
  };
}

interface Outcome {
  readonly status: number;
  readonly th: number | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function send(p: Planned): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const url = new URL(p.path, p.target);
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: url.pathname,
        agent,
        headers: { ...p.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(p.body)) },
      },
      (res) => {
        const th = Date.now();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('aborted', () => reject(new Error('response aborted')));
        res.once('error', reject);
        res.once('end', () => resolve({ status: res.statusCode ?? 0, th, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end(p.body);
  });
}

interface SseEvent {
  readonly event: string | undefined;
  readonly data: string;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      return { event, data: data.join('\n') };
    });
}

function json(text: string): Json {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
  return parsed as Json;
}

/** What a successful answer told us: the model that served it and the optimizer's notes. */
interface Verified {
  readonly model: string;
  readonly applied: readonly string[];
}

/** Checks an answer; throws with the reason it is not a complete, correct one. */
function verify(kind: LoadKind, body: string, expected: string): Verified {
  const mismatch = (got: string) => new Error(`text mismatch (${JSON.stringify(got.slice(0, 40))}…)`);
  switch (kind) {
    case 'messages': {
      const b = json(body);
      const text = (b.content as Json[]).map((c) => (c.type === 'text' ? String(c.text) : '')).join('');
      if (text !== expected) throw mismatch(text);
      return { model: String(b.model), applied: [] };
    }
    case 'chat': {
      const b = json(body);
      const text = String(((b.choices as Json[])[0].message as Json).content);
      if (text !== expected) throw mismatch(text);
      return { model: String(b.model), applied: [] };
    }
    case 'collaborate': {
      const b = json(body);
      if (b.content !== expected) throw mismatch(String(b.content));
      return { model: String(b.model), applied: b.optimization_applied as string[] };
    }
    case 'messages-stream': {
      const events = parseSse(body);
      let text = '';
      let model = '';
      for (const e of events) {
        const d = json(e.data);
        if (e.event === 'error' || d.type === 'error') throw new Error(`stream error event: ${JSON.stringify(d.error ?? d).slice(0, 80)}`);
        if (d.type === 'message_start') model = String((d.message as Json).model);
        if (d.type === 'content_block_delta') text += String((d.delta as Json).text ?? '');
      }
      if (events.at(-1)?.event !== 'message_stop') throw new Error('stream ended without message_stop');
      if (text !== expected) throw mismatch(text);
      return { model, applied: [] };
    }
    case 'chat-stream': {
      const events = parseSse(body);
      if (events.at(-1)?.data !== '[DONE]') throw new Error('stream ended without [DONE]');
      let text = '';
      let model = '';
      for (const e of events.slice(0, -1)) {
        const d = json(e.data);
        if (d.error !== undefined) throw new Error(`stream error chunk: ${JSON.stringify(d.error).slice(0, 80)}`);
        model ||= String(d.model ?? '');
        const choice = (d.choices as Json[])[0];
        if (choice) text += String((choice.delta as Json).content ?? '');
      }
      if (text !== expected) throw mismatch(text);
      return { model, applied: [] };
    }
    case 'collaborate-stream': {
      const events = parseSse(body);
      for (const e of events) if (e.event === 'error') throw new Error(`stream error event: ${e.data.slice(0, 80)}`);
      const last = events.at(-1);
      if (last?.event !== 'message_complete') throw new Error('stream ended without message_complete');
      const done = json(last.data);
      if (done.content !== expected) throw mismatch(String(done.content));
      return { model: String(done.model), applied: done.optimization_applied as string[] };
    }
  }
}

function errorReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}

function fail(p: Planned, reason: string): void {
  counters.failed++;
  bump(counters.reasons, reason.length > 60 ? `${reason.slice(0, 60)}…` : reason);
  if (failures.length < 25) failures.push({ kind: p.kind, target: p.target, reason, at: Date.now() });
}

async function one(n: number): Promise<boolean> {
  const p = plan(n);
  counters.sent++;
  bump(counters.inFlight, p.kind);
  const t0 = Date.now();
  let th: number | undefined;
  let ok = false;
  let reason: string | undefined;
  try {
    const out = await send(p);
    th = out.th;
    bump(counters.statuses, String(out.status));
    if (out.status !== 200) {
      reason = `status ${out.status}`;
    } else {
      try {
        const v = verify(p.kind, out.body, p.expected);
        ok = true;
        counters.ok++;
        latencies.push(Date.now() - t0);
        bump(counters.cache, String(out.headers['x-tbo-cache'] ?? 'none'));
        if (v.model) bump(counters.models, v.model);
        for (const a of v.applied) bump(counters.applied, a);
      } catch (err) {
        reason = errorReason(err);
      }
    }
  } catch (err) {
    bump(counters.statuses, '0');
    reason = errorReason(err);
  } finally {
    bump(counters.inFlight, p.kind, -1);
  }
  if (!ok) fail(p, reason ?? 'unknown');
  if (config.record) records.push({ kind: p.kind, t0, th, te: Date.now(), ok, reason });
  return ok;
}

function exhausted(): boolean {
  return stopping || Date.now() - started >= config.durationMs || (config.maxRequests !== undefined && seq >= config.maxRequests);
}

async function worker(): Promise<void> {
  while (!exhausted()) {
    if (rps !== undefined && rps > 0) {
      const now = Date.now();
      const wait = nextSlot - now;
      nextSlot = Math.max(nextSlot, now) + 1000 / rps;
      if (wait > 0) await sleep(wait);
      if (exhausted()) break;
    }
    const ok = await one(seq++);
    if (!ok) await sleep(20); // no hot loop against a refused port
  }
}

function snapshot(): LoadCounters {
  return { ...counters, inFlight: { ...counters.inFlight } };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : 0;
}

function emit(message: LoadMessage, then?: () => void): void {
  process.stdout.write(`${JSON.stringify(message)}\n`, then);
}

function onCommand(line: string): void {
  if (!line.trim()) return;
  const command = JSON.parse(line) as LoadCommand;
  if (command.cmd === 'stop') stopping = true;
  else if (command.cmd === 'snapshot') emit({ type: 'snapshot', id: command.id, ...snapshot() });
  else if (command.cmd === 'set') {
    if (command.mix) mix = command.mix;
    if (command.rps !== undefined) rps = command.rps;
    emit({ type: 'snapshot', id: command.id, ...snapshot() });
  }
}

async function main(): Promise<void> {
  let pending = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      onCommand(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  process.stdin.once('end', () => process.exit(3)); // the test process went away
  emit({ type: 'ready' });
  await Promise.all(Array.from({ length: config.connections }, () => worker()));
  agent.destroy();
  const elapsedMs = Date.now() - started;
  const sorted = latencies.sort((a, b) => a - b);
  const report: LoadReport = {
    ...snapshot(),
    elapsedMs,
    rps: Math.round((counters.ok / elapsedMs) * 1000 * 10) / 10,
    latency: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0 },
    failures,
    records,
  };
  emit({ type: 'result', ...report }, () => process.exit(0));
}

main().catch((err: unknown) => {
  console.error('load generator failed:', err);
  process.exit(1);
});
