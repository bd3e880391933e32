// Runs once when the Next.js server starts. The literal NEXT_RUNTIME check is Next.js's own
// convention: it lets the bundler drop the Node.js-only import from the edge bundle.
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    // Tracing first, so the modules loaded after it (http, pg) are instrumented. Nothing is
    // loaded or started without OTEL_EXPORTER_OTLP_ENDPOINT.
    const { env } = await import('./server/env');
    const { startTracing } = await import('./server/tracing');
    await startTracing({ endpoint: env().OTEL_EXPORTER_OTLP_ENDPOINT });
    const { onServerStart } = await import('./composition/on-server-start');
    await onServerStart();
  }
}
