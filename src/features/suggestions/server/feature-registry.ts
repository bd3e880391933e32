/**
 * AI features are declared here, in code, reviewed like code; `syncFeatures` mirrors them to the
 * Feature table (with a hash of the declaration) so reports can join on them.
 */
import { createHash } from 'node:crypto';
import { NotFoundError } from '~/server/errors';
import { NGRAM_CORPUS } from './ngram-corpus';

export type FeatureTask = 'completion' | 'rewrite';
export type RedactionPolicy = 'none' | 'mask-emails-numbers' | 'hash' | 'drop-prompt';
/** `model:<name>` (latest version of that model), `ngram` (prompt lookup) or `none` (silence). */
export type FallbackStep = `model:${string}` | 'ngram' | 'none';

export const REWRITE_INSTRUCTIONS = [
  'shorter',
  'more_formal',
  'friendlier',
  'fix_grammar',
] as const;
export type RewriteInstruction = (typeof REWRITE_INSTRUCTIONS)[number];

export interface FeatureDeclaration {
  id: string;
  task: FeatureTask;
  description: string;
  /** `{{name}}` placeholders: textBefore, textAfter, selection, instruction, before, after. */
  promptTemplate: string;
  /** Prompt variables are cut to this many characters (the nearest ones kept) to fit the context. */
  maxContextChars: number;
  /** Tokens generated at most; for a rewrite, a cap on selection-based sizing. */
  maxTokens: number;
  stop: string[];
  /** End the suggestion after the first sentence end (the stream is cut there). */
  stopAtSentenceEnd: boolean;
  temperature: number;
  /** Whole request, fallbacks included; after it only instant tiers (n-gram, none) answer. */
  latencyBudgetMs: number;
  fallbackChain: FallbackStep[];
  redaction: RedactionPolicy;
  /**
   * Whether what users write may become training data: the browser then reports the text kept or
   * typed at a suggestion's place, and datasets may be built from the feature. Absent means off.
   */
  trainingData?: boolean;
  /** Text the n-gram tier searches after the user's own text. */
  ngramCorpus: string;
}

const INSTRUCTION_TEXT: Record<RewriteInstruction, string> = {
  shorter: 'Make it shorter',
  more_formal: 'Make it more formal',
  friendlier: 'Make it friendlier',
  fix_grammar: 'Fix the grammar and spelling',
};
export const instructionText = (i: RewriteInstruction) => INSTRUCTION_TEXT[i];

export const FEATURES = {
  'inline-completion': {
    id: 'inline-completion',
    task: 'completion',
    description: 'Ghost-text continuation of what the user is typing.',
    // The demo models are plain language models: the text before the cursor is the prompt.
    promptTemplate: '{{textBefore}}',
    // The demo models have a 256-token context; ~600 characters leave room for the answer.
    maxContextChars: 600,
    maxTokens: 12,
    stop: ['\n'],
    stopAtSentenceEnd: true,
    temperature: 0,
    latencyBudgetMs: 300,
    fallbackChain: ['model:flywheel-teacher', 'model:flywheel-student', 'ngram', 'none'],
    redaction: 'mask-emails-numbers',
    trainingData: true,
    ngramCorpus: NGRAM_CORPUS,
  },
  rewrite: {
    id: 'rewrite',
    task: 'rewrite',
    description:
      'Rewrites a selection (shorter, more formal, friendlier, fixed grammar); streamed.',
    promptTemplate: '{{before}}\n\n{{instruction}}:\n"{{selection}}"\nRewritten:\n"',
    maxContextChars: 300,
    maxTokens: 200,
    stop: ['"\n', '\n\n'],
    stopAtSentenceEnd: false,
    temperature: 0.3,
    latencyBudgetMs: 8000,
    // A rewrite has no model-free answer worth showing: after the models, silence.
    fallbackChain: ['model:flywheel-teacher', 'model:flywheel-student', 'none'],
    redaction: 'mask-emails-numbers',
    trainingData: true,
    ngramCorpus: '',
  },
} as const satisfies Record<string, FeatureDeclaration>;

export type FeatureId = keyof typeof FEATURES;
export const FEATURE_IDS = Object.keys(FEATURES) as FeatureId[];

export function getFeature(id: string): FeatureDeclaration {
  const feature = (FEATURES as Record<string, FeatureDeclaration>)[id];
  if (!feature) throw new NotFoundError(`Feature "${id}"`);
  return feature;
}

/**
 * Tokens for a rewrite: 1.5× the selection (the demo tokenizer averages ≈ 3 characters a token)
 * plus room for what an instruction adds (a friendlier opener and closer), within the feature's
 * cap. The model ends its answer with the closing quote, so a generous cap costs nothing.
 */
export function rewriteMaxTokens(feature: FeatureDeclaration, selection: string): number {
  return Math.min(feature.maxTokens, Math.ceil((selection.length / 3) * 1.5) + 24);
}

/** The declaration as stored (the corpus by digest: it is large and lives in code). */
export function featureConfig(feature: FeatureDeclaration) {
  const { ngramCorpus, ...rest } = feature;
  const corpusDigest = createHash('sha256').update(ngramCorpus).digest('hex');
  return { ...rest, ngramCorpus: { chars: ngramCorpus.length, sha256: corpusDigest } };
}

export function featureConfigHash(feature: FeatureDeclaration): string {
  return createHash('sha256')
    .update(JSON.stringify(featureConfig(feature)))
    .digest('hex');
}

/** Model names in a feature's chain, in order (`model:x` → `x`). */
export function chainModels(feature: FeatureDeclaration): string[] {
  return feature.fallbackChain.flatMap((s) => (s.startsWith('model:') ? [s.slice(6)] : []));
}

/**
 * Renders the template; each variable is cut to `maxContextChars`, keeping the characters
 * nearest the cursor (the end of text before it, the start of text after it).
 */
export function renderPrompt(feature: FeatureDeclaration, vars: Record<string, string>): string {
  const max = feature.maxContextChars;
  return feature.promptTemplate.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = vars[name] ?? '';
    if (name === 'selection' || value.length <= max) return value;
    return name === 'textAfter' || name === 'after' ? value.slice(0, max) : value.slice(-max);
  });
}
