/** Binds an HTTP server, turning a busy or forbidden port into one line that names the setting. */
import type { Server } from 'node:http';

/** A port the process cannot bind; its message names the setting to change. */
export class PortUnavailableError extends Error {
  override readonly name = 'PortUnavailableError';
}

/**
 * Listens on `port` at `host`. `setting` is the environment variable that chose the port
 * (`PORT`, `METRICS_PORT`), so the error says what to change.
 */
export function listen(server: Server, port: number, host: string, setting: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new PortUnavailableError(`port ${port} on ${host} is already in use; stop what uses it or set ${setting} to a free port`));
      } else if (err.code === 'EACCES') {
        reject(new PortUnavailableError(`no permission to listen on port ${port}; set ${setting} to a port above 1023`));
      } else {
        reject(err);
      }
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
