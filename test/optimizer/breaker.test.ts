import { CircuitBreaker, type BreakerOptions } from '../../service/src/optimizer/breaker';
import { FakeClock } from '../support/fake-clock';

const options: BreakerOptions = { ttftThresholdMs: 2000, maxErrorRate: 0.1, windowSize: 20, cooldownMs: 30_000, probesToClose: 3 };

function breaker() {
  const clock = new FakeClock();
  const changes: string[] = [];
  const b = new CircuitBreaker('anthropic:m', options, clock, (x) => changes.push(x.state));
  return { b, clock, changes };
}

describe('CircuitBreaker', () => {
  it('judges only a full window of at least 20 calls', () => {
    const { b } = breaker();
    for (let i = 0; i < 19; i++) b.record(false, 'a', 10);
    expect(b.state).toBe('closed');
    b.record(false, 'a', 10);
    expect(b.state).toBe('open');
    expect(b.reason).toMatch(/error rate 100\.0 % over the last 20 calls/);
  });

  it('opens when the error rate exceeds 10 %, not at exactly 10 %', () => {
    const { b } = breaker();
    for (let i = 0; i < 18; i++) b.record(true, 'a', 100);
    b.record(false, 'a', 100);
    b.record(false, 'a', 100); // 2 / 20 = 10 %: not above
    expect(b.state).toBe('closed');
    b.record(false, 'a', 100); // window slides: 3 / 20 = 15 %
    expect(b.state).toBe('open');
  });

  it('opens when p95 time-to-first-token reaches the 2.0 s threshold (≥), not just below it', () => {
    const below = breaker();
    for (let i = 0; i < 20; i++) below.b.record(true, 'a', 1999);
    expect(below.b.state).toBe('closed');
    const at = breaker();
    for (let i = 0; i < 19; i++) at.b.record(true, 'a', 100);
    at.b.record(true, 'a', 2000); // p95 of 20 samples is the 19th smallest: still 100
    expect(at.b.state).toBe('closed');
    at.b.record(true, 'a', 2000); // now two slow calls: the 19th smallest is 2000
    expect(at.b.state).toBe('open');
    expect(at.b.reason).toMatch(/p95 time to first token 2\.00 s/);
  });

  it('is never opened by slow non-streamed answers: they say nothing about time to first token', () => {
    const { b } = breaker();
    for (let i = 0; i < 40; i++) b.record(true, 'a');
    expect(b.state).toBe('closed');
    expect(b.stats()).toMatchObject({ calls: 20, errorRate: 0, p95TtftMs: 0 });
  });

  it('rejects while open, lets one probe through after the cool-down, closes after 3 good probes', () => {
    const { b, clock, changes } = breaker();
    for (let i = 0; i < 20; i++) b.record(false, 'a', 10);
    expect(b.allow('a')).toBe(false);
    clock.advance(29_999);
    expect(b.allow('a')).toBe(false);
    clock.advance(1);
    expect(b.state).toBe('half_open');
    expect(b.allow('a')).toBe(true);
    expect(b.allow('a')).toBe(false); // one probe at a time
    b.record(true, 'a', 50);
    expect(b.allow('a')).toBe(true);
    b.record(true, 'a', 50);
    expect(b.allow('a')).toBe(true);
    b.record(true, 'a', 50);
    expect(b.state).toBe('closed');
    expect(b.stats().calls).toBe(0); // a fresh window after recovery
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  it('goes back to open when a half-open probe fails, and restarts the cool-down', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 20; i++) b.record(false, 'a', 10);
    clock.advance(30_000);
    expect(b.allow('a')).toBe(true);
    b.record(false, 'a', 10);
    expect(b.state).toBe('open');
    clock.advance(29_000);
    expect(b.state).toBe('open');
    clock.advance(1_000);
    expect(b.state).toBe('half_open');
  });

  it('is not opened by one tenant\'s failures while another tenant\'s calls succeed', () => {
    const { b } = breaker();
    for (let i = 0; i < 5; i++) b.record(true, 'b', 100);
    for (let i = 0; i < 15; i++) b.record(false, 'a');
    expect(b.state).toBe('closed');
    b.record(false, 'b'); // a second tenant fails too: the upstream is failing
    expect(b.state).toBe('open');
  });

  it('is not opened by one tenant\'s slow first tokens while another tenant is served fast', () => {
    const { b } = breaker();
    b.record(true, 'b', 100);
    for (let i = 0; i < 19; i++) b.record(true, 'a', 2100);
    expect(b.state).toBe('closed');
    const alone = breaker();
    for (let i = 0; i < 20; i++) alone.b.record(true, 'a', 2100); // only one tenant calls: the usual rule
    expect(alone.b.state).toBe('open');
  });

  it('does not re-open from half-open on one tenant\'s failure while other tenants wait for the upstream', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 20; i++) b.record(false, 'a'); // only tenant a was calling: it opens
    expect(b.allow('b')).toBe(false); // tenant b is refused while open: it is waiting
    clock.advance(30_000);
    expect(b.allow('a')).toBe(true);
    b.record(false, 'a');
    expect(b.state).toBe('half_open');
    for (let i = 0; i < 3; i++) {
      expect(b.allow('b')).toBe(true);
      b.record(true, 'b', 50);
    }
    expect(b.state).toBe('closed');
  });

  it('re-opens from half-open when a second tenant\'s probe fails too', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 20; i++) b.record(false, 'a');
    b.allow('b');
    clock.advance(30_000);
    b.allow('a');
    b.record(false, 'a');
    b.allow('b');
    b.record(false, 'b');
    expect(b.state).toBe('open');
  });

  it('backs off for a rate limit without counting it as a failure', () => {
    const { b, clock } = breaker();
    b.backOff(2_000);
    expect(b.backoffLeftMs()).toBe(2_000);
    clock.advance(1_500);
    expect(b.backoffLeftMs()).toBe(500);
    clock.advance(500);
    expect(b.backoffLeftMs()).toBe(0);
    expect(b.stats().calls).toBe(0);
    expect(b.state).toBe('closed');
  });

  it('lets another probe through when a probe was abandoned by its client', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 20; i++) b.record(false, 'a', 10);
    clock.advance(30_000);
    expect(b.allow('a')).toBe(true);
    b.cancelProbe();
    expect(b.allow('a')).toBe(true);
  });
});
