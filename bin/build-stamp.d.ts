// Types of build-stamp.js, a plain JavaScript module (it runs before anything is compiled), for
// the tests and scripts written in TypeScript that ask whether the build is current.
export const ROOT: string;
export const DIST: string;
export const STAMP: string;
export function sourceFingerprint(): string;
export function stampedFingerprint(): string | null;
export function buildIsCurrent(): boolean;
