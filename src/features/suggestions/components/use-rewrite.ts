'use client';

import { useEffect, useRef, useState, type RefObject } from 'react';
import { REWRITE_STREAM_PATH } from '../rewrite-events';
import type { EndedSuggestion } from './ghost-text';
import type { RewriteInstruction, RewriteProposal } from './rewrite-panel';
import { readRewriteStream } from './rewrite-stream';
import type { EditorSession } from './use-suggestion-editor';

export type PlacedProposal = RewriteProposal & { from: number; to: number; responseAt: number };

/**
 * A rewrite decision in the lifecycle's terms: the ghost-text lifecycle reports outcomes of a
 * suggestion, so the rewrite is described as one (tier `rewrite`, the proposal as its text).
 */
export function rewriteDecision(
  proposal: PlacedProposal & { generationId: string },
  accepted: boolean,
  end: number,
): EndedSuggestion {
  return {
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
  };
}

/**
 * Rewrite of the selection: the request and its stream (a newer request, a decision or leaving
 * the page aborts it), the proposal as it grows, and the decision, after which the caret is back
 * in the editor after the text.
 */
export function useRewrite(session: RefObject<EditorSession | null>) {
  const inFlight = useRef<AbortController | null>(null);
  const [proposal, setProposal] = useState<PlacedProposal | null>(null);

  // A rewrite in flight ends with the page.
  useEffect(() => () => inFlight.current?.abort(), []);

  async function rewrite(
    instruction: RewriteInstruction,
    { from, to }: { from: number; to: number },
  ) {
    const s = session.current;
    if (!s) return;
    const state = s.view.state;
    const original = state.sliceDoc(from, to);
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
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

  function decide(accept: boolean) {
    const s = session.current;
    inFlight.current?.abort();
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
      if (proposal.generationId)
        s.lifecycle.ended(
          rewriteDecision({ ...proposal, generationId: proposal.generationId }, accepted, end),
          accepted ? proposal.text : null,
        );
    }
    setProposal(null);
  }

  return { proposal, rewrite, decide };
}
