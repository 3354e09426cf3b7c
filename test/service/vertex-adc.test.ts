/**
 * The Vertex backends' Google identity (`adcAuth`): Application Default Credentials through
 * google-auth-library against a fake GCE metadata server. Each test loads the library afresh
 * (jest.isolateModules), because it and gcp-metadata keep what they detected for the life of the
 * process, which is part of what is tested here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Adc from '../../service/src/adapters/upstream/google-adc';
import { startFakeMetadata, type FakeMetadata } from '../support/fake-gce-metadata';
import { freePort } from '../support/ports';

const ADC_ENV = ['GCE_METADATA_HOST', 'GCE_METADATA_IP', 'METADATA_SERVER_DETECTION', 'GOOGLE_APPLICATION_CREDENTIALS', 'GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT', 'GOOGLE_CLOUD_QUOTA_PROJECT', 'CLOUDSDK_CONFIG', 'K_SERVICE', 'CLOUD_RUN_JOB', 'FUNCTION_NAME'] as const;

let metadata: FakeMetadata;
let dir: string;
const saved: Partial<Record<string, string>> = {};

/** google-adc.ts with its own copy of google-auth-library, gcp-metadata and gaxios. */
function freshAdc(): typeof Adc {
  let adc: typeof Adc | undefined;
  jest.isolateModules(() => {
    // A fresh module registry is only reachable through require() (import() needs jest's ESM mode).
    /* eslint-disable @typescript-eslint/no-require-imports */
    adc = require('../../service/src/adapters/upstream/google-adc') as typeof Adc;
    // gaxios loads node-fetch with import(), which jest's sandbox cannot run: use node's fetch here.
    const library = require('../../service/node_modules/google-auth-library') as typeof import('../../service/node_modules/google-auth-library');
    /* eslint-enable @typescript-eslint/no-require-imports */
    library.gaxios.instance.defaults.fetchImplementation = fetch;
  });
  return adc!;
}

beforeAll(async () => {
  for (const name of ADC_ENV) {
    saved[name] = process.env[name];
    delete process.env[name];
  }
  dir = mkdtempSync(join(tmpdir(), 'tbo-adc-'));
  process.env.CLOUDSDK_CONFIG = join(dir, 'gcloud'); // no gcloud ADC file
  metadata = await startFakeMetadata({ project: 'adc-metadata-project' });
});

afterAll(async () => {
  await metadata.close();
  rmSync(dir, { recursive: true, force: true });
  for (const name of ADC_ENV) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

beforeEach(() => {
  metadata.reset();
  metadata.setTokenLifetime(3600);
  process.env.GCE_METADATA_HOST = metadata.host;
  delete process.env.GOOGLE_CLOUD_PROJECT;
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
});

it('gets tokens from the metadata server, one fetch for concurrent callers, and the project with them', async () => {
  const auth = freshAdc().adcAuth();
  const tokens = await Promise.all(Array.from({ length: 5 }, () => auth.token()));
  expect(new Set(tokens).size).toBe(1);
  expect(metadata.isValid(tokens[0])).toBe(true);
  expect(metadata.tokensIssued).toBe(1);
  expect(metadata.tokenRequests[0].scopes).toBe('https://www.googleapis.com/auth/cloud-platform');
  expect(await auth.project()).toBe('adc-metadata-project');
  expect(await auth.principal?.()).toBe(metadata.serviceAccount);
  expect(metadata.refused).toBe(0); // every request carried Metadata-Flavor: Google
});

it('takes the project from TBO_VERTEX_PROJECT, then GOOGLE_CLOUD_PROJECT, then the credentials file, before the metadata server', async () => {
  const { adcAuth } = freshAdc();
  expect(await adcAuth('configured-project').project()).toBe('configured-project');
  process.env.GOOGLE_CLOUD_PROJECT = 'env-project';
  expect(await adcAuth().project()).toBe('env-project');
  delete process.env.GOOGLE_CLOUD_PROJECT;
  const keyFile = join(dir, 'key.json');
  writeFileSync(keyFile, JSON.stringify({ type: 'service_account', project_id: 'key-file-project', client_email: 'sa@key-file-project.iam.gserviceaccount.com' }));
  process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile;
  expect(await adcAuth().project()).toBe('key-file-project');
  expect(metadata.paths).not.toContain('/computeMetadata/v1/project/project-id');
});

it('recovers when the metadata server was unreachable at the first call', async () => {
  const auth = freshAdc().adcAuth('adc-configured');
  process.env.GCE_METADATA_HOST = `127.0.0.1:${await freePort()}`;
  await expect(auth.token()).rejects.toThrow(/Application Default Credentials found no usable credentials.*metadata server/);
  // The library (and gcp-metadata) would keep "not on GCP" for good; adcAuth starts over.
  process.env.GCE_METADATA_HOST = metadata.host;
  const token = await auth.token();
  expect(metadata.isValid(token)).toBe(true);
});

it('does not keep a failed project look-up', async () => {
  const auth = freshAdc().adcAuth();
  process.env.GCE_METADATA_HOST = `127.0.0.1:${await freePort()}`;
  await expect(auth.project()).rejects.toThrow(/no Google Cloud project.*ECONNREFUSED.*TBO_VERTEX_PROJECT/);
  process.env.GCE_METADATA_HOST = metadata.host;
  expect(await auth.project()).toBe('adc-metadata-project');
});

it('refreshes a token that is about to expire and never returns an expired one', async () => {
  const auth = freshAdc().adcAuth('adc-configured');
  metadata.setTokenLifetime(302); // inside the library's 5-minute refresh margin after ~2 s
  const first = await auth.token();
  expect(await auth.token()).toBe(first);
  const expiry = metadata.expiryOf(first) ?? 0;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiry - 300_000 - Date.now()) + 50));
  const second = await auth.token();
  expect(second).not.toBe(first);
  expect(metadata.tokensIssued).toBe(2);


  metadata.setTokenLifetime(1); // a token issued with a second left is refused, not sent
  await expect(freshAdc().adcAuth('adc-configured').token()).rejects.toThrow(/issued an access token that expires in \d+ s/);
});
