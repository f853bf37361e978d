/** What the signing thread (schnorr-thread.ts) and its worker (schnorr-worker.ts) say to each other. */

/** Jobs, posted together: each with its 32-byte digest and its own copy of the secret key (moved). */
export type ToSchnorrWorker = { id: number; digest: ArrayBuffer; secret: ArrayBuffer }[];

/** One answer per job: the 64-byte signature, or that it failed. */
export type FromSchnorrWorker = ({ id: number; signature: Uint8Array } | { id: number; failed: true })[];
