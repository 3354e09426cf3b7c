/** One Server-Sent Events frame: its `event:` name (if any), its joined `data:` and its raw text. */
export interface SseFrame {
  readonly event: string | undefined;
  readonly data: string;
  /** The frame as it should be re-sent, terminated by a blank line. */
  readonly raw: string;
}

/** Incremental SSE parser: feed it bytes as they arrive, get whole frames back. */
export class SseParser {
  private pending = '';
  private readonly decoder = new TextDecoder();

  push(chunk: Uint8Array): SseFrame[] {
    this.pending += this.decoder.decode(chunk, { stream: true });
    const frames: SseFrame[] = [];
    for (;;) {
      const match = /\r?\n\r?\n/.exec(this.pending);
      if (!match) break;
      const block = this.pending.slice(0, match.index);
      this.pending = this.pending.slice(match.index + match[0].length);
      const frame = parseBlock(block);
      if (frame) frames.push(frame);
    }
    return frames;
  }
}

function parseBlock(block: string): SseFrame | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith('data:')) data.push(line.slice(line.charAt(5) === ' ' ? 6 : 5));
    else if (line.startsWith('event:')) event = line.slice(6).trim();
  }
  if (event === undefined && data.length === 0) return undefined; // comment or keep-alive
  return { event, data: data.join('\n'), raw: `${block}\n\n` };
}

/** Formats one frame; `event` is omitted for data-only streams (OpenAI). */
export function sseFrame(data: unknown, event?: string): string {
  const json = typeof data === 'string' ? data : JSON.stringify(data);
  return event ? `event: ${event}\ndata: ${json}\n\n` : `data: ${json}\n\n`;
}
