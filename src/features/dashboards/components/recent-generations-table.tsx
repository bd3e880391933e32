'use client';

import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '~/trpc/client';

export function RecentGenerationsTable() {
  const trpc = useTRPC();
  const { data } = useQuery({
    ...trpc.dashboards.recentGenerations.queryOptions({ limit: 50 }),
    refetchInterval: 5000,
  });
  return (
    <table
      className="w-full bg-white text-left text-sm ring-1 ring-slate-200"
      aria-label="Recent suggestions"
    >
      <thead className="bg-slate-50 text-slate-600">
        <tr>
          <th className="p-2">When</th>
          <th className="p-2">Feature</th>
          <th className="p-2">Tier</th>
          <th className="p-2">Model</th>
          <th className="p-2">Output</th>
          <th className="p-2 text-right">Latency</th>
          <th className="p-2">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {data?.map((g) => (
          <tr key={g.id} className="border-t border-slate-100 align-top">
            <td className="p-2 whitespace-nowrap text-slate-500">
              {g.createdAt.toLocaleTimeString()}
            </td>
            <td className="p-2">{g.featureId}</td>
            <td className="p-2">{g.tier}</td>
            <td className="p-2">{g.modelVersion ?? '—'}</td>
            <td className="max-w-xs truncate p-2 font-mono text-xs">{g.output || '∅'}</td>
            <td className="p-2 text-right tabular-nums">{Math.round(g.latencyMs)} ms</td>
            <td className="p-2" data-testid="suggestion-outcome">
              {g.outcome}
            </td>
          </tr>
        ))}
        {data?.length === 0 && (
          <tr>
            <td colSpan={7} className="p-4 text-center text-slate-500">
              No suggestions yet. Open the writing page and type.
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
