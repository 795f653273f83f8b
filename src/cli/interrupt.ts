/**
 * Ctrl-C (and SIGTERM) during a transfer: the first stops it cleanly (the other side hears it at
 * once), a second one exits at once. Returns a function that removes the handlers.
 */
export function onInterrupt(stop: () => void): () => void {
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) stop();
    else process.exit(130);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
