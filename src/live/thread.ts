/**
 * The live page's HTTP server, in a worker thread of its own: a study's training loop keeps the
 * main thread busy for seconds at a time, and messages posted to this thread arrive whatever the
 * main thread is doing, so the page is answered and updated while the run computes.
 *
 * Fixed routes only, nothing read from disk after start: GET / (the page, built by the main
 * thread), GET /events (server-sent events: the model's changes, every UPDATE_MS), GET /state
 * (the whole model as JSON). Anything else is 404; a request naming another host than the
 * loopback address and port we listen on is refused (a page elsewhere cannot reach it through
 * a name that resolves to 127.0.0.1).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import type { RunEvent } from '../exec/events.js';
import { LiveModel, type Cursor, type LiveResult } from './model.js';

export interface ThreadSetup {
  host: string;
  port: number;
  html: string;
}

/** What the main thread tells the server. */
export type ToThread =
  | { type: 'plan'; studies: { name: string; title: string }[] }
  | { type: 'event'; at: number; event: RunEvent }
  | { type: 'started'; study: string; at: number }
  | { type: 'ended'; study: string; at: number; error: string | null; result: LiveResult | null }
  /** The run is over: the pages are told so (they stop listening). */
  | { type: 'end' }
  | { type: 'close' };

/** What the server tells the main thread. */
export type FromThread = { type: 'listening'; port: number } | { type: 'failed'; message: string } | { type: 'ended' } | { type: 'closed' };

const UPDATE_MS = 250;
const MAX_CLIENTS = 32;

const setup = workerData as ThreadSetup;
const port = parentPort!;
const tell = (m: FromThread) => port.postMessage(m);
const model = new LiveModel();
const clients = new Set<{ res: ServerResponse; cursor: Cursor }>();
let runEnded = false;
let boundPort = 0;

// The page runs vega (which compiles its expressions with new Function) from inline scripts and talks to this server only.
const CSP = "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; connect-src 'self'";
const COMMON = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };

const fresh = (): Cursor => ({ rev: 0, points: 0, logs: 0, results: 0 });

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { ...COMMON, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...(type.startsWith('text/html') ? { 'Content-Security-Policy': CSP } : {}) });
  res.end(head ? undefined : body);
}

/** One SSE message; JSON.stringify writes no raw newline, so the data is one line. */
const sse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

function flush(): void {
  for (const c of clients) if (model.changedSince(c.cursor)) c.res.write(sse('delta', model.since(c.cursor)));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const allowed = [`127.0.0.1:${boundPort}`, `localhost:${boundPort}`];
  if (!allowed.includes(req.headers.host ?? '')) return send(res, 403, 'text/plain; charset=utf-8', 'this server answers to its loopback address only\n', false);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'GET only\n', false);
  }
  const head = req.method === 'HEAD';
  // The path alone decides (a query is ignored); there is no file system behind it.
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/' || path === '/index.html') return send(res, 200, 'text/html; charset=utf-8', setup.html, head);
  if (path === '/state') return send(res, 200, 'application/json', JSON.stringify({ ended: runEnded, ...model.since(fresh()) }), head);
  if (path === '/events' && !head) {
    if (clients.size >= MAX_CLIENTS) return send(res, 503, 'text/plain; charset=utf-8', 'too many pages open\n', false);
    res.writeHead(200, { ...COMMON, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    const client = { res, cursor: fresh() };
    res.write(sse('delta', model.since(client.cursor)));
    if (runEnded) res.write(sse('end', {}));
    clients.add(client);
    req.on('close', () => clients.delete(client));
    return;
  }
  send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
}

const server = createServer(handle);
server.on('error', (err: NodeJS.ErrnoException) => {
  const why = err.code === 'EADDRINUSE' ? `port ${setup.port} is in use` : err.code === 'EACCES' ? `port ${setup.port} is not ours to use` : err.message;
  tell({ type: 'failed', message: why });
});
server.listen(setup.port, setup.host, () => {
  boundPort = (server.address() as { port: number }).port;
  tell({ type: 'listening', port: boundPort });
});
const timer = setInterval(flush, UPDATE_MS);

port.on('message', (m: ToThread) => {
  switch (m.type) {
    case 'plan':
      return model.plan(m.studies);
    case 'event':
      return model.event(m.event, m.at);
    case 'started':
      return model.started(m.study, m.at);
    case 'ended':
      return model.ended(m.study, m.at, m.error, m.result);
    case 'end':
      flush();
      runEnded = true;
      for (const c of clients) c.res.write(sse('end', {}));
      return tell({ type: 'ended' });
    case 'close':
      clearInterval(timer);
      for (const c of clients) c.res.end();
      clients.clear();
      server.closeAllConnections();
      server.close(() => tell({ type: 'closed' }));
  }
});
