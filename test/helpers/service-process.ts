/** The real service as a child process (through tsx, no build step), for crash and shutdown tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './services.js';

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** resolves with the exit code (or the signal's name) */
  exited: Promise<number | string>;
}

export async function startService(env: Record<string, string>, port?: number): Promise<ServiceProcess> {
  const chosenPort = port ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(chosenPort), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = `http://127.0.0.1:${chosenPort}`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited early: ${output}`);
    try {
      if ((await fetch(`${url}/`)).ok) return { url, child, output: () => output, exited };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`service did not start: ${output}`);
}

export async function postJson(url: string, body: unknown, method = 'POST'): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}
