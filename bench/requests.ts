/** Realistic small OpenAI chat-completions request bodies; distinct ones carry a counter. */
import { randomBytes } from 'node:crypto';

export const CHAT_PATH = '/v1/chat/completions';

const SYSTEM = 'You are a concise assistant inside a project-management tool. Answer in plain English, in at most three sentences, and never invent ticket numbers.';

/** The model every bench request names unless told otherwise: one of TBO's default routing-tier models. */
export const BENCH_MODEL = 'gpt-4o-mini';

export function chatBody(userText: string, model = BENCH_MODEL): string {
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: userText },
    ],
    temperature: 0.2,
    max_tokens: 256,
  });
}

/** ~150 characters: the fake upstream answers `echo: <this>`, so answers are ~0.5 KB of JSON. */
export function smallPrompt(tag: string): string {
  return `Ticket ${tag}: the deploy pipeline failed at the integration stage right after the dependency upgrade. What is the likely cause and the next step?`;
}

const FILLER =
  'The integration stage runs the contract tests against the staging cluster, then the smoke tests against the canary. ' +
  'After the upgrade the contract tests time out on the payments service while every other service passes, ' +
  'and the canary never receives traffic because the stage aborts first. ';

/** ~1000 characters, so the cached answer (`echo: <this>` in a chat.completion) is ~1.2 KB. */
export function longPrompt(tag: string): string {
  return `Ticket ${tag}: ${FILLER.repeat(4)}`.slice(0, 1000);
}

/** Unique tags for one benchmark run: a random run id and a fixed-width counter. */
export class Tags {
  private readonly run = randomBytes(4).toString('hex');
  private n = 0;

  next(): string {
    return `${this.run}-${String(this.n++).padStart(9, '0')}`;
  }
}
