/**
 * The built service (`node service/dist/main.js`, what the image runs) on Vertex AI routes: the
 * bundled google-auth-library (with its bundled node-fetch, which jest's sandbox cannot load, so
 * vertex.test.ts swaps it for node's fetch) gets tokens from the metadata server and the official
 * SDKs get their answers.
 */
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startFakeMetadata, type FakeMetadata } from '../support/fake-gce-metadata';
import { startFakeVertex, type FakeVertex } from '../support/fake-vertex';
import { spawnTbo, type TboProcess } from '../support/tbo';

let metadata: FakeMetadata;
let vertex: FakeVertex;
let tbo: TboProcess;
let gcloudConfig: string;

beforeAll(async () => {
  gcloudConfig = mkdtempSync(join(tmpdir(), 'tbo-gcloud-'));
  metadata = await startFakeMetadata({ project: 'tbo-dist-project' });
  vertex = await startFakeVertex({ project: metadata.project, location: 'global', isValidToken: (t) => metadata.isValid(t) });
  // The child gets only these variables (and PATH): no credentials file, an empty gcloud config.
  tbo = await spawnTbo({
    TBO_HOST: '127.0.0.1',
    TBO_LOG_LEVEL: 'silent',
    TBO_CONFIG_FILE: '',
    TBO_MAX_RETRIES: '0',
    TBO_VERTEX_ENDPOINT: vertex.url,
    TBO_MODELS_FAST: 'vertex-openai:gemini-2.5-flash',
    TBO_MODELS_BALANCED: 'vertex:claude-sonnet-4-5',
    TBO_MODELS_STRONGEST: 'vertex:claude-opus-4-1',
    GCE_METADATA_HOST: metadata.host,
    CLOUDSDK_CONFIG: gcloudConfig,
  });
});

afterAll(async () => {
  await tbo?.stop();
  await Promise.all([metadata?.close(), vertex?.close()]);
  rmSync(gcloudConfig, { recursive: true, force: true });
});

it('answers Claude and Gemini with tokens from the metadata server, in the global location', async () => {
  const claude = await new Anthropic({ apiKey: 'unused', baseURL: tbo.url, maxRetries: 0 }).messages
    .create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'built service' }] })
    .withResponse();
  expect(claude.data.content).toEqual([{ type: 'text', text: 'echo: built service' }]);
  expect(claude.response.headers.get('x-tbo-backend')).toBe('vertex');

  const stream = await new OpenAI({ apiKey: 'unused', baseURL: `${tbo.url}/v1`, maxRetries: 0 }).chat.completions.create({
    model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'built gemini' }], stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  expect(text).toBe('echo: built gemini');

  expect(vertex.requests.map((r) => r.path)).toEqual([
    '/v1/projects/tbo-dist-project/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict',
    '/v1/projects/tbo-dist-project/locations/global/endpoints/openapi/chat/completions',
  ]);
  expect(vertex.unauthenticated).toBe(0);
  expect(metadata.tokensIssued).toBe(1);
  expect(metadata.refused).toBe(0);
});
