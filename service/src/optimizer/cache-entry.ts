import { BACKENDS, type Backend } from '../config/backends';
import type { Provider } from '../protocols/types';
import type { AnswerFacts } from './answer';

const CLEAN = /[\t\n]/g;

/**
 * A cache entry: one header line with the answer's provider, model, tokens, upstream request id, backend and backend model id (so a hit is
 * accounted without parsing the answer), then the answer as the endpoint's responder stores it.
 */
export function encodeEntry(facts: AnswerFacts | undefined, value: string): string {
  if (!facts) return `\t\t\t\t\n${value}`;
  const requestId = (facts.requestId ?? '').replace(CLEAN, ' ');
  return `${facts.provider}\t${facts.model.replace(CLEAN, ' ')}\t${facts.usage?.input ?? ''}\t${facts.usage?.output ?? ''}\t${requestId}\t${facts.backend ?? ''}\t${(facts.backendModel ?? '').replace(CLEAN, ' ')}\n${value}`;
}

export function decodeEntry(entry: string): { readonly facts: AnswerFacts | undefined; readonly value: string } {
  const newline = entry.indexOf('\n');
  if (newline === -1) return { facts: undefined, value: entry };
  const [provider, model, input, output, requestId, backend, backendModel] = entry.slice(0, newline).split('\t');
  const value = entry.slice(newline + 1);
  if (provider !== 'anthropic' && provider !== 'openai') return { facts: undefined, value };
  const usage = input !== '' && output !== '' ? { input: Number(input), output: Number(output) } : undefined;
  return {
    facts: {
      provider: provider as Provider, model, usage, ...(requestId ? { requestId } : {}),
      ...((BACKENDS as readonly string[]).includes(backend ?? '') ? { backend: backend as Backend } : {}), ...(backendModel ? { backendModel } : {}),
    },
    value,
  };
}
