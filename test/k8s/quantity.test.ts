import 'cdktf/lib/testing/adapters/jest';
import { formatBytes, parseQuantity } from '../../lib/k8s/quantity';

describe('parseQuantity', () => {
  it.each([
    ['250m', 0.25],
    ['0.5', 0.5],
    ['2', 2],
    ['512Mi', 512 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['1.5Ki', 1536],
  ])('%s = %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value);
  });

  it.each(['', '1 Gi', '1GB', '-1', 'lots', '1e3'])('rejects %j', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});

describe('formatBytes', () => {
  it('uses the largest binary unit, rounded up so it reads as a minimum', () => {
    expect(formatBytes(2 ** 30)).toBe('1Gi');
    expect(formatBytes(25.5 * 2 ** 30)).toBe('25.5Gi');
    expect(formatBytes(1056 * 2 ** 20)).toBe('1.04Gi');
    expect(formatBytes(64 * 2 ** 20)).toBe('64Mi');
    expect(formatBytes(100)).toBe('100');
  });
});
