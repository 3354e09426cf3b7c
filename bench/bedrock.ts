/**
 * A streamed `POST /v1/messages` cache miss answered by Claude on Amazon Bedrock next to the same
 * miss answered by the Anthropic API (issue 13): TBO's CPU per request for each, as two scenarios of
 * the same interleaved rounds (bench/measure.ts), so the cost of the Bedrock path (SigV4 signing,
 * the binary event stream decoded and translated into Anthropic SSE) reads as the difference.
 *
 * Both rows run on one TBO process, which routes `claude-haiku-4-5` to the Anthropic API and
 * `claude-sonnet-4-5` to Bedrock: the same process state (JIT, GC, cache, connection pools) and the
 * same moments of the machine's load serve both, which two processes would not (one can settle a
 * few % off another of the same build, see bench/README.md). The requests are the same but for the
 * model name; both backends are fakes in one process (bench/bedrock-upstream-server.ts) answering
 * the same stream events and text, the Bedrock one wrapped in Bedrock's event stream.
 */
import { BEDROCK_ACCESS_KEY_ID, BEDROCK_PORT_PREFIX, BEDROCK_REGION, BEDROCK_SECRET_ACCESS_KEY } from './bedrock-wire';
import type { ChunkRecord, Scenario, ScenarioResult } from './measure';
import type { BenchServer, TboProcess } from './processes';
import { chatBody, smallPrompt, type Tags } from './requests';
import { perRoundRatio } from './report';
import { fmt, renderTable } from './table';
import { TBO_KEY, tboEnv } from './tbo-env';

export const MESSAGES_PATH = '/v1/messages';

/** Routed to the Anthropic API (its default route, the fast tier). */
export const PUBLIC_API_MODEL = 'claude-haiku-4-5';
/** Routed to Bedrock (`TBO_MODELS_BALANCED=bedrock:claude-sonnet-4-5,…`): `us.anthropic.claude-sonnet-4-5-20250929-v1:0` in us-east-1. */
export const BEDROCK_MODEL = 'claude-sonnet-4-5';

/** Scenario ids: the streamed miss on each backend. */
export const BEDROCK_SCENARIOS = { publicApi: 'tbo-stream-miss-anthropic', bedrock: 'tbo-stream-miss-bedrock' } as const;

/** True for the scenarios of this file (they have no direct-upstream baseline of their own). */
export function isBedrockScenario(id: string): boolean {
  return id === BEDROCK_SCENARIOS.publicApi || id === BEDROCK_SCENARIOS.bedrock;
}

/** The system prompt of the chat bench's requests (bench/requests.ts), so both benches send alike. */
const SYSTEM = (JSON.parse(chatBody('')) as { messages: { content: string }[] }).messages[0].content;

/** A streamed Messages request as the Anthropic SDK sends it: the chat bench's prompt, temperature and token limit. */
export function messagesBody(tag: string, model: string): string {
  return JSON.stringify({
    model,
    max_tokens: 256,
    system: SYSTEM,
    messages: [{ role: 'user', content: smallPrompt(tag) }],
    temperature: 0.2,
    stream: true,
  });
}

/** The Anthropic SDK's headers, with the bench tenant's TBO key. */
export const MESSAGES_HEADERS: Readonly<Record<string, string>> = { 'x-api-key': TBO_KEY, 'anthropic-version': '2023-06-01' };

/** The Bedrock listener of bench/bedrock-upstream-server.ts (it prints its port before announcing). */
export function bedrockEndpointOf(upstream: BenchServer): string {
  const line = upstream.output().split('\n').find((l) => l.startsWith(BEDROCK_PORT_PREFIX));
  const port = Number(line?.slice(BEDROCK_PORT_PREFIX.length));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`${upstream.name}: no ${BEDROCK_PORT_PREFIX.trim()} line; is it bench/bedrock-upstream-server.ts? output: ${upstream.output().slice(0, 300)}`);
  return `http://127.0.0.1:${port}`;
}

/**
 * TBO's environment for both rows: the bench's (tbo-env.ts) plus a Bedrock route, its region and
 * loopback endpoint, and static credentials in the environment (the AWS credential chain's first
 * step; the chain resolves them once, as it caches a task role's until they near expiry). The
 * instance metadata service is switched off: nothing may leave the loopback interface.
 */
