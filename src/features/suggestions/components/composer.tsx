'use client';

import { useRef, useState } from 'react';
import { RewritePanel, RewriteToolbar } from './rewrite-panel';
import { useFeedbackQueue, useUnitId } from './use-feedback-queue';
import { useRewrite } from './use-rewrite';
import { useSuggestionEditor } from './use-suggestion-editor';

/**
 * The end-user writing surface: a CodeMirror editor with inline ghost-text completion and rewrite
 * of a selection. Nothing here ever shows an error: a failed request is simply no suggestion.
 *
 * `captureText`: the feature's `trainingData` setting (read on the server by the page), so the
 * text users keep or type instead is reported only where the feature allows it.
 */
export function Composer({ captureText = false }: { captureText?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const unitId = useUnitId();
  const queue = useFeedbackQueue(unitId);
  const { session, announcement, selection } = useSuggestionEditor(host, {
    unitId,
    queue,
    captureText,
  });
  const { proposal, rewrite, decide } = useRewrite(session);
  const [status, setStatus] = useState('');

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
          onPick={(i) => void rewrite(i, selection)}
          selectedChars={selection.to - selection.from}
        />
      )}
      {proposal && (
        <RewritePanel
          proposal={proposal}
          onAccept={() => decide(true)}
          onReject={() => decide(false)}
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
