/** What the signing thread (schnorr-thread.ts) and its worker (schnorr-worker.ts) say to each other. */

/**
 * Jobs, posted together: each with its 32-byte digest (moved) and its key copy in a shared slot,
 * which both threads wipe: the worker once it signed, the sending thread when the job settles.
 */
export type ToSchnorrWorker = { id: number; digest: ArrayBuffer; secret: SharedArrayBuffer }[];

/** One answer per job: the 64-byte signature, or that it failed. */
export type FromSchnorrWorker = ({ id: number; signature: Uint8Array } | { id: number; failed: true })[];
