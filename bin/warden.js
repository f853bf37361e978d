#!/usr/bin/env node
// Entry point for `npx warden` and `npm start`: loads the TypeScript sources through tsx,
// so a checkout works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
