/** Prints the benchmark table (stdout) with ratios in the note column. */
export interface Row {
  metric: string;
  tfjs?: number;
  raw?: number;
  worker?: number;
  note: string;
}

const cell = (x: number | undefined) =>
  x === undefined ? '' : x >= 100 ? x.toFixed(0) : x.toFixed(2);

export function printTable(rows: readonly Row[], title: string): void {
  const header = ['metric', 'transformers.js', 'raw floor', 'worker', 'note'];
  const body = rows.map((r) => [r.metric, cell(r.tfjs), cell(r.raw), cell(r.worker), r.note]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cols: string[]) =>
    `| ${cols.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const b of body) console.log(line(b));
}
