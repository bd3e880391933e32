/** Timed requests to the worker over HTTP. */
export interface TimedCompletion {
  ms: number;
  ttftMs: number;
  tokens: number;
  text: string;
}

const postCompletion = (baseUrl: string, body: Record<string, unknown>) =>
  fetch(`${baseUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** Streams one completion; measures time to the first token and in total. */
export async function timedCompletion(
  baseUrl: string,
  body: Record<string, unknown>,
): Promise<TimedCompletion> {
  const start = performance.now();
  const res = await postCompletion(baseUrl, {
    ...body,
    stream: true,
    stream_options: { include_usage: true },
  });
  if (!res.ok || !res.body) throw new Error(`worker answered ${res.status}: ${await res.text()}`);
  let ttftMs = 0;
  let tokens = 0;
  let text = '';
  let buffer = '';
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const line = buffer.slice(0, at).replace(/^data: /, '');
      buffer = buffer.slice(at + 2);
      if (line === '[DONE]') continue;
      const data = JSON.parse(line) as {
        choices: { text: string }[];
        usage?: { completion_tokens: number };
      };
      if (ttftMs === 0 && data.choices.length > 0) ttftMs = performance.now() - start;
      text += data.choices[0]?.text ?? '';
      if (data.usage) tokens = data.usage.completion_tokens;
    }
  }
  return { ms: performance.now() - start, ttftMs, tokens, text };
}

export async function metricValue(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** One completion, not streamed: total time only (less client work per token). */
export async function plainCompletion(
  baseUrl: string,
  body: Record<string, unknown>,
): Promise<TimedCompletion> {
  const start = performance.now();
  const res = await postCompletion(baseUrl, { ...body, stream: false });
  const json = (await res.json()) as {
    choices: { text: string }[];
    usage: { completion_tokens: number };
  };
  if (!res.ok) throw new Error(`worker answered ${res.status}: ${JSON.stringify(json)}`);
  return {
    ms: performance.now() - start,
    ttftMs: NaN,
    tokens: json.usage.completion_tokens,
    text: json.choices[0]?.text ?? '',
  };
}
