/** JSON for results files: indented, but with one line per row of the big arrays, so it stays small and diffable. */

/** Rounds non-integers to 6 significant digits. */
const round = (_key: string, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) && Number.isFinite(value) ? Number(value.toPrecision(6)) : value);

function rows(items: readonly unknown[], indent: string): string {
  if (items.length === 0) return '[]';
  return `[\n${items.map((item) => `${indent}  ${JSON.stringify(item, round)}`).join(',\n')}\n${indent}]`;
}

/**
 * `head` pretty-printed, then each entry of `tables` as a key whose value is an array (one line
 * per row) or an object of such arrays.
 */
export function jsonWithRows(head: Readonly<Record<string, unknown>>, tables: Readonly<Record<string, readonly unknown[] | Readonly<Record<string, readonly unknown[]>>>>): string {
  const parts = [JSON.stringify(head, round, 2).replace(/\n}$/, '')];
  for (const [key, value] of Object.entries(tables)) {
    const body = Array.isArray(value)
      ? rows(value, '  ')
      : `{\n${Object.entries(value as Record<string, readonly unknown[]>).map(([k, v]) => `    ${JSON.stringify(k)}: ${rows(v, '    ')}`).join(',\n')}\n  }`;
    parts.push(`  ${JSON.stringify(key)}: ${body}`);
  }
  return `${parts.join(',\n')}\n}\n`;
}
