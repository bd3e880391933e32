import {
  Annotation,
  Prec,
  StateEffect,
  StateField,
  Transaction,
  type EditorState,
  type TransactionSpec,
} from '@codemirror/state';
import { Decoration, EditorView, keymap, WidgetType, type DecorationSet } from '@codemirror/view';

/** A suggestion shown as ghost text at `pos` (the cursor when it arrived). */
export interface Suggestion {
  generationId: string | null;
  tier: string;
  pos: number;
  /** What is still suggested (shrinks as the user types through or accepts word by word). */
  text: string;
  /** The full suggestion as received. */
  original: string;
  acceptedChars: number;
  typedChars: number;
  /** Document position where the first accepted piece begins (word-by-word accepts extend it). */
  acceptStart: number | null;
}

export type Outcome = 'accepted' | 'accepted_partial' | 'dismissed' | 'ignored' | 'typed_through';

export interface EndedSuggestion {
  suggestion: Suggestion;
  outcome: Outcome;
  /** Where the accepted text sits in the document after the accept, for retention tracking. */
  acceptedSpan: { from: number; to: number } | null;
}

interface GhostState {
  active: Suggestion | null;
  ended: EndedSuggestion | null;
}

export const showSuggestion =
  StateEffect.define<Pick<Suggestion, 'generationId' | 'tier' | 'pos' | 'original'>>();
const endSuggestion = StateEffect.define<{ outcome: Outcome; final?: Suggestion }>();
const keepSuggestion = StateEffect.define<Suggestion>();
/** Marks our own edits (accepts) so the change listener does not treat them as typing. */
export const suggestionEdit = Annotation.define<boolean>();

/** Ends the suggestion; once a word of it was accepted, the outcome is an accept (whole or partial). */
function end(
  active: Suggestion,
  how: Outcome,
  mapPos: (pos: number, assoc: number) => number = (p) => p,
): GhostState {
  const someAccepted = active.acceptedChars > 0;
  const outcome: Outcome = !someAccepted
    ? how
    : how === 'accepted' || how === 'typed_through'
      ? 'accepted'
      : 'accepted_partial';
  const acceptedSpan =
    active.acceptStart === null
      ? null
      : { from: mapPos(active.acceptStart, 1), to: mapPos(active.pos, -1) };
  return { active: null, ended: { suggestion: active, outcome, acceptedSpan } };
}

/** The user typed: the same characters keep the suggestion (type-through), anything else drops it. */
function afterTyping(active: Suggestion, tr: Transaction): GhostState {
  let typed: string | null = null;
  let simpleInsert = true;
  tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    if (typed !== null || fromA !== active.pos || toA !== fromA) simpleInsert = false;
    else typed = inserted.toString();
  });
  const text: string = typed ?? '';
  if (!simpleInsert || !text || !active.text.startsWith(text)) {
    return end(active, 'ignored', (pos, assoc) => tr.changes.mapPos(pos, assoc));
  }
  const next = {
    ...active,
    pos: active.pos + text.length,
    text: active.text.slice(text.length),
    typedChars: active.typedChars + text.length,
  };
  if (next.text.length === 0) return end(next, 'typed_through');
  return { active: next, ended: null };
}

export const ghostState = StateField.define<GhostState>({
  create: () => ({ active: null, ended: null }),
  update(value, tr) {
    for (const effect of tr.effects) {
      if (effect.is(showSuggestion)) {
        const superseded = value.active ? end(value.active, 'ignored').ended : null;
        return {
          active: {
            ...effect.value,
            text: effect.value.original,
            acceptedChars: 0,
            typedChars: 0,
            acceptStart: null,
          },
          ended: superseded,
        };
      }
      if (effect.is(endSuggestion) && value.active)
        return end(effect.value.final ?? value.active, effect.value.outcome);
      if (effect.is(keepSuggestion)) return { active: effect.value, ended: null };
    }
    const active = value.active;
    if (!active) return value.ended ? { active: null, ended: null } : value;
    if (tr.docChanged && !tr.annotation(suggestionEdit)) return afterTyping(active, tr);
    if (tr.docChanged) {
      const acceptStart =
        active.acceptStart === null ? null : tr.changes.mapPos(active.acceptStart, 1);
      return {
        active: { ...active, pos: tr.changes.mapPos(active.pos), acceptStart },
        ended: null,
      };
    }
    const head = tr.state.selection.main;
    if (tr.selection && (!head.empty || head.head !== active.pos)) return end(active, 'ignored');
    return value.ended ? { active, ended: null } : value;
  },
  provide: (field) =>
    EditorView.decorations.from(field, (state): DecorationSet =>
      state.active
        ? Decoration.set([
            Decoration.widget({
              widget: new GhostWidget(state.active.text, state.active.generationId),
              side: 1,
            }).range(state.active.pos),
          ])
        : Decoration.none,
    ),
});

class GhostWidget extends WidgetType {
  constructor(
    readonly text: string,
    readonly generationId: string | null,
  ) {
    super();
  }
  override eq(other: GhostWidget) {
    return other.text === this.text && other.generationId === this.generationId;
  }
  toDOM() {
    const span = document.createElement('span');
    span.className = 'cm-ghost-text';
    span.setAttribute('aria-hidden', 'true');
    span.dataset.testid = 'ghost-text';
    if (this.generationId) span.dataset.generationId = this.generationId;
    span.textContent = this.text;
    return span;
  }
  override ignoreEvent() {
    return false;
  }
}

/** The transaction that accepts the whole suggestion or its next word; null when none shows. */
export function acceptSpec(state: EditorState, part: 'all' | 'word'): TransactionSpec | null {
  const active = state.field(ghostState).active;
  if (!active) return null;
  const piece = part === 'all' ? active.text : (/^\s*\S+/.exec(active.text)?.[0] ?? active.text);
  const rest = active.text.slice(piece.length);
  // Positions after this transaction: the piece is inserted at active.pos.
  const next: Suggestion = {
    ...active,
    pos: active.pos + piece.length,
    text: rest,
    acceptedChars: active.acceptedChars + piece.length,
    acceptStart: active.acceptStart ?? active.pos,
  };
  return {
    changes: { from: active.pos, insert: piece },
    selection: { anchor: next.pos },
    annotations: [suggestionEdit.of(true), Transaction.userEvent.of('input.complete')],
    effects: rest
      ? keepSuggestion.of(next)
      : endSuggestion.of({ outcome: 'accepted', final: next }),
  };
}

export function dismissSpec(state: EditorState): TransactionSpec | null {
  return state.field(ghostState).active
    ? { effects: endSuggestion.of({ outcome: 'dismissed' }) }
    : null;
}

const run = (spec: (state: EditorState) => TransactionSpec | null) => (view: EditorView) => {
  const tr = spec(view.state);
  if (tr) view.dispatch(tr);
  return tr !== null;
};

/** Tab accepts all, Ctrl/Cmd+→ accepts the next word, Esc dismisses. Only while a suggestion shows. */
export const ghostTextKeymap = Prec.highest(
  keymap.of([
    { key: 'Tab', run: run((state) => acceptSpec(state, 'all')) },
    { key: 'Mod-ArrowRight', run: run((state) => acceptSpec(state, 'word')) },
    { key: 'Escape', run: run(dismissSpec) },
  ]),
);

export const ghostTextTheme = EditorView.baseTheme({
  '.cm-ghost-text': { color: '#94a3b8', pointerEvents: 'none' },
});

export const ghostText = [ghostState, ghostTextKeymap, ghostTextTheme];

export function activeSuggestion(state: EditorState): Suggestion | null {
  return state.field(ghostState).active;
}
