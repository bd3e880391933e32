/**
 * Plain typed-array operations on KV caches laid out as Optimum exports them:
 * one array per `past_key_values.{i}.key|value`, shape [batch, kvHeads, length, headDim].
 */
export type KvArray = Float32Array | Uint16Array;

export interface KvShape {
  numLayers: number;
  kvHeads: number;
  headDim: number;
  /** 'float32' or 'float16' (stored as raw Uint16 halves). */
  dtype: 'float32' | 'float16';
}

export interface KvBlock {
  /** 2 × numLayers arrays: key0, value0, key1, value1, … */
  arrays: KvArray[];
  batch: number;
  length: number;
}

export function allocKv(shape: KvShape, n: number): KvArray {
  return shape.dtype === 'float16' ? new Uint16Array(n) : new Float32Array(n);
}

export function emptyKv(shape: KvShape, batch: number): KvBlock {
  return {
    arrays: Array.from({ length: 2 * shape.numLayers }, () => allocKv(shape, 0)),
    batch,
    length: 0,
  };
}

/** Bytes one token of KV takes for one sequence. */
export function bytesPerToken(shape: KvShape): number {
  return 2 * shape.numLayers * shape.kvHeads * shape.headDim * (shape.dtype === 'float16' ? 2 : 4);
}

/** One output row: `cols` of row `row` of `src`, in order, right-aligned (left-padded). */
export interface RowSource {
  src: KvBlock;
  row: number;
  cols: ArrayLike<number>;
}

/**
 * Builds a new block of `length` columns from rows of other blocks. Each row's columns are
 * copied in order to the right end; the left padding is zeros (finite, and masked out).
 * Contiguous column runs are copied with one `set` per (layer, head).
 */
export function gatherKv(shape: KvShape, rows: readonly RowSource[], length: number): KvBlock {
  const d = shape.headDim;
  const h = shape.kvHeads;
  const batch = rows.length;
  const arrays: KvArray[] = [];
  for (let a = 0; a < 2 * shape.numLayers; a++) {
    const out = allocKv(shape, batch * h * length * d);
    rows.forEach((r, b) => {
      const src = r.src.arrays[a];
      if (!src) throw new Error('KV block has fewer layers than the model');
      const srcLen = r.src.length;
      const offset = length - r.cols.length;
      if (offset < 0) throw new Error('gatherKv: row longer than the target length');
      let j = 0;
      while (j < r.cols.length) {
        const start = r.cols[j] as number;
        let run = 1;
        while (j + run < r.cols.length && r.cols[j + run] === start + run) run++;
        for (let head = 0; head < h; head++) {
          const from = ((r.row * h + head) * srcLen + start) * d;
          const to = ((b * h + head) * length + offset + j) * d;
          out.set(src.subarray(from, from + run * d), to);
        }
        j += run;
      }
    });
    arrays.push(out);
  }
  return { arrays, batch, length };
}

/** 0..n-1, the columns of a fully valid row. */
export function range(start: number, end: number): Int32Array {
  const out = new Int32Array(Math.max(0, end - start));
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}
