// Shared by every module (src/protocols/outcome.ts); kept here for Bitcoin's imports.
export { failedWith } from '../outcome.ts';
