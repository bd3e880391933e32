'use client';

import { useEffect, useMemo, useState } from 'react';
import { FEEDBACK_BEACON_PATH } from '~/features/feedback/events';
import { useTRPCClient } from '~/trpc/client';
import { FeedbackQueue, type FeedbackBatch } from './feedback-queue';
import { browserUnitId } from './unit-id';

/** This browser's unit id; null while rendering on the server (it lives in localStorage). */
export function useUnitId(): string | null {
  const [unitId] = useState(() => (typeof window === 'undefined' ? null : browserUnitId()));
  return unitId;
}

const sendBeacon = (batch: FeedbackBatch) =>
  navigator.sendBeacon(
    FEEDBACK_BEACON_PATH,
    new Blob([JSON.stringify({ json: batch })], { type: 'application/json' }),
  );

/**
 * The page's feedback queue: sent over tRPC every few seconds (and what a previous page left
 * behind, at once), and by beacon when the page is hidden (`flushWithBeacon`, called by the
 * editor, which first reports the decisions still waiting).
 */
export function useFeedbackQueue(unitId: string | null): FeedbackQueue | null {
  const client = useTRPCClient();
  const queue = useMemo(
    () =>
      unitId === null
        ? null
        : new FeedbackQueue(
            unitId,
            async (batch) => {
              await client.feedback.ingest.mutate(batch);
            },
            sendBeacon,
          ),
    [client, unitId],
  );
  useEffect(() => {
    if (!queue) return;
    queue.start();
    void queue.flush(); // what a previous page left behind
    return () => queue.stop();
  }, [queue]);
  return queue;
}
