/**
 * Starts the OpenTelemetry Node SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans go over
 * OTLP/HTTP to `<endpoint>/v1/traces`, W3C trace context is read from callers. Unset, nothing
 * is imported or started and the serving path sees a null tracer.
 */
import type { RequestTracer } from './types';

export async function startTracing(options: {
  endpoint: string | undefined;
  serviceName: string;
}): Promise<RequestTracer | null> {
  if (!options.endpoint) return null;
  const [
    { NodeSDK },
    { OTLPTraceExporter },
    { BatchSpanProcessor },
    { resourceFromAttributes },
    { ATTR_SERVICE_NAME },
    { trace },
    { createRequestTracer },
  ] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/api'),
    import('./request-trace'),
  ]);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    spanProcessors: [
      // Batched: exporting never sits on a request's path (OTEL_BSP_* tune it).
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` }),
      ),
    ],
    // The worker's spans are its own (request, queue, prefill, decode); no auto-instrumentation.
    instrumentations: [],
  });
  sdk.start();
  return createRequestTracer(trace.getTracer('flywheel-worker'), () => sdk.shutdown());
}
