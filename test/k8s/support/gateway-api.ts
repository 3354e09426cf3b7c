/**
 * Gateway API validation with @kubernetes-models/gateway-api (the same AJV-on-OpenAPI validation as
 * kubernetes-models, generated from the Gateway API CRDs). The package is ESM-only (no `require`
 * export), which jest's CommonJS runtime cannot load, so the models run in a child node process.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** Reads manifests as JSON on stdin, validates each with its model, writes the errors (null when valid). */
const SCRIPT = `
import { readFileSync } from 'node:fs';
const manifests = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const m of manifests) {
  try {
    const module = await import('@kubernetes-models/gateway-api/' + m.apiVersion + '/' + m.kind);
    new module[m.kind](m).validate();
    results.push(null);
  } catch (err) {
    results.push(String(err && err.message || err));
  }
}
process.stdout.write(JSON.stringify(results));
`;

/** The Gateway API kinds this project synthesizes, by apiVersion/kind. */
export const GATEWAY_API_KINDS = new Set(['gateway.networking.k8s.io/v1/HTTPRoute']);

/** Validates Gateway API manifests; one entry per manifest: the validation error, or null when valid. */
export function validateGatewayApi(manifests: readonly unknown[]): (string | null)[] {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: ROOT, input: JSON.stringify(manifests), encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new Error(`Gateway API validation did not run: ${run.error?.message ?? run.stderr}`);
  return JSON.parse(run.stdout) as (string | null)[];
}
