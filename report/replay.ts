/**
 * Replays the workload against one target: every session is a person who asks, waits for the
 * answer, thinks, and asks the next question with the conversation so far. After an error the
 * person pauses and asks again (up to MAX_ATTEMPTS); a question that never gets an answer is left
 * out of the conversation.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_ATTEMPTS } from './scenario';
import type { ChatMessage, Reply, Target, TboBandwidth } from './targets';
import type { SessionKind, SessionPlan } from './workload';

export interface TurnRecord {
  readonly session: string;
  readonly kind: SessionKind;
  /** 1-based. */
  readonly turn: number;
  readonly ok: boolean;
  readonly attempts: number;
  /** Statuses of the failed attempts (0: no HTTP answer). */
  readonly errors: readonly number[];
  /** Epoch ms: the first attempt was sent. */
  readonly askedAt: number;
  /** Epoch ms: the attempt that got the answer was sent (bandwidth turn start, as TBO records it). */
  readonly sentAt: number;
  /** Epoch ms: the answer arrived. */
  readonly answeredAt: number;
  /** Turn latency: first attempt sent → answer (or last failure) received, ms (monotonic clock). */
  readonly latencyMs: number;
  readonly cache?: string;
  readonly usage?: { readonly input: number; readonly output: number };
  readonly costUsd?: number | null;
  readonly tboBandwidth?: TboBandwidth;
  readonly applied?: readonly string[];
}

async function runSession(plan: SessionPlan, target: Target, startWall: number, onTurn: (t: TurnRecord) => void): Promise<TurnRecord[]> {
  const records: TurnRecord[] = [];
  const history: ChatMessage[] = [];
  await sleep(Math.max(0, startWall + plan.startMs - Date.now()));
  for (const [i, question] of plan.questions.entries()) {
    if (i > 0) await sleep(plan.thinkMs[i - 1]);
    const messages: ChatMessage[] = [...history, { role: 'user', content: question }];
    const askedAt = Date.now();
    const began = performance.now();
    const errors: number[] = [];
    let reply: Reply | undefined;
    let sentAt = askedAt;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (attempt > 1) await sleep(plan.retryPauseMs);
      sentAt = Date.now();
      reply = await target.send(plan.id, messages);
      if (reply.ok) break;
      errors.push(reply.status);
    }
    const latencyMs = performance.now() - began;
    const ok = reply?.ok === true;
    const record: TurnRecord = {
      session: plan.id,
      kind: plan.kind,
      turn: i + 1,
      ok,
      attempts: errors.length + (ok ? 1 : 0),
      errors,
      askedAt,
      sentAt,
      answeredAt: Date.now(),
      latencyMs,
      cache: reply?.cache,
      usage: reply?.usage,
      costUsd: reply?.costUsd,
      tboBandwidth: reply?.bandwidth,
      applied: reply?.applied,
    };
    records.push(record);
    onTurn(record);
    if (ok && reply?.content !== undefined) history.push({ role: 'user', content: question }, { role: 'assistant', content: reply.content });
  }
  return records;
}

/** Runs every session concurrently, each starting at its offset from `startWall` (epoch ms). */
export async function replay(plans: readonly SessionPlan[], target: Target, startWall: number, onTurn: (t: TurnRecord) => void = () => undefined): Promise<TurnRecord[]> {
  const all = await Promise.all(plans.map((p) => runSession(p, target, startWall, onTurn)));
  return all.flat();
}
