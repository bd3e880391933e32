'use client';

import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, placeholder } from '@codemirror/view';
import { useEffect, useRef, useState } from 'react';
import { FEEDBACK_BEACON_PATH } from '~/features/feedback/events';
import { useTRPCClient } from '~/trpc/client';
import { FeedbackQueue, type FeedbackBatch } from './feedback-queue';
import { activeSuggestion, ghostState, ghostText, type EndedSuggestion } from './ghost-text';
import { InlineCompletion } from './inline-completion';
import {
  RewritePanel,
  RewriteToolbar,
  type RewriteInstruction,
  type RewriteProposal,
} from './rewrite-panel';
import { REWRITE_STREAM_PATH } from '../rewrite-events';
import { readRewriteStream } from './rewrite-stream';
import { SuggestionLifecycle } from './suggestion-lifecycle';
import { browserUnitId } from './unit-id';

const editorTheme = EditorView.theme({
  '&': { minHeight: '16rem', fontSize: '1rem' },
  '.cm-scroller': { fontFamily: 'inherit' },
  '.cm-content': { fontFamily: 'inherit', lineHeight: '1.6', padding: '0.75rem' },
  '&.cm-focused': { outline: 'none' },
});

interface Session {
  view: EditorView;
  unitId: string;
  queue: FeedbackQueue;
  lifecycle: SuggestionLifecycle;
  completion: InlineCompletion;
}

/**
 * The end-user writing surface: a CodeMirror editor with inline ghost-text completion and rewrite
 * of a selection. Nothing here ever shows an error: a failed request is simply no suggestion.
 */
/**
 * `captureText`: the feature's `trainingData` setting (read on the server by the page), so the
 * text users keep or type instead is reported only where the feature allows it.
 */
export function Composer({ captureText = false }: { captureText?: boolean }) {
  const client = useTRPCClient();
  const host = useRef<HTMLDivElement>(null);
  const session = useRef<Session | null>(null);
  const rewriteAbort = useRef<AbortController | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [selection, setSelection] = useState<{ from: number; to: number } | null>(null);
  const [proposal, setProposal] = useState<
    (RewriteProposal & { from: number; to: number; responseAt: number }) | null
  >(null);
  const [status, setStatus] = useState('');

  useEffect(() => {
    if (!host.current) return;
    const unitId = browserUnitId();
    const queue = new FeedbackQueue(
      unitId,
      async (batch: FeedbackBatch) => {
        await client.feedback.ingest.mutate(batch);
      },
      (batch) =>
        navigator.sendBeacon(
          FEEDBACK_BEACON_PATH,
          new Blob([JSON.stringify({ json: batch })], { type: 'application/json' }),
        ),
    );
    let view: EditorView | null = null;
    const lifecycle = new SuggestionLifecycle({
      report: (event) => queue.add(event),
      textAt: (span) => view?.state.sliceDoc(span.from, span.to) ?? '',
      captureText,
    });
    const completion = new InlineCompletion(
      (input, signal) =>
        client.suggestions.complete.mutate(
          { featureId: 'inline-completion', unitId, ...input },
          { signal },
        ),
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
    session.current = { view, unitId, queue, lifecycle, completion };
    queue.start();
    void queue.flush(); // what a previous page left behind
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
      rewriteAbort.current?.abort(); // a rewrite in flight ends with the page
      completion.cancel();
      lifecycle.dispose();
      queue.stop();
      view?.destroy();
      session.current = null;
    };
  }, [client, captureText]);

  async function rewrite(instruction: RewriteInstruction) {
    const s = session.current;
    if (!s || !selection) return;
    const { from, to } = selection;
    const state = s.view.state;
    const original = state.sliceDoc(from, to);
    rewriteAbort.current?.abort();
    const controller = new AbortController();
    rewriteAbort.current = controller;
    setProposal({ original, text: '', done: false, generationId: null, from, to, responseAt: 0 });
    try {
      const response = await fetch(REWRITE_STREAM_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        signal: controller.signal,
        body: JSON.stringify({
          featureId: 'rewrite',
          unitId: s.unitId,
          instruction,
          selection: original,
          before: state.sliceDoc(Math.max(0, from - 1000), from),
          after: state.sliceDoc(to, to + 500),
        }),
      });
      await readRewriteStream(response, (event) => {
        if (event.type === 'delta') setProposal((p) => p && { ...p, text: p.text + event.text });
        else if (event.type === 'reset') setProposal((p) => p && { ...p, text: '' });
        else {
          setProposal(
            (p) =>
              p && {
                ...p,
                text: event.text,
                done: true,
                generationId: event.generationId,
                responseAt: performance.now(),
              },
          );
          if (event.generationId && event.text.trim())
            s.lifecycle.painted(event.generationId, performance.now());
        }
      });
    } catch {
      if (!controller.signal.aborted) setProposal((p) => p && { ...p, text: '', done: true });
    }
  }

  function decideRewrite(accept: boolean) {
    const s = session.current;
    rewriteAbort.current?.abort();
    if (s && proposal) {
      const unchanged = s.view.state.sliceDoc(proposal.from, proposal.to) === proposal.original;
      const accepted = accept && unchanged && proposal.text !== '';
      const end = accepted
        ? proposal.from + proposal.text.length
        : Math.min(proposal.to, s.view.state.doc.length);
      // Back to the editor with the caret after the text: the next keystroke lands there and a
      // paste no longer replaces the selection the rewrite was asked for.
      s.view.dispatch({
        ...(accepted
          ? { changes: { from: proposal.from, to: proposal.to, insert: proposal.text } }
          : {}),
        selection: { anchor: end },
      });
      s.view.focus();
      if (proposal.generationId) {
        s.lifecycle.ended(
          {
            outcome: accepted ? 'accepted' : 'dismissed',
            acceptedSpan: accepted ? { from: proposal.from, to: end } : null,
            suggestion: {
              generationId: proposal.generationId,
              tier: 'rewrite',
              pos: proposal.from,
              text: '',
              original: proposal.text,
              acceptedChars: accepted ? proposal.text.length : 0,
              typedChars: 0,
              acceptStart: accepted ? proposal.from : null,
            },
          },
          accepted ? proposal.text : null,
        );
      }
    }
    setProposal(null);
  }

  function send() {
    const s = session.current;
    if (!s) return;
    s.lifecycle.submitted();
    void s.queue.flush();
    s.view.dispatch({ changes: { from: 0, to: s.view.state.doc.length, insert: '' } });
    setStatus('Sent.');
  }

  return (
    <div className="space-y-3">
      <div
        className="rounded-md border border-slate-300 focus-within:border-indigo-500"
        ref={host}
      />
      <div role="status" aria-live="polite" className="sr-only" data-testid="suggestion-announcer">
        {announcement}
      </div>
      {selection && !proposal && (
        <RewriteToolbar
          onPick={(i) => void rewrite(i)}
          selectedChars={selection.to - selection.from}
        />
      )}
      {proposal && (
        <RewritePanel
          proposal={proposal}
          onAccept={() => decideRewrite(true)}
          onReject={() => decideRewrite(false)}
        />
      )}
      <div className="flex items-center gap-3">
        <button
          type="button"
          onClick={send}
          className="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500"
        >
          Send
        </button>
        <span role="status" className="text-sm text-slate-600">
          {status}
        </span>
        <span className="ml-auto text-xs text-slate-500">
          Tab accepts · Ctrl/⌘+→ accepts a word · Esc dismisses
        </span>
      </div>
    </div>
  );
}
