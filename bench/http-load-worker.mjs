// Worker entry for bench/http-load.ts: a worker thread does not inherit the tsx loader, so it
// registers it before loading the TypeScript (as bin/warden.js does).
import { register } from 'tsx/esm/api';

register();
await import('./http-load.ts');
