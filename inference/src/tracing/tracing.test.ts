/**
 * Tracing against a local OTLP/HTTP receiver (a plain HTTP server decoding the JSON the real
 * exporter sends): the worker's spans continue the caller's W3C trace, with GenAI attributes
 * and the engine's phases.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postJson,
  startWorker,
  TESTDATA_MODELS,
  type WorkerProcess,
} from '../testing/worker-process';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

const spans: OtlpSpan[] = [];
const contentTypes = new Set<string>();
let services = new Set<string>();
let receiver: Server;
let worker: WorkerProcess;

const plain = (v: OtlpValue): unknown =>
  v.stringValue ??
  (v.intValue !== undefined ? Number(v.intValue) : undefined) ??
  v.doubleValue ??
  v.boolValue ??
  v.arrayValue?.values.map(plain);
const attrs = (s: OtlpSpan) => Object.fromEntries(s.attributes.map((a) => [a.key, plain(a.value)]));

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      contentTypes.add(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const data = JSON.parse(body) as OtlpExport;
      for (const rs of data.resourceSpans) {
        for (const a of rs.resource.attributes)
          if (a.key === 'service.name') services = services.add(String(plain(a.value)));
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const { port } = receiver.address() as AddressInfo;
  worker = await startWorker({
    MODEL_REPOSITORY: TESTDATA_MODELS,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_BSP_SCHEDULE_DELAY: '50',
  });
});

afterAll(async () => {
  if (worker) expect(await worker.stop()).toBe(0);
  receiver?.close();
});

async function spansOf(traceId: string, count: number): Promise<OtlpSpan[]> {
  for (let i = 0; i < 200; i++) {
    const mine = spans.filter((s) => s.traceId === traceId);
    if (mine.length >= count) return mine;
    await new Promise((r) => setTimeout(r, 25));
  }
  return spans.filter((s) => s.traceId === traceId);
}

const hex = (bytes: number) =>
  Array.from({ length: bytes }, () =>
    Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, '0'),
  ).join('');

describe('worker tracing', () => {
  it("continues the caller's traceparent: GenAI server span, then queue wait, prefill and decode", async () => {
    const traceId = hex(16);
    const parentSpanId = hex(8);
    const request = {
      model: 'tiny-random',
      prompt: 'It is a truth universally acknowledged, that a single man in possession',
      max_tokens: 12,
      temperature: 0,
      ignore_eos: true,
      seed: 7,
    };
    // The greedy text as a prediction: the worker drafts from it, so speculation is traced.
    const greedy = await postJson(worker.baseUrl, '/v1/completions', request);
    const prediction = { type: 'content', content: greedy.json.choices[0]!.text };
    const res = await fetch(`${worker.baseUrl}/v1/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${parentSpanId}-01`,
      },
      body: JSON.stringify({ ...request, prediction }),
    });
    expect(res.status).toBe(200);
    const usage = ((await res.json()) as { usage: { prompt_tokens: number } }).usage;
    const mine = await spansOf(traceId, 5);
    const server = mine.find((s) => s.name === 'text_completion tiny-random')!;
    expect(server).toBeDefined();
    expect(server.parentSpanId).toBe(parentSpanId);
    expect(server.kind).toBe(2); // SERVER
    expect(attrs(server)).toMatchObject({
      'gen_ai.operation.name': 'text_completion',
      'gen_ai.provider.name': 'flywheel',
      'gen_ai.request.model': 'tiny-random',
      'gen_ai.response.model': 'tiny-random/1',
      'gen_ai.request.max_tokens': 12,
      'gen_ai.request.temperature': 0,
      'gen_ai.request.seed': 7,
      'gen_ai.usage.input_tokens': usage.prompt_tokens,
      'gen_ai.usage.output_tokens': 12,
      'gen_ai.response.finish_reasons': ['length'],
    });
    expect(attrs(server)).not.toHaveProperty('gen_ai.system');
    const phases = ['queue wait', 'prefill', 'decode'].map((n) => mine.find((s) => s.name === n)!);
    for (const p of phases) {
      expect(p.parentSpanId).toBe(server.spanId);
      expect(BigInt(p.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(p.startTimeUnixNano));
    }
    const [queue, prefill, decode] = phases as [OtlpSpan, OtlpSpan, OtlpSpan];
    // In order: the queue ends where the prefill starts, the prefill where decoding starts.
    expect(BigInt(queue.endTimeUnixNano)).toBeLessThanOrEqual(
      BigInt(prefill.startTimeUnixNano) + 1000n,
    );
    expect(BigInt(prefill.endTimeUnixNano)).toBeLessThanOrEqual(
      BigInt(decode.startTimeUnixNano) + 1000n,
    );
    expect(attrs(prefill)['flywheel.prefill.prompt_tokens']).toBe(usage.prompt_tokens);
    expect(attrs(decode)).toMatchObject({ 'flywheel.decode.output_tokens': 12 });
    const d = attrs(decode);
    expect(d['flywheel.decode.steps']).toBeGreaterThan(0);
    expect(d['flywheel.decode.steps']).toBeLessThanOrEqual(12);
    expect(d['flywheel.speculative.accepted_tokens']).toBeLessThanOrEqual(
      d['flywheel.speculative.draft_tokens'] as number,
    );
    // Speculation, when drafts were made, sits under decode with the same counts.
    expect(d['flywheel.speculative.draft_tokens']).toBeGreaterThan(0);
    expect(d['flywheel.speculative.accepted_tokens']).toBeGreaterThan(0);
    expect(d['flywheel.decode.steps']).toBeLessThan(12); // accepted drafts save steps
    const spec = mine.find((s) => s.name === 'speculation')!;
    expect(spec.parentSpanId).toBe(decode.spanId);
    expect(attrs(spec)['flywheel.speculative.accepted_tokens']).toBe(
      d['flywheel.speculative.accepted_tokens'],
    );
    expect(services).toContain('flywheel-worker');
    expect([...contentTypes].some((c) => c.startsWith('POST /v1/traces application/json'))).toBe(
      true,
    );
  });

  it('starts a new trace when the caller sends no traceparent', async () => {
    const before = new Set(spans.map((s) => s.traceId));
    const chat = await postJson(worker.baseUrl, '/v1/chat/completions', {
      model: 'tiny-random',
      messages: [{ role: 'user', content: 'Who is Emma?' }],
      max_tokens: 3,
    });
    expect(chat.status).toBe(200);
    let fresh: OtlpSpan | undefined;
    for (let i = 0; i < 200 && !fresh; i++) {
      fresh = spans.find((s) => s.name === 'chat tiny-random' && !before.has(s.traceId));
      if (!fresh) await new Promise((r) => setTimeout(r, 25));
    }
    expect(fresh).toBeDefined();
    expect(fresh!.parentSpanId ?? '').toBe('');
    expect(attrs(fresh!)['gen_ai.operation.name']).toBe('chat');
  });
});
