import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('../store/fixtures/lock-worker.ts', import.meta.url));

/** Another process holding executor `id`'s lock in `dir` until it is killed. */
export async function executorProcess(dir: string, id: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, 'executor', dir, id], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`the executor exited with ${code}`)));
  });
  return child;
}

/** `kill -9`, resolved once the process is gone (and the kernel has freed its locks). */
export const kill9 = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
