// A transparent HTTP proxy in front of the inference worker for the browser tests, which the app
// is configured to use as its only backend (playwright.config.ts). A spec can arm it to make one
// model's next streamed completion fail mid-answer, the way a worker that dies does: forward a
// few chunks, then hold the rest (so the page can be looked at), then drop the connection or let
// the rest through. Everything else passes through untouched.
//   POST /__faults          [{ model, afterChunks, promptIncludes? }]   arms one rule per entry
//   GET  /__faults          the rules: { model, state: armed|holding|done|abandoned, sent }
//                           (abandoned: the app closed the connection while the rule held it)
//   POST /__faults/release  { action: 'drop' | 'continue' }  ends the rule that holds
// Usage: FAULT_PROXY_PORT=… FAULT_PROXY_TARGET=http://127.0.0.1:… npx tsx e2e/fault-proxy.ts
import http from 'node:http';

const port = Number(process.env.FAULT_PROXY_PORT);
const target = new URL(process.env.FAULT_PROXY_TARGET ?? '');

interface Rule {
  model: string;
  afterChunks: number;
  /** Only a request whose prompt contains this (e.g. a rewrite's instruction, not a completion). */
  promptIncludes?: string;
  state: 'armed' | 'holding' | 'done' | 'abandoned';
  /** The text of the chunks forwarded before the hold. */
  sent: string;
  release?: (action: 'drop' | 'continue') => void;
}
const rules: Rule[] = [];

const readBody = (req: http.IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

function control(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) {
  if (req.method === 'POST' && req.url === '/__faults') {
    for (const r of JSON.parse(body.toString()) as Pick<
      Rule,
      'model' | 'afterChunks' | 'promptIncludes'
    >[])
      rules.push({ ...r, state: 'armed', sent: '' });
    return json(res, 200, { armed: rules.filter((r) => r.state === 'armed').length });
  }
  if (req.method === 'GET' && req.url === '/__faults')
    return json(
      res,
      200,
      rules.map(({ model, state, sent }) => ({ model, state, sent })),
    );
  if (req.method === 'POST' && req.url === '/__faults/release') {
    const rule = rules.find((r) => r.state === 'holding');
    if (!rule?.release) return json(res, 409, { error: 'no rule is holding' });
    rule.release((JSON.parse(body.toString()) as { action: 'drop' | 'continue' }).action);
    return json(res, 200, { released: rule.model });
  }
  json(res, 404, { error: 'unknown control route' });
}

/** Forwards one SSE response chunk by chunk, holding and dropping as `rule` says. */
function faulty(upstream: http.IncomingMessage, res: http.ServerResponse, rule: Rule) {
  res.writeHead(upstream.statusCode ?? 502, upstream.headers);
  let buffer = '';
  let forwarded = 0;
  const held: string[] = [];
  upstream.setEncoding('utf8');
  upstream.on('data', (piece: string) => {
    buffer += piece;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end + 2);
      buffer = buffer.slice(end + 2);
      if (rule.state === 'holding') {
        held.push(event);
        continue;
      }
      if (rule.state === 'done') {
        res.write(event);
        continue;
      }
      res.write(event);
      const data = event.startsWith('data: ') ? event.slice(6).trim() : '';
      const text =
        data && data !== '[DONE]'
          ? (JSON.parse(data) as { choices?: { text?: string }[] }).choices?.[0]?.text
          : '';
      if (!text) continue;
      rule.sent += text;
      if (++forwarded < rule.afterChunks) continue;
      rule.state = 'holding';
      upstream.pause();
      rule.release = (action) => {
        rule.state = 'done';
        rule.release = undefined;
        if (action === 'drop') {
          upstream.destroy();
          res.destroy(); // the connection breaks mid-stream, as when a worker dies
          return;
        }
        for (const e of held) res.write(e);
        upstream.resume();
      };
    }
  });
  upstream.on('end', () => {
    if (rule.state !== 'holding' && !res.destroyed) res.end(buffer);
  });
}

const server = http.createServer((req, res) => {
  void readBody(req).then((body) => {
    if (req.url?.startsWith('/__faults')) return control(req, res, body);
    let rule: Rule | undefined;
    if (req.method === 'POST' && req.url === '/v1/completions') {
      const { model, stream, prompt } = JSON.parse(body.toString()) as {
        model?: string;
        stream?: boolean;
        prompt?: unknown;
      };
      rule = stream
        ? rules.find(
            (r) =>
              r.state === 'armed' &&
              model?.startsWith(r.model) &&
              (r.promptIncludes === undefined || String(prompt).includes(r.promptIncludes)),
          )
        : undefined;
    }
    const upstreamReq = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (upstream) => {
        if (rule) return faulty(upstream, res, rule);
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      },
    );
    upstreamReq.on('error', (error) => {
      // The worker is gone (a spec killed it): what a dead backend looks like to the app.
      if (!res.headersSent) json(res, 502, { error: { message: String(error) } });
      else res.destroy();
    });
    // The app gave up (a newer keystroke, the budget, its caller gone): so does the worker.
    res.on('close', () => {
      if (res.writableFinished) return;
      upstreamReq.destroy();
      if (rule?.state === 'holding') {
        rule.state = 'abandoned';
        rule.release = undefined;
      }
    });
    upstreamReq.end(body);
  });
});
server.listen(port, '127.0.0.1', () => console.log(`fault proxy on ${port} → ${target.href}`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
