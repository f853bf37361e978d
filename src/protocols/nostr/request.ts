import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { EventTemplate } from 'nostr-tools';
import { utf8 } from '../../core/bytes.ts';
import { canonicalJson } from '../../core/canonical.ts';
import { WardenError } from '../../core/errors.ts';
import type { Intent } from '../../core/intent.ts';
import {
  IDEMPOTENCY_KEY_SCHEMA,
  optionalIdempotencyKey,
  parseHostile,
  readBody,
} from '../../core/validate.ts';

/** Bounds on what an agent may ask us to sign: generous for real events, small enough to be safe. */
export const NOSTR_LIMITS = {
  maxKind: 65_535,
  maxContentBytes: 64 * 1024,
  maxTags: 2_000,
  maxTagItems: 100,
  maxTagItemBytes: 4_096,
  /** created_at may differ from now by at most this much (seconds). */
  maxClockSkewSeconds: 24 * 60 * 60,
} as const;

export interface NostrSignRequest {
  template: EventTemplate;
  idempotencyKey: string | null;
  /** Digest of the body as sent (before defaults), so a retry matches its first attempt. */
  payloadDigest: string;
}

function invalid(message: string, field: string): WardenError {
  return new WardenError('INVALID_EVENT', message, { field });
}

/** Parses `POST /v1/nostr/sign` `{kind, content, tags, created_at?, idempotencyKey?}`. */
export function parseNostrSignRequest(raw: unknown, now: Date): NostrSignRequest {
  return parseHostile(() => parseBody(raw, now));
}

const FIELDS = ['kind', 'content', 'tags', 'created_at', 'idempotencyKey'] as const;

function parseBody(raw: unknown, now: Date): NostrSignRequest {
  const get = readBody(raw, FIELDS);
  const kind = get('kind');
  const content = get('content');
  const tags = get('tags');
  const createdAtGiven = get('created_at');
  if (typeof kind !== 'number' || !Number.isInteger(kind) || kind < 0 || kind > NOSTR_LIMITS.maxKind) {
    throw invalid(`kind must be an integer from 0 to ${NOSTR_LIMITS.maxKind}`, 'kind');
  }
  if (typeof content !== 'string') throw invalid('content must be a string', 'content');
  if (utf8(content).length > NOSTR_LIMITS.maxContentBytes) throw invalid('content is too long', 'content');
  const parsedTags = parseTags(tags ?? []);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  let createdAt = nowSeconds;
  if (createdAtGiven !== undefined) {
    const c = createdAtGiven;
    if (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0) {
      throw invalid('created_at must be a unix time in seconds', 'created_at');
    }
    if (Math.abs(c - nowSeconds) > NOSTR_LIMITS.maxClockSkewSeconds) {
      throw invalid('created_at is more than a day away from now', 'created_at');
    }
    createdAt = c;
  }
  const idempotencyKey = optionalIdempotencyKey(get('idempotencyKey'));
  const digestInput = {
    kind,
    content,
    tags: parsedTags,
    created_at: createdAtGiven === undefined ? null : createdAt,
  };
  return {
    template: { kind, content, tags: parsedTags, created_at: createdAt },
    idempotencyKey,
    payloadDigest: bytesToHex(sha256(utf8(canonicalJson(digestInput)))),
  };
}

function parseTags(tags: unknown): string[][] {
  if (!Array.isArray(tags)) throw invalid('tags must be an array of arrays of strings', 'tags');
  if (tags.length > NOSTR_LIMITS.maxTags) throw invalid('too many tags', 'tags');
  return tags.map((tag, i) => {
    if (!Array.isArray(tag) || tag.length === 0 || tag.length > NOSTR_LIMITS.maxTagItems) {
      throw invalid(
        `tags[${i}] must be a non-empty array of at most ${NOSTR_LIMITS.maxTagItems} strings`,
        'tags',
      );
    }
    return tag.map((item) => {
      if (typeof item !== 'string' || utf8(item).length > NOSTR_LIMITS.maxTagItemBytes) {
        throw invalid(
          `tags[${i}] must hold strings of at most ${NOSTR_LIMITS.maxTagItemBytes} bytes`,
          'tags',
        );
      }
      return item;
    });
  });
}

export function nostrSignIntent(identity: string, req: NostrSignRequest): Intent {
  return {
    protocol: 'nostr',
    action: 'sign_event',
    identity,
    asset: 'nostr:event',
    amount: 0n,
    destinations: [],
    maxFee: 0n,
    feeAsset: 'nostr:event',
    payloadDigest: req.payloadDigest,
    idempotencyKey: req.idempotencyKey,
    facets: { kind: req.template.kind },
    // Shapes only, never the content itself.
    detail: { tagCount: req.template.tags.length, contentLength: req.template.content.length },
  };
}

/** The body of `POST /v1/nostr/sign` as JSON Schema: what the parser above accepts. */
export const NOSTR_SIGN_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'content'],
  properties: {
    kind: { type: 'integer', minimum: 0, maximum: NOSTR_LIMITS.maxKind },
    content: { type: 'string', description: `at most ${NOSTR_LIMITS.maxContentBytes} bytes of UTF-8` },
    tags: {
      // null or absent: no tags.
      type: ['array', 'null'],
      maxItems: NOSTR_LIMITS.maxTags,
      items: {
        type: 'array',
        minItems: 1,
        maxItems: NOSTR_LIMITS.maxTagItems,
        items: { type: 'string', description: `at most ${NOSTR_LIMITS.maxTagItemBytes} bytes of UTF-8` },
      },
    },
    created_at: {
      type: 'integer',
      minimum: 0,
      description: 'unix seconds, within a day of now; now when absent',
    },
    idempotencyKey: IDEMPOTENCY_KEY_SCHEMA,
  },
} as const;

/** What a done request returns: the signed NIP-01 event. */
export const NOSTR_SIGN_RESULT_SCHEMA = {
  type: 'object',
  required: ['event'],
  properties: {
    event: {
      type: 'object',
      required: ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig'],
      properties: {
        id: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        pubkey: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        created_at: { type: 'integer' },
        kind: { type: 'integer' },
        tags: { type: 'array', items: { type: 'array', items: { type: 'string' } } },
        content: { type: 'string' },
        sig: { type: 'string', pattern: '^[0-9a-f]{128}$' },
      },
    },
  },
} as const;
