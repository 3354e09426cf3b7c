import { TboError } from '../../service/src/errors';
import { PriorityLanes } from '../../service/src/optimizer/lanes';
import { FakeClock } from '../support/fake-clock';

function lanes(maxConcurrent: number, maxQueue = 10, maxWaitMs = 60_000, perTenant: { concurrent?: number; queue?: number } = {}) {
  const observed: number[] = [];
  const options = { maxConcurrent, maxQueue, maxWaitMs, maxConcurrentPerTenant: perTenant.concurrent ?? maxConcurrent, maxQueuePerTenant: perTenant.queue ?? maxQueue };
  const l = new PriorityLanes(options, new FakeClock(), (length) => observed.push(length));
  return { l, observed };
}

/**
 * A waiter a test leaves in the queue: its queue timeout rejects it long after the test ended, so the
 * rejection is handled here (an unhandled one would fail whichever suite runs in this worker then).
 */
function parked(waiting: Promise<unknown>): void {
  waiting.catch(() => undefined);
}

describe('PriorityLanes', () => {
  it('admits up to the limit at once and queues the rest in priority order (FIFO within a priority)', async () => {
    const { l, observed } = lanes(1);
    const first = await l.acquire(5, 't');
    const order: string[] = [];
    const wait = (name: string, priority: number) =>
      l.acquire(priority, 't').then((release) => {
        order.push(name);
        release();
      });
    const waiting = [wait('p7', 7), wait('p5a', 5), wait('p3', 3), wait('p5b', 5), wait('p10', 10)];
    expect(l.queued).toBe(5);
    expect(observed.at(-1)).toBe(5);
    expect(order).toEqual([]);
    first();
    await Promise.all(waiting);
    expect(order).toEqual(['p3', 'p5a', 'p5b', 'p7', 'p10']);
    expect(l.inFlight).toBe(0);
  });

  it('never lets anyone past the limit: priority 1 is only first in the queue', async () => {
    const { l } = lanes(1);
    const first = await l.acquire(5, 't');
    let urgentAdmitted = false;
    const urgent = l.acquire(1, 't').then((release) => {
      urgentAdmitted = true;
      return release;
    });
    parked(l.acquire(2, 't'));
    await Promise.resolve();
    expect(urgentAdmitted).toBe(false);
    expect(l.inFlight).toBe(1);
    first();
    (await urgent)();
    expect(urgentAdmitted).toBe(true);
  });

  it('caps each tenant\'s slots and serves other tenants past a tenant at its cap', async () => {
    const { l } = lanes(4, 10, 60_000, { concurrent: 2 });
    const a1 = await l.acquire(5, 'a');
    await l.acquire(5, 'a');
    const order: string[] = [];
    const wait = (name: string, tenant: string) => l.acquire(5, tenant).then((release) => (order.push(name), release));
    const a3 = wait('a3', 'a'); // a is at its cap: waits although slots are free
    const b1 = await wait('b1', 'b');
    expect(order).toEqual(['b1']);
    expect(l.inFlight).toBe(3);
    a1();
    await a3;
    expect(order).toEqual(['b1', 'a3']);
    b1();
  });

  it('turns a tenant away when its share of the queue is full, while others may still queue', async () => {
    const { l } = lanes(1, 10, 60_000, { queue: 2 });
    await l.acquire(5, 'a');
    parked(l.acquire(5, 'a'));
    parked(l.acquire(5, 'a'));
    const err = await l.acquire(5, 'a').catch((e: unknown) => e);
    expect((err as TboError).message).toMatch(/this tenant's share of the request queue is full/);
    parked(l.acquire(5, 'b'));
    expect(l.queued).toBe(3);
  });

  it('turns requests away with 503 and Retry-After when the queue is full', async () => {
    const { l } = lanes(1, 2);
    await l.acquire(5, 't');
    parked(l.acquire(5, 't'));
    parked(l.acquire(5, 't'));
    const err = await l.acquire(5, 't').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TboError);
    expect((err as TboError).status).toBe(503);
    expect((err as TboError).details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((err as TboError).message).toMatch(/queue is full/);
  });

  it('turns a request away after the longest wait, and drops it when its client leaves', async () => {
    jest.useFakeTimers();
    try {
      const { l } = lanes(1, 10, 5_000);
      await l.acquire(5, 't');
      const timedOut = l.acquire(5, 't').catch((e: unknown) => e);
      const controller = new AbortController();
      const abandoned = l.acquire(5, 't', controller.signal).catch((e: unknown) => e);
      controller.abort();
      expect(await abandoned).toBeInstanceOf(TboError);
      expect(l.queued).toBe(1);
      jest.advanceTimersByTime(5_000);
      expect(((await timedOut) as TboError).message).toMatch(/waited 5 s/);
      expect(l.queued).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
