import { TboError } from '../../errors';
import type { Protocol } from '../../protocols/types';
import { STREAM_HEADERS, type Responder } from '../answer';

/**
 * Answers in a provider's own wire format (the Anthropic- and OpenAI-compatible endpoints): the
 * cache holds the provider's final response, replayed as JSON or as a stream the SDKs parse.
 */
export function compatResponder(protocol: Protocol, clientStreams: boolean, includeUsage: boolean): Responder {
  return {
    reportsBandwidth: false,
    cacheValue: (body) => body,
    upstreamHeaders: (live, facts) => live ?? (facts?.requestId ? { [protocol.requestIdHeader]: facts.requestId } : {}),

    write(answer, sink) {
      if (clientStreams) {
        sink.startStream({ ...STREAM_HEADERS, ...answer.headers });
        sink.write(protocol.synthesizeStream(answer.value, includeUsage));
        sink.end();
      } else {
        sink.json(200, answer.value, answer.headers);
      }
    },

    stream(flight, _protocol, sink, headers, finish) {
      sink.startStream({ ...STREAM_HEADERS, ...headers });
      return new Promise<void>((resolve) => {
        const unfollow = flight.follow({
          frame: (frame, optional) => {
            if (!optional || includeUsage) sink.write(frame.raw);
          },
          end: (err) => {
            if (err) sink.write(protocol.streamErrorFrame(err instanceof TboError ? err.kind : 'upstream_unavailable', err.message));
            sink.end();
            if (!err) void finish().catch(() => undefined);
            resolve();
          },
        });
        sink.onAbort(() => {
          unfollow();
          resolve();
        });
      });
    },
  };
}
