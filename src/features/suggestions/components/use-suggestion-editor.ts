'use client';

import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, placeholder } from '@codemirror/view';
import { useEffect, useRef, useState, type RefObject } from 'react';
import { completionRequester } from './complete-request';
import type { FeedbackQueue } from './feedback-queue';
import { activeSuggestion, ghostState, ghostText, type EndedSuggestion } from './ghost-text';
import { InlineCompletion } from './inline-completion';
import { SuggestionLifecycle } from './suggestion-lifecycle';

const editorTheme = EditorView.theme({
  '&': { minHeight: '16rem', fontSize: '1rem' },
  '.cm-scroller': { fontFamily: 'inherit' },
  '.cm-content': { fontFamily: 'inherit', lineHeight: '1.6', padding: '0.75rem' },
  '&.cm-focused': { outline: 'none' },
});

/** What the rest of the page works with while the editor lives. */
export interface EditorSession {
  view: EditorView;
  unitId: string;
  queue: FeedbackQueue;
  lifecycle: SuggestionLifecycle;
}

export interface SuggestionEditor {
  session: RefObject<EditorSession | null>;
  /** For screen readers: the suggestion shown, or that it was accepted. */
  announcement: string;
  /** The selected range, or null for a bare cursor. */
  selection: { from: number; to: number } | null;
}

/**
 * The CodeMirror editor in `host` with inline ghost-text completion: debounced requests, the
 * suggestion lifecycle (shown, decided, retained) reported to `queue`, and the decisions still
 * waiting sent by beacon when the page is hidden.
 */
export function useSuggestionEditor(
  host: RefObject<HTMLDivElement | null>,
  {
    unitId,
    queue,
    captureText,
  }: { unitId: string | null; queue: FeedbackQueue | null; captureText: boolean },
): SuggestionEditor {
  const session = useRef<EditorSession | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [selection, setSelection] = useState<{ from: number; to: number } | null>(null);

  useEffect(() => {
    if (!host.current || !queue || unitId === null) return;
    let view: EditorView | null = null;
    const lifecycle = new SuggestionLifecycle({
      report: (event) => queue.add(event),
      textAt: (span) => view?.state.sliceDoc(span.from, span.to) ?? '',
      captureText,
    });
    const completion = new InlineCompletion(
      completionRequester('inline-completion', unitId),
      (generationId, responseAt) => {
        const active = view && activeSuggestion(view.state);
        if (active?.generationId !== generationId) return;
        lifecycle.painted(generationId, responseAt);
        setAnnouncement(`Suggestion: ${active.text}. Press Tab to accept, Escape to dismiss.`);
      },
    );
    view = new EditorView({
      parent: host.current,
      state: EditorState.create({
        extensions: [
          history(),
          ghostText,
          keymap.of([...defaultKeymap, ...historyKeymap]),
          placeholder('Start writing…'),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({
            'aria-label': 'Message',
            'aria-multiline': 'true',
            'data-testid': 'editor',
          }),
          editorTheme,
          EditorView.updateListener.of((update) => {
            if (update.docChanged)
              lifecycle.mapSpans((pos, assoc) => update.changes.mapPos(pos, assoc));
            const ended: EndedSuggestion | null = update.state.field(ghostState).ended;
            if (ended && ended !== update.startState.field(ghostState).ended) {
              const span = ended.acceptedSpan;
              lifecycle.ended(ended, span ? update.state.sliceDoc(span.from, span.to) : null);
              setAnnouncement(ended.outcome.startsWith('accepted') ? 'Suggestion accepted.' : '');
            }
            completion.onUpdate(update);
            if (update.selectionSet || update.docChanged) {
              const main = update.state.selection.main;
              setSelection(main.empty ? null : { from: main.from, to: main.to });
            }
          }),
        ],
      }),
    });
    session.current = { view, unitId, queue, lifecycle };
    const onHide = () => {
      if (document.visibilityState !== 'hidden') return;
      lifecycle.flushPending(); // decisions still waiting for the text typed instead
      queue.flushWithBeacon();
    };
    document.addEventListener('visibilitychange', onHide);
    window.addEventListener('pagehide', onHide);
    return () => {
      document.removeEventListener('visibilitychange', onHide);
      window.removeEventListener('pagehide', onHide);
      completion.cancel();
      lifecycle.dispose();
      view?.destroy();
      session.current = null;
    };
  }, [host, queue, unitId, captureText]);

  return { session, announcement, selection };
}
