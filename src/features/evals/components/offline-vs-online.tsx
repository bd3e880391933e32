'use client';

import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useTRPC } from '~/trpc/client';
import { num, pct } from './eval-run-row';

/** Each version's latest offline scores beside its online acceptance and ARC (dashboards' rollups). */
export function OfflineVsOnline({ succeeded }: { succeeded: number }) {
  const trpc = useTRPC();
  const comparison = useQuery(trpc.evals.comparison.queryOptions());
  const { refetch } = comparison;
  // A run that just succeeded brings its version's latest scores.
  useEffect(() => {
    void refetch();
  }, [succeeded, refetch]);
  const rows = comparison.data?.rows ?? [];
  return (
    <section>
      <h2 className="mb-2 text-sm font-semibold text-slate-700">
        Offline vs online (online: last {comparison.data?.days ?? 30} days)
      </h2>
      {rows.length === 0 ? (
        <p className="text-sm text-slate-500">
          A version appears here once one of its evals has succeeded.
        </p>
      ) : (
        <table className="w-full text-left text-sm" data-testid="offline-vs-online">
          <thead className="text-xs text-slate-500">
            <tr>
              <th className="py-1">Feature</th>
              <th>Version</th>
              <th>Exact (offline)</th>
              <th>chrF (offline)</th>
              <th>Log-lik/token (offline)</th>
              <th>Shown (online)</th>
              <th>Acceptance (online)</th>
              <th>ARC 2 min (online)</th>
              <th>Chars / opportunity (online)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.featureId}-${r.model.id}`} className="border-t border-slate-100">
                <td className="py-2">{r.featureId}</td>
                <td className="py-2 font-medium">{r.model.label}</td>
                <td className="py-2">{pct(r.offline?.exactMatch.rate)}</td>
                <td className="py-2">{num(r.offline?.chrf.mean, 1)}</td>
                <td className="py-2">
                  {r.offline?.logLikelihood.available
                    ? num(r.offline.logLikelihood.perToken.mean, 3)
                    : 'n/a'}
                </td>
                {r.online ? (
                  <>
                    <td className="py-2">{r.online.shown}</td>
                    <td className="py-2" data-testid="online-acceptance">
                      {pct(r.online.acceptance)}
                    </td>
                    <td className="py-2">{num(r.online.arc2m, 0)}</td>
                    <td className="py-2">{num(r.online.charsPerOpportunity, 2)}</td>
                  </>
                ) : (
                  <td colSpan={4} className="py-2 text-slate-500">
                    no online traffic in range
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
