import type { Request, Response } from 'express';
import { z } from 'zod';
import { nativeResponder } from '../optimizer/responders/native';
import { cacheModeOf, cachePolicyOf, effectivePriority, SESSION_ID } from './call-context';
import { parseJsonBody } from './json-body';
import { sinkFor, type RouteDeps } from './proxy-route';

const schema = z.object({
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string().min(1) })).min(1),
  context: z.object({
    session_id: z.string().regex(SESSION_ID, 'must be 1-128 characters of A-Z a-z 0-9 . _ : @ -'),
    user_id: z.string().max(128).optional(),
    task_type: z.string().min(1).max(64).default('general'),
    complexity: z.number().int().min(1).max(5).default(1),
    priority: z.number().int().min(1).max(10).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
  model: z.string().min(1).max(256).default('auto'),
  max_tokens: z.number().int().min(1).max(200_000).default(1000),
  temperature: z.number().min(0).max(1).optional(),
  stream: z.boolean().default(false),
});

/** `POST /v1/collaborate`: the TBO-native API, routed across providers by task complexity. */
export function collaborateRoute(deps: RouteDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    res.locals.route = '/v1/collaborate';
    const tenant = deps.tenantOf(res);
    const input = parseJsonBody(req.body, schema).data;
    const { context } = input;
    const route = deps.router.route(input.model, context.complexity);
    await deps.gateway.handle(
      {
        endpoint: '/v1/collaborate',
        keyBody: { messages: input.messages, model: input.model, max_tokens: input.max_tokens, temperature: input.temperature },
        keyHeaders: {},
        route,
        stream: input.stream,
        priority: effectivePriority(context.priority, deps.priorityCeiling(tenant)),
        tenant,
        sessionId: context.session_id,
        cacheMode: cacheModeOf(req),
        // Without a temperature the provider samples at its default (1).
        sampled: input.temperature === undefined || input.temperature > 0,
        cachePolicy: cachePolicyOf(req),
        clientHeaders: {},
        receivedAt: res.locals.receivedAt as number,
        receivedWall: deps.clock.wall(),
        body: (target, protocol) => JSON.stringify(protocol.buildRequest({ model: target.model, maxTokens: input.max_tokens, messages: input.messages, stream: input.stream, temperature: input.temperature })),
        responder: nativeResponder(input.stream),
      },
      sinkFor(res),
    );
  };
}
