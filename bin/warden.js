#!/usr/bin/env node
// Entry point for `npx warden` and `npm start`. It runs the compiled CLI in dist/, built by
// `npm ci` (the prepare script) or `npm run build`. When dist/ is missing or is not the build of
// the sources as they are (src/ edited since), it says so on one line and runs the sources through
// tsx instead: slower (TypeScript compiled at each start) but never stale code.
import { buildIsCurrent } from './build-stamp.js';

let main;
if (buildIsCurrent()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  process.stderr.write(
    'warden: dist/ is missing or older than src/ (`npm run build` rebuilds it); running the sources through tsx\n',
  );
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
