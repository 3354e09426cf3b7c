/** What the topology tests read off their instances and nginx's access log. */
import type { TboProcess } from '../support/tbo';
import type { AccessLogLine } from './nginx';

/** The public port of an instance. */
export function portOf(proc: TboProcess): number {
  return Number(new URL(proc.url).port);
}

/** Index of the instance that finally served a logged request, -1 when none did. */
export function servedBy(line: AccessLogLine, instances: readonly TboProcess[]): number {
  const last = line.upstream.split(', ').at(-1) ?? '';
  return instances.findIndex((proc) => `127.0.0.1:${portOf(proc)}` === last);
}

/** Text of an Anthropic SSE body, and whether it ended with message_stop. */
export function streamText(body: string): { readonly text: string; readonly complete: boolean } {
  let text = '';
  for (const line of body.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const data = JSON.parse(line.slice(6)) as { type?: string; delta?: { text?: string } };
    if (data.type === 'content_block_delta') text += data.delta?.text ?? '';
  }
  return { text, complete: body.includes('event: message_stop') };
}
