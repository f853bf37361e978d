import type { AuditKeyring } from '../audit/keyring.ts';
import type { AnyOperation } from '../protocols/operation.ts';
import type { RequestTable } from '../store/schema.ts';
import { intentFromJson, type Review, reviewDocument, reviewHash } from './intent-codec.ts';
import type { Operations } from './operations.ts';
import { payloadAad } from './payload.ts';

/** Characters of the intent hash shown in lists; `show` prints it whole. */
export const SHORT_HASH_LENGTH = 12;

/**
 * What an approver sees of one request: the full review (operation, intent, payload as it will be
 * signed) when its sealed payload is still kept, a one-line summary, and the intent hash with
 * whether the shown review really hashes to it. A payload that cannot be opened, or does not
 * match its hash, is reported as such and never described as if it could be approved.
 */
export interface ReviewFields {
  intentHash: string;
  shortIntentHash: string;
  summary: string;
  review: Review | null;
  /** False when the payload is gone (settled, expired) or does not match `intentHash`. */
  reviewable: boolean;
}

export interface OpenedRequest {
  operation: AnyOperation;
  parsed: unknown;
  review: Review;
  summary: string;
  matches: boolean;
}

/** Opens a kept payload and rebuilds its review; throws if it cannot be read. */
export async function openRequest(
  row: RequestTable,
  operations: Operations,
  keyring: AuditKeyring,
): Promise<OpenedRequest> {
  const operation = operations.stored(row.operation);
  if (!operation || !row.payload) throw new Error('no operation or no payload');
  const parsed = operation.decode(await keyring.decrypt(row.payload, payloadAad(row)));
  const intent = intentFromJson(row.intent);
  const described = operation.review(
    parsed,
    intent,
    operations.intentContext(operation, row.identity).publicKeys,
  );
  const review = reviewDocument(operation.name, intent, described.payload);
  return {
    operation,
    parsed,
    review,
    summary: described.summary,
    matches: reviewHash(review) === row.intent_hash,
  };
}

export async function reviewFields(
  row: RequestTable,
  operations: Operations,
  keyring: AuditKeyring,
): Promise<ReviewFields> {
  const hash = { intentHash: row.intent_hash, shortIntentHash: row.intent_hash.slice(0, SHORT_HASH_LENGTH) };
  if (!row.payload) {
    return {
      ...hash,
      summary: `${row.protocol}/${row.action}: the payload is no longer kept (${row.status})`,
      review: null,
      reviewable: false,
    };
  }
  let opened: OpenedRequest;
  try {
    opened = await openRequest(row, operations, keyring);
  } catch {
    return {
      ...hash,
      // Its seal binds the intent hash and the hold (payload.ts): a row edited outside Warden.
      summary: 'the stored payload does not open under this intent hash and hold: do not approve; deny it',
      review: null,
      reviewable: false,
    };
  }
  if (!opened.matches) {
    return {
      ...hash,
      summary: `the stored payload does not match its intent hash: do not approve; deny it (it reads: ${opened.summary})`,
      review: opened.review,
      reviewable: false,
    };
  }
  return { ...hash, summary: opened.summary, review: opened.review, reviewable: true };
}
