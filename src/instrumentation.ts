// Runs once when the Next.js server starts. The literal NEXT_RUNTIME check is Next.js's own
// convention: it lets the bundler drop the Node.js-only import from the edge bundle.
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { onServerStart } = await import('./server/on-server-start');
    await onServerStart();
  }
}
