/**
 * The questions people ask in the replay: shared scripts (a team's common flows: several people
 * ask the same questions in the same order), near-identical rewordings of them, and questions
 * nobody else asks.
 */

/** Shared scripts: every session following one asks exactly these, in order. */
export const SCRIPTS: Readonly<Record<string, readonly string[]>> = {
  onboarding: [
    'How do I run the service locally?',
    'Which environment variables do I need to set for the Anthropic upstream?',
    'How do I point the OpenAI SDK at the gateway?',
    'What does the x-tbo-cache header tell me?',
    'How do I turn off caching for one request?',
    'Where do I find the Prometheus metrics?',
    'Which alerts should I expect in the first week?',
    'Give me a checklist for my first deploy.',
  ],
  incident: [
    'The p95 latency alert fired. What should I check first?',
    'How do I tell if a circuit breaker is open?',
    'What does a 529 from the upstream mean?',
    'How many retries does the gateway make, and with what backoff?',
    'How do I see the queue length per instance?',
    'Write a short status update for the incident channel.',
    'Which dashboard panel shows the retry rate?',
    'Draft the timeline for the post-incident review.',
  ],
  review: [
    'Summarise the change that adds request coalescing.',
    'What could go wrong when two identical streams are coalesced?',
    'Does the cache key include the system prompt?',
    'Suggest a test for a client that disconnects during a coalesced stream.',
    'Is the Redis fallback safe when Redis restarts?',
    'Draft the review comment in three bullet points.',
    'Which metrics would show a regression after merge?',
    'Write the changelog entry.',
  ],
  /** Burst scripts: a team all clicks the same suggested prompt at the same moment. */
  standup: [
    'Summarise yesterday\'s deploys for the standup.',
    'Which of them touched the cache layer?',
    'List open incidents older than a day.',
    'Who is on call this week?',
    'What is blocked on review?',
    'Which pull requests need a second reviewer?',
    'What changed in the error budget since Monday?',
    'Draft the standup notes.',
  ],
  release: [
    'What is in today\'s release?',
    'Which changes need a config update?',
    'Are there database migrations in this release?',
    'What is the rollback plan?',
    'Which alerts should we watch during the rollout?',
    'How long should the canary run?',
    'Who approves the production step?',
    'Draft the release announcement.',
  ],
};

/** Rewordings a person makes without meaning anything different; none of them is an exact repeat. */
export const NEAR_IDENTICAL: readonly { readonly name: string; readonly apply: (q: string) => string }[] = [
  { name: 'lower-case, no question mark', apply: (q) => q.charAt(0).toLowerCase() + q.slice(1).replace(/\?$/, '') },
  { name: 'trailing space', apply: (q) => `${q} ` },
  { name: '"please" added', apply: (q) => `${q.replace(/[.?]$/, '')}, please${q.endsWith('?') ? '?' : '.'}` },
];

/**
 * One subject per unique session: the first ten are the measured window's, the next ten the previous
 * window's (the cold vs warm measurement), so no unique question is asked in both.
 */
const SUBJECTS = [
  'billing-api', 'search-indexer', 'auth-proxy', 'report-worker', 'media-transcoder', 'ledger-sync', 'notify-fanout', 'geo-lookup', 'invoice-renderer', 'audit-exporter',
  'payment-gateway', 'image-resizer', 'session-store', 'feature-flags', 'email-sender', 'rate-limiter', 'log-shipper', 'pdf-exporter', 'user-directory', 'webhook-relay',
];

/** Questions only one session asks (about its own service); `index` picks the subject, wrapping past the last. */
export function uniqueScript(index: number): string[] {
  const s = SUBJECTS[index % SUBJECTS.length];
  return [
    `Why does ${s} time out under load?`,
    `Show me how to add a retry to the ${s} client.`,
    `What metrics should ${s} export?`,
    `Write a runbook entry for ${s} restarts.`,
    `How do I load-test ${s} on my laptop?`,
    `Summarise what we changed in ${s} today.`,
    `Which dashboards cover ${s}?`,
    `Draft a post about the ${s} changes for the team channel.`,
  ];
}