export function bedrockTboEnv(upstreamUrl: string, bedrockUrl: string, configFile: string): Record<string, string> {
  return {
    ...tboEnv(upstreamUrl, configFile),
    TBO_MODELS_FAST: `anthropic:${PUBLIC_API_MODEL},openai:gpt-4o-mini`,
    TBO_MODELS_BALANCED: `bedrock:${BEDROCK_MODEL},openai:gpt-4o`,
    TBO_BEDROCK_REGION: BEDROCK_REGION,
    TBO_BEDROCK_ENDPOINT: bedrockUrl,
    AWS_ACCESS_KEY_ID: BEDROCK_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: BEDROCK_SECRET_ACCESS_KEY,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Event names and the text of an Anthropic SSE stream. */
export function readStream(sse: string): { readonly events: string[]; readonly text: string } {
  const events: string[] = [];
  let text = '';
  for (const block of sse.split(/\r?\n\r?\n/)) {
    let event: string | undefined;
    let data = '';
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (event === undefined) continue;
    events.push(event);
    if (event === 'content_block_delta') {
      const delta = (JSON.parse(data) as { delta?: { type?: string; text?: string } }).delta;
      if (delta?.type === 'text_delta') text += delta.text ?? '';
    }
  }
  return { events, text };
}

/**
 * One streamed miss per backend through TBO, checked: 200, `x-tbo-cache: miss`, an SSE stream with
 * the fake's answer (`echo: <prompt>`), exactly one Bedrock call for the Bedrock row and none for
 * the other, and the same sequence of events from both. Throws otherwise.
 */
export async function primeBedrock(tbo: TboProcess, upstream: BenchServer, tags: Tags): Promise<void> {
  const seen: { model: string; events: string[] }[] = [];
  for (const model of [PUBLIC_API_MODEL, BEDROCK_MODEL]) {
    const tag = tags.next();
    const before = (await upstream.stats()).counters;
    const res = await fetch(`${tbo.url}${MESSAGES_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', ...MESSAGES_HEADERS }, body: messagesBody(tag, model) });
    const sse = await res.text();
    const after = (await upstream.stats()).counters;
    const what = `${tbo.name}: streamed ${MESSAGES_PATH} for ${model}`;
    if (res.status !== 200 || res.headers.get('x-tbo-cache') !== 'miss' || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
      throw new Error(`${what}: expected 200, x-tbo-cache miss and an event stream, got ${res.status} ${res.headers.get('x-tbo-cache')} ${res.headers.get('content-type')}: ${sse.slice(0, 300)}`);
    }
    const stream = readStream(sse);
    if (stream.text !== `echo: ${smallPrompt(tag)}`) throw new Error(`${what}: expected the fake's answer, got ${JSON.stringify(stream.text)}`);
    const bedrockCalls = (after.bedrockCalls ?? NaN) - (before.bedrockCalls ?? NaN);
    const calls = (after.calls ?? NaN) - (before.calls ?? NaN);
    const expectBedrock = model === BEDROCK_MODEL ? 1 : 0;
    if (calls !== 1 || bedrockCalls !== expectBedrock) throw new Error(`${what}: expected 1 upstream call (${expectBedrock} to Bedrock), got ${calls} (${bedrockCalls} to Bedrock)`);
    seen.push({ model, events: stream.events });
  }
  const [a, b] = seen;
  if (a.events.join() !== b.events.join()) throw new Error(`${tbo.name}: the two backends' streams differ: ${a.model} sent ${a.events.join(' ')}; ${b.model} sent ${b.events.join(' ')}`);
}

/** The two streamed-miss scenarios against one TBO (prime it first: {@link primeBedrock}). */
export function bedrockScenarios(tbo: TboProcess, tags: Tags, extra: Partial<Pick<Scenario, 'connections' | 'measure'>> = {}): Scenario[] {
  const url = `${tbo.url}${MESSAGES_PATH}`;
  const headers = { ...MESSAGES_HEADERS };
  return [
    { id: BEDROCK_SCENARIOS.publicApi, label: `TBO cache miss, ${MESSAGES_PATH} streamed, Anthropic API (distinct requests)`, url, headers, body: () => messagesBody(tags.next(), PUBLIC_API_MODEL), server: tbo, upstreamCallsPerRequest: 1, ...extra },
    { id: BEDROCK_SCENARIOS.bedrock, label: `TBO cache miss, ${MESSAGES_PATH} streamed, Bedrock (distinct requests)`, url, headers, body: () => messagesBody(tags.next(), BEDROCK_MODEL), server: tbo, upstreamCallsPerRequest: 1, ...extra },
  ];
}

type Row = Pick<ScenarioResult, 'id' | 'requests' | 'serverCpuUsPerRequest' | 'serverSystemUsPerRequest' | 'serverCpuUsRange' | 'upstreamCpuUsPerRequest' | 'latency' | 'chunks'>;

/** Bedrock's CPU per request ÷ the Anthropic API's: pooled, and lowest–highest over the rounds (chunks paired by round). */
export function bedrockRatio(publicApi: Row, bedrock: Row): { readonly pooled: number; readonly perRound: readonly [number, number] } {
  return {
    pooled: bedrock.serverCpuUsPerRequest / publicApi.serverCpuUsPerRequest,
    perRound: perRoundRatio(bedrock, publicApi, (c: ChunkRecord) => c.serverCpuMicros / c.requests),
  };
}

/** CPU per request of TBO for a streamed miss on each backend, and their ratio (empty without both rows). */
export function renderBedrockCpu(scenarios: readonly Row[]): string {
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const publicApi = byId.get(BEDROCK_SCENARIOS.publicApi);
  const bedrock = byId.get(BEDROCK_SCENARIOS.bedrock);
  if (!publicApi || !bedrock) return '';
  const rows = [
    ['messages, streamed, miss — Anthropic API', publicApi],
    ['messages, streamed, miss — Bedrock', bedrock],
  ] as const;
  const table = renderTable(
    ['TBO, 1 connection', 'scenario', 'requests', 'CPU µs/req', 'user / sys', 'per chunk', 'fake upstream µs/req', 'mean ms', 'p99 ms'],
    rows.map(([label, s]) => [
      label,
      s.id,
      String(s.requests),
      fmt(s.serverCpuUsPerRequest, 1),
      `${fmt(s.serverCpuUsPerRequest - s.serverSystemUsPerRequest, 0)} / ${fmt(s.serverSystemUsPerRequest, 0)}`,
      `${fmt(s.serverCpuUsRange[0], 0)}–${fmt(s.serverCpuUsRange[1], 0)}`,
      fmt(s.upstreamCpuUsPerRequest, 1),
      fmt(s.latency.meanMs, 3),
      fmt(s.latency.p99Ms, 3),
    ]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const ratio = bedrockRatio(publicApi, bedrock);
  const extra = bedrock.serverCpuUsPerRequest - publicApi.serverCpuUsPerRequest;
  return `${table}\nBedrock ÷ Anthropic API, TBO CPU per request: ${fmt(ratio.pooled, 2)} × (${extra >= 0 ? '+' : ''}${fmt(extra, 0)} µs), ${fmt(ratio.perRound[0], 2)}–${fmt(ratio.perRound[1], 2)} × per round`;
}

/** How the rows are measured, for the result's `method` notes. */
export const BEDROCK_METHOD =
  `one more TBO process (log info) routing ${PUBLIC_API_MODEL} to the Anthropic API and ${BEDROCK_MODEL} to Bedrock (TBO_BEDROCK_REGION=${BEDROCK_REGION}, ` +
  'cross-region profile us.anthropic.claude-sonnet-4-5-20250929-v1:0, TBO_BEDROCK_ENDPOINT on loopback, static credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); ' +
  `distinct streamed POST ${MESSAGES_PATH} requests (the chat rows' system prompt and user message, stream: true) that differ only in the model name; ` +
  'both answered by one fake process (bench/bedrock-upstream-server.ts): the Anthropic API as SSE, Bedrock as its binary event stream ' +
  '(the AWS SDK event-stream codec, @smithy/core/event-streams, one chunk event per Anthropic event, payload {"bytes": base64, "p": padding}, invocation metrics on message_stop) with the same events and text; ' +
  'the fake checks the SigV4 Authorization header\'s shape and scope but does not recompute the signature; plain HTTP on both (TLS is in neither row)';

/** The BENCHMARKS.md section (empty for runs made before these scenarios existed). */
export function bedrockMarkdown(scenarios: readonly ScenarioResult[], method: string | undefined): string[] {
  const table = renderBedrockCpu(scenarios);
  if (!table) return [];
  return [
    '## Claude on Bedrock next to the Anthropic API',
    '',
    `TBO's CPU time per streamed \`POST ${MESSAGES_PATH}\` cache miss answered through Amazon Bedrock (SigV4 signing, Bedrock's binary event stream`,
    'decoded and translated into the Anthropic SSE events) next to the same miss answered by the Anthropic API, in the same interleaved rounds,',
    'on the same TBO process.',
    '',
    '```',
    table,
    '```',
    '',
    ...(method ? [`Method: ${method}.`, ''] : []),
  ];
}
