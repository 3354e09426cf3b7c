import type { Readable } from 'node:stream';

/** Largest upstream error body read (errors are short JSON messages; anything longer is cut). */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** An upstream error body as text, at most {@link MAX_ERROR_BODY_BYTES} of it (the rest is not read). */
export async function readErrorBody(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_ERROR_BODY_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
