/**
 * Pieces every target's runbook shares: the known-good commit, and the facts about secrets and
 * the cache-signing key that decide whether a restored cache is worth anything.
 */
import type { RecoveryPhase, RunbookCommand, RunbookInput, RunbookStep } from './runbook-types';

/** The commit to go back to. */
export const GOOD_COMMIT: RunbookInput = {
  name: 'GOOD_COMMIT',
  meaning: 'the last commit deployed without trouble (your deploy log, a tag, or `git log`)',
};

/** Fetches and lists recent commits, then starts a branch at the known-good commit with its exact dependencies. */
export const CHECK_OUT_GOOD_COMMIT: readonly RunbookCommand[] = [
  { run: 'git fetch --tags origin' },
  { run: 'git log --oneline --decorate -n 20 origin/HEAD', note: 'pick the known-good commit' },
  { run: 'git switch -c "recovery-$GOOD_COMMIT" "$GOOD_COMMIT"', note: 'a branch, so a restore setting below is a commit too' },
  { run: 'npm ci', note: 'the exact dependencies of that commit' },
];

/** Reverts everything after the known-good commit (one revert commit per commit, newest first). */
export const REVERT_TO_GOOD_COMMIT: readonly RunbookCommand[] = [
  { run: 'git diff --stat "$GOOD_COMMIT" HEAD', note: 'what the rollback takes out' },
  { run: 'git revert --no-edit "$GOOD_COMMIT"..HEAD', note: 'one revert commit per commit, newest first; a merge in the range needs git revert -m 1 MERGE instead' },
  { run: 'npm ci' },
];

/** Why configuration needs no restore of its own. */
export const CONFIGURATION_IS_CODE =
  'Configuration is the synthesized code: the commit holds every setting, prop and secret reference, so there is nothing else to restore (no exported ConfigMap or parameter file).';

/** Recovery's first redeploy step where a Redis restore may follow as a commit (AWS, Kubernetes). */
export const CHECK_OUT_GOOD_COMMIT_STEP: RunbookStep<RecoveryPhase> = {
  phase: 'redeploy',
  title: 'Check out the known-good commit',
  why: `${CONFIGURATION_IS_CODE} Recovery deploys that commit, with the Redis restore below when Redis lost its data.`,
  inputs: [GOOD_COMMIT],
  commands: CHECK_OUT_GOOD_COMMIT,
};

/** Why a rollback reverts rather than checking the old commit out, and the one setting it must keep. */
export const REVERT_WHY =
  'Reverting, rather than deploying a detached old commit, keeps the rollback in history and the next deploy from bringing the bad change back. ' +
  'If a Redis restore setting was committed after the known-good commit, keep it (revert the other commits only): dropping it changes the Redis the stack creates.';

/** Why secrets must come back with the values they had. */
export const SAME_SECRET_VALUES =
  'Use the values the deployment had, from your own secret store: client JWTs are signed with `JWT_SECRET_KEY`, and every cache entry in Redis carries an HMAC under `TBO_CACHE_SIGNING_KEY` ' +
  '(or, unset, a key derived from the provider keys, the JWT key, the Redis password and the key prefix). A different key makes every restored cache entry a miss, deleted on first read and counted in ' +
  '`tbo_cache_rejected_total{reason="signature"}`; sessions and batch/response ownership records carry no HMAC and survive it.';

/** The HTTP check a client can make from wherever the public URL reaches. */
export function readyCheck(baseUrl: string): RunbookCommand {
  return { run: `curl -fsS ${baseUrl}/ready`, note: 'expect 200 and "cache": {…, "redis": "connected"}' };
}
