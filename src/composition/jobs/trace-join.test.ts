// One suggestion request, traced end to end: the app's OpenTelemetry SDK (HTTP server and
// PostgreSQL spans, exported by the real OTLP/HTTP exporter) and the GenAI span the outbox
// rebuilds later land in one trace at a local OTLP/HTTP receiver, which decodes what it gets.
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOtelSink } from '~/features/feedback/server/sinks/otel-sink';
import { BackendPool } from '~/features/suggestions/server/backend-pool';
import { completeSuggestion } from '~/features/suggestions/server/suggestions-service';
import { createSuggestionRuntime } from '~/features/suggestions/server/suggestions-runtime';
import { describeOnEachDatabase } from '~/test/databases';
import { DEMO_MODELS, startWorker, type WorkerProcess } from '~/test/worker-process';
import { startTracing, type Tracing } from '~/server/tracing';
import { createOutboxDispatcher } from './outbox-dispatcher';

type Http = typeof import('node:http');
// Loaded after the SDK started, through require, as the app loads them: that is what the
// instrumentations patch.
const load = createRequire(import.meta.url);

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}
interface OtlpExport {
  resourceSpans: { scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[];
}

const received: { scope: string; span: OtlpSpan }[] = [];
let receiver: import('node:http').Server;
let endpoint: string;
let tracing: Tracing | null;
let worker: WorkerProcess;

beforeAll(async () => {
  const http = load('node:http') as Http;
  // The OTLP/HTTP receiver: JSON export requests at /v1/traces, as the exporter sends them.
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type'] === 'application/json') {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as OtlpExport;
        for (const rs of body.resourceSpans)
          for (const ss of rs.scopeSpans)
            for (const span of ss.spans) received.push({ scope: ss.scope.name, span });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  worker = await startWorker({ MODEL_REPOSITORY: DEMO_MODELS });
  tracing = await startTracing({ endpoint, serviceName: 'flywheel-test' });
  load('pg');
});

afterAll(async () => {
  await tracing?.shutdown();
  await worker?.stop();
  await new Promise((r) => receiver?.close(r));
});

const attr = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

it('starts nothing without an endpoint', async () => {
  expect(await startTracing({ endpoint: undefined })).toBeNull();
});

it('leaves a call that carries its own traceparent to its caller, and traces others', async () => {
  const http = load('node:http') as Http;
  const seen: (string | string[] | undefined)[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.traceparent);
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
  const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  try {
    await (await fetch(`${url}?own`, { headers: { traceparent: own } })).text();
    await (await fetch(`${url}?plain`)).text();
  } finally {
    await new Promise((r) => server.close(r));
  }
  await tracing!.flush();
  // The caller's header arrives alone and unchanged; the plain call got the SDK's.
  expect(seen[0]).toBe(own);
  expect(seen[1]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  const clientSpans = received.filter((r) => String(attr(r.span, 'url.full')).startsWith(url));
  expect(clientSpans.map((r) => attr(r.span, 'url.full'))).toEqual([`${url}?plain`]);
});

describeOnEachDatabase('one trace per suggestion', ({ db }) => {
  it('puts the app’s spans and the outbox GenAI span in the same trace', async () => {
    const rt = createSuggestionRuntime(
      db(),
      new BackendPool([worker.baseUrl], { failureThreshold: 5, cooldownMs: 5000 }),
      { writer: { sinks: () => ['otel'] } },
    );
    await rt.refreshModels();
    // A model's first request can outlast the feature's budget on a busy machine: warm it.
    await fetch(`${worker.baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flywheel-teacher/1', prompt: 'Thank you for', max_tokens: 4 }),
    });
    // The app as a browser reaches it: an HTTP server (instrumented) answering a completion.
    const http = load('node:http') as Http;
    const app = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void completeSuggestion(rt, JSON.parse(Buffer.concat(chunks).toString()) as never).then(
          async ({ response, persisted }) => {
            await persisted;
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(response));
          },
        );
      });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const { port } = app.address() as AddressInfo;
    let generationId: string;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/suggest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          featureId: 'inline-completion',
          unitId: `trace-${Date.now()}`,
          textBefore: 'Thank you for',
        }),
      });
      const body = (await res.json()) as { generationId: string };
      generationId = body.generationId;
    } finally {
      await new Promise((r) => app.close(r));
    }
    const row = await db().generation.findUniqueOrThrow({ where: { id: generationId } });

    // The outbox delivers the GenAI span to the same receiver, later, from the stored row.
    const dispatcher = createOutboxDispatcher({
      db: db(),
      sinks: [createOtelSink({ endpoint, timeoutMs: 5000 })],
      batchSize: 500,
      log: () => undefined,
    });
    for (let i = 0; i < 10; i++) {
      const delivered = await db().outbox.count({
        where: { aggregateId: generationId, sink: 'otel', deliveredAt: { not: null } },
      });
      if (delivered > 0) break;
      await dispatcher.runOnce();
    }
    await tracing!.flush();

    const server = received.find(
      (r) =>
        r.span.kind === 2 &&
        r.scope.includes('instrumentation-http') &&
        r.span.traceId === row.traceId,
    );
    expect(server, 'the HTTP server span of the request').toBeDefined();
    const traceId = server!.span.traceId;
    const genAi = received.find((r) => attr(r.span, 'gen_ai.response.id') === generationId);
    expect(genAi, 'the GenAI span from the outbox').toBeDefined();
    expect(genAi!.span.traceId).toBe(traceId);
    expect(attr(genAi!.span, 'gen_ai.provider.name')).toBeTypeOf('string');
    expect(genAi!.span.attributes.map((a) => a.key)).not.toContain('gen_ai.system');
    // It is the backend call's span (the id the worker got in traceparent), under an app span.
    expect(genAi!.span.spanId).toBe(row.spanId);
    expect(row.parentSpanId).toMatch(/^[0-9a-f]{16}$/);
    expect(genAi!.span.parentSpanId).toBe(row.parentSpanId);
    const appSpanIds = received.filter((r) => r.span.traceId === traceId).map((r) => r.span.spanId);
    expect(appSpanIds, 'the GenAI span’s parent is an exported app span').toContain(
      row.parentSpanId,
    );
    // The request's database work is in the trace too.
    const dbSpans = received.filter(
      (r) => r.scope.includes('instrumentation-pg') && r.span.traceId === traceId,
    );
    expect(dbSpans.length).toBeGreaterThan(0);
    console.log(
      `trace ${traceId}: ${received.filter((r) => r.span.traceId === traceId).length} spans ` +
        `(${[...new Set(received.filter((r) => r.span.traceId === traceId).map((r) => r.scope))].join(', ')})`,
    );
  });
});
