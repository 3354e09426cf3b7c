import { readFileSync } from 'node:fs';
import { README, renderReadme } from '../../scripts/render-readme';

describe('README', () => {
  it('documents every setting exactly as the code defines it (run `npm run docs` after changing settings)', () => {
    const text = readFileSync(README, 'utf8');
    expect(renderReadme(text)).toBe(text);
  });
});
