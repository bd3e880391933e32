/**
 * Tokenizer and chat template of a model version, via @huggingface/transformers (loaded from
 * the version's folder, never from a hub).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { env, PreTrainedTokenizer } from '@huggingface/transformers';
import type { ModelVersion } from './repository';

env.allowRemoteModels = false;

export interface ChatMessage {
  role: string;
  content: string;
}

export class ModelTokenizer {
  private constructor(
    private readonly tokenizer: PreTrainedTokenizer,
    readonly chatTemplate: string | null,
    readonly eosTokenIds: number[],
  ) {}

  static load(model: ModelVersion): ModelTokenizer {
    const json: unknown = JSON.parse(readFileSync(path.join(model.dir, 'tokenizer.json'), 'utf8'));
    const configPath = path.join(model.dir, 'tokenizer_config.json');
    const tokenizerConfig = existsSync(configPath)
      ? (JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>)
      : {};
    const chatTemplate =
      model.config.chatTemplate ??
      (typeof tokenizerConfig.chat_template === 'string' ? tokenizerConfig.chat_template : null);
    const tokenizer = new PreTrainedTokenizer(json, {
      ...tokenizerConfig,
      chat_template: chatTemplate,
    });
    const eos = new Set(model.config.eosTokenIds);
    if (eos.size === 0 && typeof tokenizer.eos_token_id === 'number')
      eos.add(tokenizer.eos_token_id);
    return new ModelTokenizer(tokenizer, chatTemplate, [...eos]);
  }

  encode(text: string, addSpecialTokens = true): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens });
  }

  /** Text of `ids`; special tokens are dropped unless `keepSpecial` (an echoed prompt's text). */
  decode(ids: readonly number[], keepSpecial = false): string {
    // transformers.js throws on an empty list (a generation of no tokens, max_tokens 0).
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], { skip_special_tokens: !keepSpecial });
  }

  /** Text of one token as it appears in logprobs (special tokens kept). */
  tokenText(id: number): string {
    return this.tokenizer.decode([id], { skip_special_tokens: false });
  }

  /** Renders messages with the model's chat template and an assistant generation prompt. */
  renderChat(messages: readonly ChatMessage[]): string {
    if (!this.chatTemplate) throw new Error('this model has no chat_template');
    return this.tokenizer.apply_chat_template([...messages], {
      tokenize: false,
      add_generation_prompt: true,
      chat_template: this.chatTemplate,
    });
  }
}
