import type { ServerEnv } from '~/server/env';
import { createOtelSink } from './otel-sink';
import { createPostHogSink } from './posthog-sink';
import type { OutboxSink } from './sink';

/** PostHog Cloud (US) when a key is set without a host. */
export const DEFAULT_POSTHOG_HOST = 'https://us.i.posthog.com';

/** The sinks the environment configures, each with a dispatcher. */
export function configuredSinks(
  env: Pick<ServerEnv, 'POSTHOG_API_KEY' | 'POSTHOG_HOST' | 'OTEL_EXPORTER_OTLP_ENDPOINT'>,
): OutboxSink[] {
  const sinks: OutboxSink[] = [];
  if (env.POSTHOG_API_KEY)
    sinks.push(
      createPostHogSink({
        apiKey: env.POSTHOG_API_KEY,
        host: env.POSTHOG_HOST ?? DEFAULT_POSTHOG_HOST,
      }),
    );
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT)
    sinks.push(createOtelSink({ endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT }));
  return sinks;
}
