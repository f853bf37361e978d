import { Worker } from 'node:worker_threads';

/**
 * A worker thread running the module `entry`. Run from the sources (tests, a stale build), the
 * worker registers tsx first: a thread does not inherit the loader hooks of the one that starts it.
 */
export function startModuleWorker(entry: URL): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry);
  return new Worker(
    `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
      .then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`,
    { eval: true },
  );
}

/** The URL of a sibling module `name` (without extension), as the caller runs: sources or build. */
export function siblingModule(callerUrl: string, name: string): URL {
  return new URL(`./${name}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
}
