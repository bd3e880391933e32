/**
 * A Triton-style model repository: <root>/<name>/<version>/{model.onnx, tokenizer.json,
 * config.json, optionally model_int8.onnx and flywheel.json}. Every version found is loaded; `name` alone means its highest version.
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

/** A version folder that could not be read, with the reason (reported, never fatal). */
export interface BrokenVersion {
  name: string;
  version: number;
  id: string;
  dir: string;
  reason: string;
}

export interface ScanResult {
  versions: ModelVersion[];
  broken: BrokenVersion[];
}

/** Model names are folder names: no path separators or dot-dot, so a name cannot leave the root. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The digest Flywheel's own metadata file records (`flywheel.json`, beside a Hugging Face
 * `config.json` that has no place for it), or null when there is none or it is unreadable.
 */
function flywheelDigest(dir: string): string | null {
  const file = path.join(dir, 'flywheel.json');
  if (!existsSync(file)) return null;
  try {
    const digest = (JSON.parse(readFileSync(file, 'utf8')) as { digest?: unknown }).digest;
    return typeof digest === 'string' ? digest : null;
  } catch {
    return null;
  }
}

function readVersion(name: string, version: number, dir: string): ModelVersion {
  const missing = REQUIRED.filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}`);
  let config: ModelConfig;
  try {
    config = parseModelConfig(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')));
  } catch (err) {
    throw new Error(`config.json: ${err instanceof Error ? err.message : String(err)}`);
  }
  // model.onnx and its external data only: an int8 copy beside it is another file, not more weights.
  const weightBytes = readdirSync(dir)
    .filter((f) => /^model\.onnx([._]data)?$/.test(f))
    .reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
  return {
    name,
    version,
    id: `${name}/${version}`,
    dir,
    modelPath: path.join(dir, 'model.onnx'),
    config: { ...config, digest: flywheelDigest(dir) ?? config.digest },
    weightBytes,
  };
}

/**
 * The numbered version folders of one model (or of every model when `only` is omitted). A
 * folder that cannot be read (a file missing, a bad config.json) is listed in `broken` with
 * its reason, so one bad folder never hides the others.
 */
export function scanModels(root: string, only?: string): ScanResult {
  if (!existsSync(root)) throw new Error(`model repository ${root} does not exist`);
  const result: ScanResult = { versions: [], broken: [] };
  const names = only === undefined ? readdirSync(root).sort() : [only];
  for (const name of names) {
    const modelDir = path.join(root, name);
    if (!MODEL_NAME.test(name) || !existsSync(modelDir) || !statSync(modelDir).isDirectory())
      continue;
    for (const v of readdirSync(modelDir)) {
      const dir = path.join(modelDir, v);
      if (!/^\d+$/.test(v) || !statSync(dir).isDirectory()) continue;
      const version = Number(v);
      try {
        result.versions.push(readVersion(name, version, dir));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        result.broken.push({ name, version, id: `${name}/${version}`, dir, reason });
      }
    }
  }
  result.versions.sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
  return result;
}

/** The versions that can be read (benchmarks and tools; the worker uses scanModels). */
export function scanRepository(root: string): ModelVersion[] {
  return scanModels(root).versions;
}
