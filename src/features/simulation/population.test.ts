import { describe, expect, it } from 'vitest';
import { eventId } from './feedback-events';
import { makePopulation, rotations } from './population';
import type { WriterTransport } from './transport';
import type { Document } from './writer';

const docs: Document[] = Array.from({ length: 11 }, (_, i) => ({ id: `d${i}`, text: `text ${i}` }));
const unused: WriterTransport = {
  complete: () => Promise.reject(new Error('not called')),
  ingest: () => Promise.reject(new Error('not called')),
};

describe('rotations', () => {
  it('gives every writer every document once, each from its own place in one seeded order', () => {
    const r = rotations(docs, 's', 4);
    expect(r).toHaveLength(4);
    for (const share of r)
      expect(share.map((d) => d.id).sort()).toEqual(docs.map((d) => d.id).sort());
    // One cyclic order: each writer's list is the first one's, started further round.
    const first = r[0]!.map((d) => d.id);
    const starts = r.map((share) => first.indexOf(share[0]!.id));
    expect(starts).toEqual([0, 2, 5, 8]);
    r.forEach((share, i) =>
      expect(share.map((d) => d.id)).toEqual([
        ...first.slice(starts[i]),
        ...first.slice(0, starts[i]),
      ]),
    );
  });

  it('is a function of the seed alone', () => {
    expect(rotations(docs, 's', 3)).toEqual(rotations([...docs].reverse(), 's', 3));
    expect(rotations(docs, 's', 3)[0]).not.toEqual(rotations(docs, 't', 3)[0]);
  });
});

describe('makePopulation', () => {
  it('keeps two populations of one seed apart: unit ids and feedback event ids never meet', () => {
    const make = (unitPrefix: string, writerPrefix: string) =>
      makePopulation({
        seed: '1',
        writers: 3,
        documents: docs,
        transport: unused,
        featureId: 'inline-completion',
        captureText: false,
        unitPrefix,
        writerPrefix,
      });
    const writers = make('loop', 'w');
    const bystanders = make('loop-bystander', 'b');
    expect(writers.map((w) => w.unitId)).toEqual(['loop-1-w000', 'loop-1-w001', 'loop-1-w002']);
    expect(bystanders.map((w) => w.id)).toEqual(['b000', 'b001', 'b002']);
    // Event ids are unique across the product: the same step of writer 0 and bystander 0 must differ.
    const at = (writerId: string) => ({ seed: '1', writerId, step: 7 });
    expect(eventId(at(writers[0]!.id), 'shown')).not.toBe(eventId(at(bystanders[0]!.id), 'shown'));
  });
});
