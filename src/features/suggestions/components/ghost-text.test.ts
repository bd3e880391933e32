import { EditorSelection, EditorState } from '@codemirror/state';
import { describe, expect, it } from 'vitest';
import { acceptSpec, dismissSpec, ghostState, showSuggestion } from './ghost-text';

function withSuggestion(doc: string, original: string) {
  const state = EditorState.create({
    doc,
    selection: EditorSelection.cursor(doc.length),
    extensions: [ghostState],
  });
  return state.update({
    effects: showSuggestion.of({ generationId: 'g1', tier: 'primary', pos: doc.length, original }),
  }).state;
}
const type = (state: EditorState, text: string) => {
  const pos = state.selection.main.head;
  return state.update({
    changes: { from: pos, insert: text },
    selection: { anchor: pos + text.length },
    userEvent: 'input.type',
  }).state;
};
const ghost = (state: EditorState) => state.field(ghostState);

describe('ghost text', () => {
  it('accepts the whole suggestion with its span', () => {
    const state = withSuggestion('See you ', 'tomorrow morning');
    const after = state.update(acceptSpec(state, 'all')!).state;
    expect(after.doc.toString()).toBe('See you tomorrow morning');
    expect(ghost(after).ended).toMatchObject({
      outcome: 'accepted',
      acceptedSpan: { from: 8, to: 24 },
    });
  });

  it('accepts word by word, then the rest', () => {
    let state = withSuggestion('See you ', 'tomorrow morning');
    state = state.update(acceptSpec(state, 'word')!).state;
    expect(state.doc.toString()).toBe('See you tomorrow');
    expect(ghost(state).active?.text).toBe(' morning');
    state = state.update(acceptSpec(state, 'all')!).state;
    expect(ghost(state).ended).toMatchObject({
      outcome: 'accepted',
      acceptedSpan: { from: 8, to: 24 },
    });
  });

  it('reports a partial accept when the rest is dismissed', () => {
    let state = withSuggestion('See you ', 'tomorrow morning');
    state = state.update(acceptSpec(state, 'word')!).state;
    state = state.update(dismissSpec(state)!).state;
    expect(ghost(state).ended).toMatchObject({
      outcome: 'accepted_partial',
      suggestion: { acceptedChars: 8 },
      acceptedSpan: { from: 8, to: 16 },
    });
  });

  it('keeps the suggestion while the user types the same characters', () => {
    let state = withSuggestion('See you ', 'soon');
    state = type(state, 'so');
    expect(ghost(state).active).toMatchObject({ text: 'on', pos: 10, typedChars: 2 });
    state = type(state, 'on');
    expect(ghost(state).ended?.outcome).toBe('typed_through');
  });

  it('drops the suggestion when the user types something else', () => {
    let state = withSuggestion('See you ', 'soon');
    state = type(state, 'l');
    expect(ghost(state).active).toBeNull();
    expect(ghost(state).ended?.outcome).toBe('ignored');
  });

  it('dismisses with Esc and ignores a superseded or abandoned suggestion', () => {
    let state = withSuggestion('Hi ', 'there');
    state = state.update(dismissSpec(state)!).state;
    expect(ghost(state).ended?.outcome).toBe('dismissed');
    expect(dismissSpec(state)).toBeNull();

    state = withSuggestion('Hi ', 'there');
    state = state.update({
      effects: showSuggestion.of({ generationId: 'g2', tier: 'ngram', pos: 3, original: 'you' }),
    }).state;
    expect(ghost(state).ended).toMatchObject({
      outcome: 'ignored',
      suggestion: { generationId: 'g1' },
    });
    state = state.update({ selection: { anchor: 0 } }).state;
    expect(ghost(state).ended).toMatchObject({
      outcome: 'ignored',
      suggestion: { generationId: 'g2' },
    });
  });
});
