// `node --import ./record-loads.mjs …` with RECORD_LOADS=FILE: appends the URL of every module the
// process resolves (ours, packages, builtins) to FILE, one a line, for tests of what a command
// loads. It registers itself as the module hooks; they run on their own thread, hence a file.
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

let out;

export function initialize(data) {
  out = data.out;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(out, `${resolved.url}\n`);
  return resolved;
}

if (isMainThread && process.env.RECORD_LOADS) {
  const { register } = await import('node:module');
  register(import.meta.url, { data: { out: process.env.RECORD_LOADS } });
}
