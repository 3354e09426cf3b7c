import { TboError } from '../../errors';
import { sseFrame } from '../../protocols/sse';
import type { Protocol, Provider } from '../../protocols/types';
import { delayLoss } from '../bandwidth';
import { STREAM_HEADERS, type Answer, type Responder } from '../answer';

/** What the cache holds for a TBO-native answer. */
interface NativeValue {
  readonly content: string;
  readonly model: string;
  readonly provider: Provider;
  readonly usage: { readonly input_tokens: number; readonly output_tokens: number };
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The `/v1/collaborate` response body. */
export function nativeBody(answer: Answer): Record<string, unknown> {
  const value = JSON.parse(answer.value) as NativeValue;
  const b = answer.bandwidth;
  return {
    content: value.content,
    model: value.model,
    provider: value.provider,
    response_time: round(answer.responseTime),
    cache_hit: answer.cache === 'hit',
    optimization_applied: answer.applied,
    bandwidth_metrics: {
      turns_per_second: round(b?.turnsPerSecond ?? 0),
      efficiency_ratio: round(b?.efficiencyRatio ?? 1),
      bandwidth_degradation: round(b?.degradation ?? 0),
      predicted_degradation: round(b ? delayLoss(answer.predictedLatency(), b.secondsPerTurn) : 0),
      seconds_per_turn: round(b?.secondsPerTurn ?? 0),
      turns: b?.turns ?? 0,
    },
    routing_decision: { model: value.model, reason: answer.route.reason, predicted_latency: round(answer.predictedLatency()) },
    usage: { ...value.usage, cost_usd: answer.cost === undefined ? null : round(answer.cost, 8) },
  };
}

/** Answers in TBO's own shape, whichever provider served the request. */
export function nativeResponder(clientStreams: boolean): Responder {
  return {
    reportsBandwidth: true,
    // TBO's own API: its clients are not a provider's SDK; which model answered is in the body.
    upstreamHeaders: () => ({}),
    cacheValue(body: string, protocol: Protocol) {
      const parsed = JSON.parse(body) as Record<string, unknown>;
      const usage = protocol.usage(parsed);
      const value: NativeValue = {
        content: protocol.text(parsed),
        model: typeof parsed.model === 'string' ? parsed.model : '',
        provider: protocol.provider,
        usage: { input_tokens: usage?.input ?? 0, output_tokens: usage?.output ?? 0 },
      };
      return JSON.stringify(value);
    },

    write(answer, sink) {
      const body = nativeBody(answer);
      if (!clientStreams) return sink.json(200, JSON.stringify(body), answer.headers);
      sink.startStream({ ...STREAM_HEADERS, ...answer.headers });
      sink.write(sseFrame({ text: body.content }, 'content_delta'));
      sink.write(sseFrame(body, 'message_complete'));
      sink.end();
    },

    stream(flight, protocol, sink, headers, finish) {
      sink.startStream({ ...STREAM_HEADERS, ...headers });
      return new Promise<void>((resolve) => {
        const unfollow = flight.follow({
          frame: (frame) => {
            const text = protocol.textDelta(frame);
            if (text) sink.write(sseFrame({ text }, 'content_delta'));
          },
          end: (err) => {
            const done = (tail: string) => {
              sink.write(tail);
              sink.end();
              resolve();
            };
            if (err) return done(sseFrame({ error: { type: err instanceof TboError ? err.kind : 'upstream_unavailable', message: err.message } }, 'error'));
            finish().then(
              (answer) => done(sseFrame(nativeBody(answer), 'message_complete')),
              (e: Error) => done(sseFrame({ error: { type: 'internal', message: e.message } }, 'error')),
            );
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
