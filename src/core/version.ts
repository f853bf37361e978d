import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** package.json's version: the one place it is written (the CLI and the OpenAPI document read it). */
export function wardenVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    cached = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  }
  return cached;
}
