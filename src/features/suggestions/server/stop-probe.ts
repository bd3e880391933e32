/**
 * Whether a backend keeps a matched stop string in its text when asked (vLLM's
 * `include_stop_str_in_output`). Where it does, the gateway sends sentence ends as stop strings:
 * the backend stops there, keeps the punctuation and still sends its usage. Where it does not
 * (OpenAI, llama.cpp, TGI strip stop strings), a sentence-end stop would eat the punctuation, so
 * the gateway cuts the stream itself and reads the rest for the usage instead.
 *
 * The probe is two one-token greedy completions of the same prompt: the first says which token
 * comes, the second asks to stop at exactly that text and keep it. Kept: the text comes back;
 * stripped: it comes back empty. Anything unclear counts as "does not keep".
 */
import type OpenAI from 'openai';

const PROBE_PROMPT = 'The weather today is';

export async function probeKeepsStopStrings(
  client: OpenAI,
  model: string,
  timeoutMs = 5000,
): Promise<boolean> {
  const once = async (extra: Record<string, unknown>) => {
    const body = { model, prompt: PROBE_PROMPT, max_tokens: 1, temperature: 0, seed: 0, ...extra };
    const completion = await client.completions.create(body, { timeout: timeoutMs });
    return completion.choices[0]?.text ?? '';
  };
  const token = await once({});
  if (token === '') return false; // the model ended at once: nothing to stop at
  const kept = await once({ stop: [token], include_stop_str_in_output: true });
  return kept === token;
}
