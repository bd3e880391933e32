/**
 * The GenAI provider name (`gen_ai.provider.name`, PostHog's `$ai_provider`) of a backend URL:
 * `flywheel-worker` for the in-repo worker, the well-known name of a hosted API, else the host
 * (an in-house vLLM or TGI), never the URL itself. No backend (the n-gram tier) is `flywheel`.
 */

// Values from the OpenTelemetry GenAI semantic conventions (gen_ai.provider.name).
const HOSTED: [RegExp, string][] = [
  [/(^|\.)api\.openai\.com$/, 'openai'],
  [/\.openai\.azure\.com$/, 'azure.ai.openai'],
  [/(^|\.)api\.groq\.com$/, 'groq'],
  [/(^|\.)api\.mistral\.ai$/, 'mistral_ai'],
  [/(^|\.)api\.deepseek\.com$/, 'deepseek'],
  [/(^|\.)api\.perplexity\.ai$/, 'perplexity'],
  [/(^|\.)api\.x\.ai$/, 'x_ai'],
  [/(^|\.)generativelanguage\.googleapis\.com$/, 'gcp.gemini'],
  [/(^|\.)bedrock-runtime\.[a-z0-9-]+\.amazonaws\.com$/, 'aws.bedrock'],
];

export const IN_REPO_WORKER_PROVIDER = 'flywheel-worker';

export interface ProviderConfig {
  /** Origins the in-repo worker is reached at (from START_WORKER and WORKER_PORT). */
  workerOrigins: readonly string[];
}

export function inRepoWorkerOrigins(env: { START_WORKER: boolean; WORKER_PORT: number }) {
  if (!env.START_WORKER) return [];
  return ['127.0.0.1', 'localhost', '[::1]'].map((host) => `http://${host}:${env.WORKER_PORT}`);
}

export function providerNameOf(backend: string | null, config: ProviderConfig): string {
  if (!backend) return 'flywheel';
  let url: URL;
  try {
    url = new URL(backend);
  } catch {
    return backend; // already a name
  }
  if (config.workerOrigins.includes(url.origin)) return IN_REPO_WORKER_PROVIDER;
  const host = url.hostname.toLowerCase();
  return HOSTED.find(([pattern]) => pattern.test(host))?.[1] ?? host;
}
