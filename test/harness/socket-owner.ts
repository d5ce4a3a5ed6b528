/**
 * Which process holds a TCP connection (Linux /proc): a server that sees a request from local
 * port P can tell which of our processes sent it, to kill exactly that one mid-request.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

/** The socket inode of the loopback connection from `localPort` to `remotePort`, if any. */
async function socketInode(localPort: number, remotePort: number): Promise<string | undefined> {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1]?.split(':')[1];
      const remote = fields[2]?.split(':')[1];
      if (local && remote && parseInt(local, 16) === localPort && parseInt(remote, 16) === remotePort) return fields[9];
    }
  }
  return undefined;
}

/**
 * The pid among `candidates` that owns the connection from `localPort` (the client's side) to
 * `remotePort` (the server's), or undefined.
 */
export async function pidOwningConnection(localPort: number, remotePort: number, candidates: readonly number[]): Promise<number | undefined> {
  const inode = await socketInode(localPort, remotePort);
  if (!inode || inode === '0') return undefined;
  const wanted = `socket:[${inode}]`;
  for (const pid of candidates) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === wanted) return pid;
    }
  }
  return undefined;
}
