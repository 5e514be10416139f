import { barLine, formatRate, formatSeconds, Meter, wrap } from '../../src/cli/progress';

describe('the terminal display', () => {
  test('wrap: lines within the width, broken at spaces, nothing lost, long words split', () => {
    const path = '/tmp/trajmatch-x/buffers/mnist/convnet-d1-w4/expert_000.mtt.safetensors';
    const line = `expert 0: test accuracy 45.00% (2.0 s) -> ${path}, ${path.replace('mtt', 'mct2')}`;
    for (const width of [20, 40, 79, 200]) {
      const lines = wrap(line, width);
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
      expect(lines.join('').replace(/\s/g, '')).toBe(line.replace(/\s/g, ''));
    }
    expect(wrap(line, 79).map((l) => l.trim())).toEqual(['expert 0: test accuracy 45.00% (2.0 s) ->', `${path},`, path.replace('mtt', 'mct2')]);
    expect(wrap(line, 200)).toEqual([line]);
    expect(wrap(`-> ${path}`, path.length + 1)).toEqual(['->', path]); // fits only without the indent
    expect(wrap(`-> ${path}`, path.length)).toEqual(['->', path]);
    expect(wrap(`-> ${path}`, path.length - 1)).toEqual(['->', `  ${path.slice(0, -3)}`, `  ${path.slice(-3)}`]); // longer than any line: split
    expect(wrap('', 79)).toEqual(['']);
  });

  test('the bar line fits the width: the bar shrinks, then the fields after the ETA go', () => {
    const m = new Meter();
    m.start(300, 12); // resumed at 12: no rate yet, so no ETA
    const fields = { 'last eval': '71.80% @12', loss: '0.1234', lr: '0.01004' };
    const first = barLine('distill', 'it', m, fields, 79);
    expect(first).toMatch(/^distill \|[█░]+\| 12\/300 \| 0s \| - it\/s \| ETA - \| last eval 71\.80% @12/);
    for (const width of [30, 50, 79, 120]) expect(barLine('distill', 'it', m, fields, width).length).toBeLessThanOrEqual(width);
    expect(barLine('distill', 'it', m, fields, 50)).not.toContain('lr ');
    expect(barLine('distill', 'it', m, { '': 'evaluating iteration 12 ...' }, 79)).toContain('evaluating iteration 12 ...');
  });

  test('elapsed time and rate', () => {
    expect([formatSeconds(7.4), formatSeconds(185), formatSeconds(7440), formatSeconds(NaN), formatSeconds(Infinity)]).toEqual([
      '7s',
      '3m05s',
      '2h04m',
      '-',
      '-',
    ]);
    expect([formatRate(12.34, 'it'), formatRate(0.25, 'it'), formatRate(undefined, 'it')]).toEqual(['12.3 it/s', '4.00 s/it', '- it/s']);
  });
});
