import { TboError } from '../../service/src/errors';
import { PriorityLanes } from '../../service/src/optimizer/lanes';
import { FakeClock } from '../support/fake-clock';

function lanes(maxConcurrent: number, maxQueue = 10, maxWaitMs = 60_000) {
  const observed: number[] = [];
  const l = new PriorityLanes({ maxConcurrent, maxQueue, maxWaitMs }, new FakeClock(), (length) => observed.push(length));
  return { l, observed };
}

describe('PriorityLanes', () => {
  it('admits up to the limit at once and queues the rest in priority order (FIFO within a priority)', async () => {
    const { l, observed } = lanes(1);
    const first = await l.acquire(5);
    const order: string[] = [];
    const wait = (name: string, priority: number) =>
      l.acquire(priority).then((release) => {
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

  it('lets priority 1 bypass a full house', async () => {
    const { l } = lanes(1);
    await l.acquire(5);
    const urgent = await l.acquire(1);
    expect(l.inFlight).toBe(2);
    urgent();
    expect(l.inFlight).toBe(1);
  });

  it('turns requests away with 503 and Retry-After when the queue is full', async () => {
    const { l } = lanes(1, 2);
    await l.acquire(5);
    void l.acquire(5);
    void l.acquire(5);
    const err = await l.acquire(5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TboError);
    expect((err as TboError).status).toBe(503);
    expect((err as TboError).details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((err as TboError).message).toMatch(/queue is full/);
  });

  it('turns a request away after the longest wait, and drops it when its client leaves', async () => {
    jest.useFakeTimers();
    try {
      const { l } = lanes(1, 10, 5_000);
      await l.acquire(5);
      const timedOut = l.acquire(5).catch((e: unknown) => e);
      const controller = new AbortController();
      const abandoned = l.acquire(5, controller.signal).catch((e: unknown) => e);
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
