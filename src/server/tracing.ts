/**
 * OpenTelemetry tracing of the app process: HTTP server and client, fetch (undici) and PostgreSQL
 * spans, exported over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT. Without an endpoint nothing is
 * started and the SDK is not even loaded, so an untraced app pays nothing for it.
 *
 * A call that carries its own `traceparent` (the gateway's call to a model backend) is left to
 * its caller: the GenAI span rebuilt from the outbox is that call's client span, and the backend's
 * spans hang under it.
 */
import type { IncomingMessage } from 'node:http';

export interface Tracing {
  /** Exports what has ended so far (tests, shutdown). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Base OTLP/HTTP endpoint; traces go to `<endpoint>/v1/traces`. Unset: no tracing at all. */
  endpoint: string | undefined;
  serviceName?: string;
}

const globalForTracing = globalThis as unknown as { flywheelTracing?: Tracing };

/** Headers as undici's diagnostics channel gives them: "k: v\r\n…" (Node's own) or [k, v, …]. */
export function carriesTraceContext(request: { headers: string | readonly unknown[] }): boolean {
  const { headers } = request;
  if (typeof headers === 'string') return /(^|\r\n)traceparent:/i.test(headers);
  return headers.some((h, i) => i % 2 === 0 && String(h).toLowerCase() === 'traceparent');
}

// Next.js's own assets are not worth a trace.
const isStaticAsset = (req: IncomingMessage) =>
  req.url?.startsWith('/_next/static') === true || req.url === '/favicon.ico';

export async function startTracing(options: TracingOptions): Promise<Tracing | null> {
  if (!options.endpoint) return null;
  if (globalForTracing.flywheelTracing) return globalForTracing.flywheelTracing;
  const [
    { NodeSDK },
    { OTLPTraceExporter },
    { BatchSpanProcessor },
    { resourceFromAttributes },
    { ATTR_SERVICE_NAME },
    { HttpInstrumentation },
    { UndiciInstrumentation },
    { PgInstrumentation },
  ] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-pg'),
  ]);
  const processor = new BatchSpanProcessor(
    new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` }),
  );
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName ?? 'flywheel' }),
    spanProcessors: [processor],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: isStaticAsset }),
      new UndiciInstrumentation({ ignoreRequestHook: carriesTraceContext }),
      // Only inside a request's trace: the background jobs' polling would be noise.
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  const tracing: Tracing = {
    flush: () => processor.forceFlush(),
    async shutdown() {
      globalForTracing.flywheelTracing = undefined;
      await sdk.shutdown();
    },
  };
  globalForTracing.flywheelTracing = tracing;
  return tracing;
}
