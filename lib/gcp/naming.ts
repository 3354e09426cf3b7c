import { hash } from 'node:crypto';
import { TerraformStack } from 'cdktf';
import type { IConstruct } from 'constructs';

/**
 * Longest `serviceName` this construct derives: the service account id `<serviceName>-run` must
 * fit Google's 30 characters, which is the tightest of the names built from it (Memorystore's
 * `<serviceName>-cache` ≤ 40, Cloud Run's ≤ 49, networks' ≤ 63, secret ids' ≤ 255).
 */
export const DERIVED_SERVICE_NAME_MAX_LENGTH = 26;

/** Hex digits of the construct-address hash at the end of a derived `serviceName`. */
const HASH_DIGITS = 6;

/**
 * The default `serviceName` of a {@link TboCloudRunService}: unique per construct in the app and
 * the same on every synth. It reads `<stack>-<path>-<hash>`: the stack id and the construct path
 * below it, lowercased to letters, digits and hyphens (shortened to fit), then 6 hex digits of
 * SHA-256 over the construct's address (`node.addr`), e.g. `tbo-gcp-tbo-1a2b3c` for the construct
 * `tbo` in the stack `tbo-gcp`. At most {@link DERIVED_SERVICE_NAME_MAX_LENGTH} characters, starting
 * with a letter, so every GCP name derived from it is valid without further props.
 */
export function defaultServiceName(construct: IConstruct): string {
  const stack = TerraformStack.of(construct);
  const scopes = construct.node.scopes;
  const ids = [stack.node.id, ...scopes.slice(scopes.indexOf(stack) + 1).map((c) => c.node.id)];
  let slug = ids.join('-').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(slug)) slug = slug === '' ? 'tbo' : `tbo-${slug}`;
  const digest = hash('sha256', construct.node.addr, 'hex').slice(0, HASH_DIGITS);
  const room = DERIVED_SERVICE_NAME_MAX_LENGTH - HASH_DIGITS - 1;
  return `${slug.slice(0, room).replace(/-+$/, '')}-${digest}`;
}
