/**
 * A PostgreSQL cluster of the test's own (initdb in a temp dir, on a free port), which it may stop
 * and start again without touching anyone else's database. Uses the machine's PostgreSQL binaries
 * (/usr/lib/postgresql/<version>/bin); as root, runs them as the `postgres` user, since initdb refuses root.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './services.js';

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication) */
  url: string;
  /** `pg_ctl stop -m fast`: every connection is told "terminating connection due to administrator command" */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP to the server and its backends: connections stay open but nothing answers, like a hung server */
  pause(): void;
  resume(): void;
  /** stops the server if it runs and deletes the cluster */
  remove(): Promise<void>;
}

/** The newest installed PostgreSQL's bin directory, or undefined when none is installed. */
export function postgresBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'initdb')) && existsSync(join(root, version, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** Why the test cannot run here, or false when it can. */
export function privatePostgresUnavailable(): string | false {
  if (!postgresBinaries()) return 'no PostgreSQL binaries under /usr/lib/postgresql/*/bin (apt-get install -y postgresql)';
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'running as root and there is no postgres user to run initdb as';
    }
  }
  return false;
}

const STEP_TIMEOUT_MS = 60_000;

export async function privatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinaries();
  if (!bin) throw new Error('no PostgreSQL binaries found');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'inbox-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }

  /** Runs a PostgreSQL program (as `postgres` when we are root) and resolves when it exits 0. */
  const run = (program: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const path = join(bin, program);
      const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
      // cwd: the postgres user may not be allowed into the test's working directory.
      const child = spawn(command, commandArgs, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
      child.once('error', reject);
      // 'exit', not 'close': the server pg_ctl starts stays in the background (its output goes to the log file).
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`${program} ${args.join(' ')} exited ${code}: ${output}${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : ''}`));
      });
    });

  /** The postmaster (first line of postmaster.pid) and its children, read from /proc. */
  const serverProcesses = (): number[] => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          // /proc/<pid>/stat: "pid (name) state ppid …"; the name may hold spaces, so read after the last ')'.
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
        } catch {
          return false;
        }
      })
      .map(Number);
    return [postmaster, ...children];
  };
  const signalAll = (signal: NodeJS.Signals) => {
    for (const pid of serverProcesses()) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone meanwhile
      }
    }
  };

  let running = false;
  const server: PrivatePostgres = {
    url: '',
    async start() {
      await run('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '30', 'start']);
      running = true;
    },
    async stop() {
      if (!running) return;
      await run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
      running = false;
    },
    pause() {
      signalAll('SIGSTOP');
    },
    resume() {
      if (running) signalAll('SIGCONT');
    },
    async remove() {
      try {
        server.resume();
        if (running) await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
      } finally {
        running = false;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };

  try {
    await run('initdb', ['-D', data, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--no-sync']);
    const port = await freePort();
    appendFileSync(
      join(data, 'postgresql.conf'),
      [`port = ${port}`, `listen_addresses = '127.0.0.1'`, `unix_socket_directories = '${dir}'`, 'max_connections = 40', ''].join('\n'),
    );
    server.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await server.start();
    return server;
  } catch (error) {
    await server.remove();
    throw error;
  }
}
