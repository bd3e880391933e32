import { describe, expect, it } from 'vitest';
import { bytesPerToken, gatherKv, range, type KvBlock, type KvShape } from './kv-tensors';

const shape: KvShape = { numLayers: 1, kvHeads: 2, headDim: 2, dtype: 'float32' };

/** A block whose value at (row, head, col, d) encodes those coordinates. */
function block(batch: number, length: number): KvBlock {
  const make = (salt: number) =>
    Float32Array.from({ length: batch * 2 * length * 2 }, (_, i) => {
      const d = i % 2;
      const col = Math.floor(i / 2) % length;
      const head = Math.floor(i / (2 * length)) % 2;
      const row = Math.floor(i / (4 * length));
      return salt + row * 1000 + head * 100 + col * 10 + d;
    });
  return { arrays: [make(0), make(0.5)], batch, length };
}

describe('gatherKv', () => {
  it('left-pads rows and copies the chosen columns in order', () => {
    const a = block(2, 4);
    const out = gatherKv(
      shape,
      [
        { src: a, row: 1, cols: [0, 2, 3] },
        { src: a, row: 0, cols: range(0, 4) },
      ],
      4,
    );
    expect(out.batch).toBe(2);
    const key = out.arrays[0]!;
    // row 0 of the output, head 1: [pad, col0, col2, col3] of source row 1
    const at = (b: number, h: number, c: number) =>
      Array.from(key.subarray(((b * 2 + h) * 4 + c) * 2, ((b * 2 + h) * 4 + c) * 2 + 2));
    expect(at(0, 1, 0)).toEqual([0, 0]);
    expect(at(0, 1, 1)).toEqual([1100, 1101]);
    expect(at(0, 1, 2)).toEqual([1120, 1121]);
    expect(at(0, 1, 3)).toEqual([1130, 1131]);
    expect(at(1, 0, 3)).toEqual([30, 31]);
    expect(out.arrays[1]![2]).toBe(1000.5); // value array: row 0, head 0, col 1 ← source row 1, col 0
    expect(bytesPerToken(shape)).toBe(2 * 1 * 2 * 2 * 4);
  });
});
