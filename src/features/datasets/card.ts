/**
 * The dataset card (README.md): the YAML header Hugging Face `datasets` reads for
 * `configs`/`data_files`, so `load_dataset(folder)` gets the train and eval splits as they are.
 */
import { FORMAT_COLUMNS, type DatasetFormat } from './definition';

export interface CardInput {
  name: string;
  version: number;
  format: DatasetFormat;
  featureId: string;
  watermark: string;
  contentDigest: string;
  rows: { train: number; eval: number };
  classes: Record<string, number>;
  gates: Record<string, number>;
}

const TRL_TYPE: Record<DatasetFormat, string> = {
  'prompt-completion': 'prompt-completion (SFTTrainer)',
  preference: 'preference with explicit prompt (DPOTrainer, KTOTrainer)',
  'unpaired-preference': 'unpaired preference (KTOTrainer)',
  'prompt-only': 'prompt-only (on-policy distillation, GRPO, online DPO)',
};

export function datasetCard(c: CardInput): string {
  // An empty file cannot be typed by `datasets`; a split with no rows is left out of the configs.
  const files = [
    ...(c.rows.train > 0 ? ['  - split: train', '    path: train.jsonl'] : []),
    ...(c.rows.eval > 0 ? ['  - split: eval', '    path: eval.jsonl'] : []),
  ];
  const list = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([k, v]) => `| ${k} | ${v} |`)
      .join('\n') || '| (none) | 0 |';
  return [
    '---',
    'configs:',
    '- config_name: default',
    '  data_files:',
    ...files,
    'tags:',
    '- flywheel',
    '- trl',
    `- ${c.format}`,
    '---',
    '',
    `# ${c.name} v${c.version}`,
    '',
    `Built by Flywheel from implicit feedback on the feature \`${c.featureId}\`, from generations and`,
    `feedback stored up to ${c.watermark}. TRL type: ${TRL_TYPE[c.format]}; columns:`,
    `${FORMAT_COLUMNS[c.format].map((col) => `\`${col}\``).join(', ')}.`,
    '',
    `Content digest (SHA-256 over the files' digests): \`${c.contentDigest}\`.`,
    `Rebuilding this version from its definition and watermark (manifest.json) gives the same bytes.`,
    '',
    `Rows: ${c.rows.train} train, ${c.rows.eval} eval (split by unit, so one user's rows are all on one side).`,
    '',
    '| class | rows |',
    '| --- | --- |',
    list(c.classes),
    '',
    'Filters and quality gates (rows removed; `pii_scrubbed` counts rows changed, not removed):',
    '',
    '| gate | rows |',
    '| --- | --- |',
    list(c.gates),
    '',
  ].join('\n');
}
