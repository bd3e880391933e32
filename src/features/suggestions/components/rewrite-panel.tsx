'use client';

import { wordDiff } from '~/lib/word-diff';
import { MAX_REWRITE_SELECTION_CHARS } from '../limits';

export const REWRITE_INSTRUCTIONS = [
  { id: 'shorter', label: 'Shorter' },
  { id: 'more_formal', label: 'More formal' },
  { id: 'friendlier', label: 'Friendlier' },
  { id: 'fix_grammar', label: 'Fix grammar' },
] as const;
export type RewriteInstruction = (typeof REWRITE_INSTRUCTIONS)[number]['id'];

export interface RewriteProposal {
  original: string;
  text: string;
  done: boolean;
  generationId: string | null;
}

export function RewriteToolbar({
  onPick,
  selectedChars,
}: {
  onPick: (instruction: RewriteInstruction) => void;
  selectedChars: number;
}) {
  // Said before anything is sent: the server refuses longer selections.
  const tooLong = selectedChars > MAX_REWRITE_SELECTION_CHARS;
  return (
    <div className="space-y-1">
      <div role="toolbar" aria-label="Rewrite selection" className="flex flex-wrap gap-2">
        {REWRITE_INSTRUCTIONS.map((i) => (
          <button
            key={i.id}
            type="button"
            disabled={tooLong}
            onMouseDown={(e) => e.preventDefault() /* keep the editor's selection */}
            onClick={() => onPick(i.id)}
            className="rounded-full bg-indigo-50 px-3 py-1 text-sm text-indigo-700 ring-1 ring-indigo-200 hover:bg-indigo-100 disabled:opacity-50"
          >
            {i.label}
          </button>
        ))}
      </div>
      {tooLong && (
        <p role="status" className="text-sm text-slate-600" data-testid="selection-too-long">
          The selection is {selectedChars.toLocaleString('en')} characters; rewrite takes at most{' '}
          {MAX_REWRITE_SELECTION_CHARS.toLocaleString('en')}. Select less to rewrite it.
        </p>
      )}
    </div>
  );
}

export function RewritePanel({
  proposal,
  onAccept,
  onReject,
}: {
  proposal: RewriteProposal;
  onAccept: () => void;
  onReject: () => void;
}) {
  const nothing = proposal.done && !proposal.text.trim();
  return (
    <section
      aria-label="Rewrite proposal"
      className="rounded-lg bg-slate-50 p-4 ring-1 ring-slate-200"
    >
      <p className="mb-2 text-xs font-medium tracking-wide text-slate-500 uppercase">
        {proposal.done ? 'Proposed rewrite' : 'Rewriting…'}
      </p>
      {nothing ? (
        <p className="text-sm text-slate-600">No rewrite this time.</p>
      ) : (
        <p data-testid="rewrite-diff" className="leading-relaxed whitespace-pre-wrap">
          {wordDiff(proposal.original, proposal.text).map((part, i) =>
            part.kind === 'same' ? (
              <span key={i}>{part.text}</span>
            ) : part.kind === 'added' ? (
              <ins key={i} className="bg-emerald-100 text-emerald-900 no-underline">
                {part.text}
              </ins>
            ) : (
              <del key={i} className="bg-rose-100 text-rose-800">
                {part.text}
              </del>
            ),
          )}
        </p>
      )}
      <div className="mt-3 flex gap-2">
        <button
          type="button"
          onClick={onAccept}
          disabled={!proposal.done || nothing}
          className="rounded-md bg-indigo-600 px-3 py-1 text-sm font-medium text-white disabled:opacity-50"
        >
          Accept
        </button>
        <button
          type="button"
          onClick={onReject}
          className="rounded-md px-3 py-1 text-sm text-slate-700 ring-1 ring-slate-300"
        >
          {proposal.done ? 'Reject' : 'Cancel'}
        </button>
      </div>
    </section>
  );
}
