/**
 * The texts simulated writers mean to write: the held-out documents of the demo models' corpus
 * (inference/training/heldout.json lists their ids; no demo model trained on them). The text is
 * rebuilt by the training scripts' own loader (corpus.load_documents: pinned npm tarballs, the
 * same cleaning), checked against the committed ids, and cached by the ids' digest.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Document } from './writer';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const TRAINING = path.join(ROOT, 'inference/training');
const CACHE = path.join(ROOT, 'node_modules/.cache/flywheel-heldout');

export interface HeldoutTexts {
  documents: Document[];
  /** Where the texts come from and under which licences (from corpus.json). */
  source: string;
  licences: string[];
  chars: number;
}

interface HeldoutManifest {
  ids: string[];
  chars: number;
}

interface CorpusSpec {
  packages: { name: string; version: string; licence: string }[];
}

const EXPORT = `
import json, sys
sys.path.insert(0, ${JSON.stringify(TRAINING)})
out, sys.stdout = sys.stdout, sys.stderr  # the loader's progress lines go to stderr
import corpus
docs, _ = corpus.load_documents()
json.dump([{"id": d.id, "text": d.text} for d in docs if d.split == "heldout"], out)
`;

/** `python` runs the training scripts' loader (the CLIs pass FLYWHEEL_PYTHON when it is set). */
export async function loadHeldoutTexts(python = '/usr/bin/python3'): Promise<HeldoutTexts> {
  const manifest = JSON.parse(
    await readFile(path.join(TRAINING, 'heldout.json'), 'utf8'),
  ) as HeldoutManifest;
  const spec = JSON.parse(await readFile(path.join(TRAINING, 'corpus.json'), 'utf8')) as CorpusSpec;
  const key = createHash('sha256').update(manifest.ids.join('\n')).digest('hex').slice(0, 16);
  const file = path.join(CACHE, `heldout-${key}.json`);
  let documents: Document[];
  if (existsSync(file)) documents = JSON.parse(await readFile(file, 'utf8')) as Document[];
  else {
    const out = execFileSync(python, ['-c', EXPORT], {
      cwd: TRAINING,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    documents = JSON.parse(out.toString('utf8')) as Document[];
    await mkdir(CACHE, { recursive: true });
    await writeFile(file, JSON.stringify(documents));
  }
  const ids = documents.map((d) => d.id);
  const chars = documents.reduce((n, d) => n + d.text.length, 0);
  if (ids.join('\n') !== manifest.ids.join('\n') || chars !== manifest.chars)
    throw new Error(
      `The rebuilt held-out documents (${ids.length}, ${chars} chars) differ from inference/training/heldout.json ` +
        `(${manifest.ids.length}, ${manifest.chars} chars); delete ${file} and check the corpus pins`,
    );
  return {
    documents,
    source: spec.packages.map((p) => `${p.name}@${p.version}`).join(', '),
    licences: spec.packages.map((p) => `${p.name}: ${p.licence}`),
    chars,
  };
}
