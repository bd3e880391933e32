'use client';

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '~/trpc/client';
import { DATASET_FILES_FOR_DOWNLOAD } from '../definition';

/** A dataset's versions with digests and counts, a preview of rows and the files to download. */
export function DatasetVersions({ dataset }: { dataset: string }) {
  const trpc = useTRPC();
  const detail = useQuery(trpc.datasets.get.queryOptions({ dataset }));
  const [preview, setPreview] = useState<string | null>(null);
  const rows = useQuery({
    ...trpc.datasets.preview.queryOptions({ versionId: preview ?? '', limit: 5 }),
    enabled: preview !== null,
  });
  if (!detail.data) return null;
  return (
    <div className="mt-3 space-y-3">
      {detail.data.versions.length === 0 && <p className="text-slate-500">No version built yet.</p>}
      <table className="w-full text-left text-xs">
        <tbody>
          {detail.data.versions.map((v) => (
            <tr key={v.id} className="border-t border-slate-100 align-top">
              <td className="py-2 font-medium">v{v.version}</td>
              <td className="py-2">
                <code title={v.contentDigest}>{v.contentDigest.slice(0, 16)}…</code>
              </td>
              <td className="py-2 text-slate-600">
                train {v.splits.train.rows} {JSON.stringify(v.splits.train.classes)}
                <br />
                eval {v.splits.eval.rows} {JSON.stringify(v.splits.eval.classes)}
              </td>
              <td className="py-2 text-slate-500">gates {JSON.stringify(v.gates)}</td>
              <td className="py-2 text-slate-500">
                up to {v.watermark ? new Date(v.watermark).toLocaleString() : '?'}
              </td>
              <td className="py-2">
                <button
                  className="text-indigo-600 hover:underline"
                  onClick={() => setPreview(v.id)}
                >
                  Preview
                </button>
                {DATASET_FILES_FOR_DOWNLOAD.map((f) => (
                  <a
                    key={f}
                    className="ml-2 text-indigo-600 hover:underline"
                    href={`/api/datasets/${v.id}/${f}`}
                  >
                    {f}
                  </a>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {preview && rows.data && (
        <pre className="max-h-64 overflow-auto rounded bg-slate-50 p-3 text-xs">
          {rows.data.map((r) => JSON.stringify(r)).join('\n')}
        </pre>
      )}
      {rows.error && <p className="text-red-600">{rows.error.message}</p>}
    </div>
  );
}
