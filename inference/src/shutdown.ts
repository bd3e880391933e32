/**
 * Graceful stop on SIGINT/SIGTERM: refuse new work (503, readiness off), let in-flight
 * generations finish for up to the grace period, then cancel the rest, end the engine threads
 * (those still loading too) and exit 0. Installed before any model loads.
 */
import type { Server } from 'node:http';
import type { ModelRegistry } from './models/registry';

export interface ShutdownOptions {
  registry: ModelRegistry;
  /** The HTTP server once it listens (null before). */
  server: () => Server | null;
  /** Called first: new requests are refused from then on. */
  stopAccepting: () => void;
  log: (level: 'info' | 'error', msg: string) => void;
  graceMs: number;
  /** Runs after the engines stopped, before exit (spans still buffered are exported). */
  beforeExit: () => Promise<void>;
  /** Called last (process.exit in the worker). */
  exit: (code: number) => void;
}

export function installShutdown(opts: ShutdownOptions): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    opts.stopAccepting();
    opts.log('info', `${signal}: draining`);
    const server = opts.server();
    server?.close();
    server?.closeIdleConnections();
    const { registry } = opts;
    const deadline = Date.now() + opts.graceMs;
    const busy = () =>
      registry.drainingCount > 0 || registry.serving().some((m) => m.engine.inFlight > 0);
    while (Date.now() < deadline && busy()) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await registry.stopAll();
    server?.closeAllConnections();
    await opts.beforeExit();
    opts.log('info', 'stopped');
    opts.exit(0);
  };
  const run = (signal: string) => {
    shutdown(signal).catch((err: unknown) => {
      opts.log('error', `shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
      opts.exit(1);
    });
  };
  process.on('SIGINT', () => run('SIGINT'));
  process.on('SIGTERM', () => run('SIGTERM'));
}
