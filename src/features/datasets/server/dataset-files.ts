/**
 * A version's export folder: train.jsonl, eval.jsonl, manifest.json, README.md. Written into a
 * temporary folder and renamed into place, so a failed build leaves nothing half-written; a
 * missing folder (another instance, a cleaned disk) is rebuilt from the definition and watermark
 * and must give the same digest.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile, access } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { DATASET_FILES_FOR_DOWNLOAD, type Split } from '../definition';
import type { BuildSink } from './dataset-builder';

export const DATASET_FILES = DATASET_FILES_FOR_DOWNLOAD;
export type DatasetFile = (typeof DATASET_FILES)[number];

export const DEFAULT_DATASETS_DIR = '.data/datasets';

export interface FolderWriter extends BuildSink {
  tmpDir: string;
  /** Adds manifest and card, closes the files and moves the folder to `finalDir`. */
  commit(extra: { manifest: string; readme: string }, finalDir: string): Promise<void>;
  abort(): Promise<void>;
}

export async function openFolderWriter(root: string, tag: string): Promise<FolderWriter> {
  const tmpDir = path.join(root, `.tmp-${tag}`);
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true });
  const streams: Record<Split, WriteStream> = {
    train: createWriteStream(path.join(tmpDir, 'train.jsonl')),
    eval: createWriteStream(path.join(tmpDir, 'eval.jsonl')),
  };
  const close = async () => {
    await Promise.all(
      Object.values(streams).map(async (s) => {
        if (s.closed) return;
        s.end();
        await once(s, 'close');
      }),
    );
  };
  return {
    tmpDir,
    async write(split, line) {
      // Honour back-pressure so a large build never buffers the file in memory.
      if (!streams[split].write(line)) await once(streams[split], 'drain');
    },
    async commit({ manifest, readme }, finalDir) {
      await close();
      await writeFile(path.join(tmpDir, 'manifest.json'), manifest);
      await writeFile(path.join(tmpDir, 'README.md'), readme);
      await rm(finalDir, { recursive: true, force: true });
      await mkdir(path.dirname(finalDir), { recursive: true });
      await rename(tmpDir, finalDir);
    },
    async abort() {
      await close().catch(() => undefined);
      await rm(tmpDir, { recursive: true, force: true });
    },
  };
}

export async function folderExists(dir: string): Promise<boolean> {
  try {
    await Promise.all(DATASET_FILES.map((f) => access(path.join(dir, f))));
    return true;
  } catch {
    return false;
  }
}
