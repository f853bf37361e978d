import { isWardenError } from '../core/errors.ts';
import type { ExecutionOutcome } from './operation.ts';

/** An execution that certainly did nothing: its reservation is released, with the error's code. */
export function failedWith(
  err: unknown,
  message: string,
  fallback: 'INTERNAL' | 'SIGNING_FAILED' = 'INTERNAL',
): ExecutionOutcome {
  return { status: 'failed', code: isWardenError(err) ? err.code : fallback, message };
}
