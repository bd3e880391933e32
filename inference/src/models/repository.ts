/**
 * A Triton-style model repository: <root>/<name>/<version>/{model.onnx, tokenizer.json,
 * config.json}. Every complete version is served; `name` alone means its highest version.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseModelConfig, type ModelConfig } from './model-config';

export interface ModelVersion {
  name: string;
  version: number;
  /** The id clients use: "<name>/<version>". */
  id: string;
  dir: string;
  modelPath: string;
  config: ModelConfig;
  /** Bytes of model.onnx (plus external data files), for the bandwidth floor. */
  weightBytes: number;
}

const REQUIRED = ['model.onnx', 'tokenizer.json', 'config.json'];

export function scanRepository(root: string): ModelVersion[] {
  if (!existsSync(root)) throw new Error(`model repository ${root} does not exist`);
  const found: ModelVersion[] = [];
  for (const name of readdirSync(root).sort()) {
    const modelDir = path.join(root, name);
    if (!statSync(modelDir).isDirectory()) continue;
    for (const v of readdirSync(modelDir)) {
      if (!/^\d+$/.test(v)) continue;
      const dir = path.join(modelDir, v);
      if (!REQUIRED.every((f) => existsSync(path.join(dir, f)))) continue;
      let config: ModelConfig;
      try {
        config = parseModelConfig(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')));
      } catch (err) {
        throw new Error(`${dir}/config.json: ${err instanceof Error ? err.message : String(err)}`);
      }
      const weightBytes = readdirSync(dir)
        .filter((f) => f.endsWith('.onnx') || f.endsWith('.onnx_data') || f.endsWith('.onnx.data'))
        .reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
      const version = Number(v);
      found.push({
        name,
        version,
        id: `${name}/${version}`,
        dir,
        modelPath: path.join(dir, 'model.onnx'),
        config,
        weightBytes,
      });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
}

/** Resolves "<name>/<version>", "<name>:<version>" or "<name>" (highest version). */
export function resolveModel(
  models: readonly ModelVersion[],
  id: string,
): ModelVersion | undefined {
  const exact = models.find((m) => m.id === id || `${m.name}:${m.version}` === id);
  if (exact) return exact;
  return models.filter((m) => m.name === id).sort((a, b) => b.version - a.version)[0];
}
