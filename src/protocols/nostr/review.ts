import type { EventTemplate } from 'nostr-tools';
import { visibleJson } from '../../core/display.ts';
import { SENSITIVE_NOSTR_KINDS } from './kinds.ts';

/**
 * What an approver reads before a Nostr signature: the event exactly as it will be signed, and
 * one line in words that points at what it would redirect (money, messages, logins, identity).
 * The line is a reading aid; the payload beside it is what the approval is bound to.
 */
export interface NostrReview {
  payload: { pubkey: string; kind: number; created_at: number; content: string; tags: string[][] };
  summary: string;
}

const MAX_SHOWN = 120;

/** Caller text for a one-line summary: quoted, cut short, every hiding character made visible. */
function quoted(text: string): string {
  return visibleJson(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);
}

function tagValues(tags: string[][], name: string): string[] {
  return tags.filter((t) => t[0] === name && t[1] !== undefined).map((t) => t[1]!);
}

function firstTag(tags: string[][], name: string): string | undefined {
  return tagValues(tags, name)[0];
}

function listed(values: string[], none = 'none'): string {
  if (values.length === 0) return none;
  const shown = values.slice(0, 5).map(quoted).join(', ');
  return values.length > 5 ? `${shown} and ${values.length - 5} more` : shown;
}

/** Profile fields that say where money goes or who the identity claims to be. */
const PROFILE_FIELDS = ['lud16', 'lud06', 'nip05', 'name', 'display_name', 'website'] as const;

function profileSummary(content: string): string {
  let profile: unknown;
  try {
    profile = JSON.parse(content);
  } catch {
    return 'profile update (kind 0) whose content is not JSON';
  }
  if (typeof profile !== 'object' || profile === null || Array.isArray(profile))
    return 'profile update (kind 0) whose content is not a JSON object';
  const fields = profile as Record<string, unknown>;
  const parts: string[] = [];
  const lud16 = typeof fields.lud16 === 'string' ? fields.lud16 : undefined;
  const lightning = lud16 ?? (typeof fields.lud06 === 'string' ? fields.lud06 : undefined);
  parts.push(
    lightning !== undefined
      ? `sets the lightning address (where zaps are paid) to ${quoted(lightning)}`
      : 'sets no lightning address',
  );
  for (const field of PROFILE_FIELDS) {
    const value = fields[field];
    // The lightning address is already named first.
    if (field === 'lud16' || (field === 'lud06' && lud16 === undefined)) continue;
    if (typeof value === 'string') parts.push(`${field} ${quoted(value)}`);
  }
  return `profile update (kind 0): ${parts.join('; ')}`;
}

function relaySummary(kind: number, what: string, tags: string[][]): string {
  const relays = tags.filter((t) => (t[0] === 'r' || t[0] === 'relay') && t[1] !== undefined);
  const shown = relays.map((t) => (t[2] ? `${t[1]} (${t[2]} only)` : t[1]!));
  return `${what} (kind ${kind}): replaces the list with ${relays.length} relay(s): ${listed(shown)}`;
}

type Describe = (t: EventTemplate) => string;

/** One wording per sensitive kind; anything else is described by its kind and content. */
const DESCRIBE: Record<number, Describe> = {
  0: (t) => profileSummary(t.content),
  3: (t) => `follow list (kind 3): replaces the whole list with ${tagValues(t.tags, 'p').length} follow(s)`,
  5: (t) =>
    `deletion request (kind 5): asks relays to delete ${tagValues(t.tags, 'e').length + tagValues(t.tags, 'a').length} event(s) of this identity`,
  9734: (t) =>
    `zap request (kind 9734): asks to pay ${firstTag(t.tags, 'amount') ?? 'an unstated amount of'} msat to ${quoted(firstTag(t.tags, 'p') ?? 'nobody named')} via ${quoted(firstTag(t.tags, 'lnurl') ?? 'an unnamed LNURL')}`,
  10002: (t) => relaySummary(10002, 'relay list: where its notes are read and written', t.tags),
  10050: (t) => relaySummary(10050, 'direct-message relay list: where its messages are delivered', t.tags),
  22242: (t) =>
    `relay login (kind 22242, NIP-42): logs the identity in to ${quoted(firstTag(t.tags, 'relay') ?? 'an unnamed relay')}`,
  24242: (t) =>
    `Blossom authorization (kind 24242): allows ${quoted(firstTag(t.tags, 't') ?? 'an unnamed action')} of ${tagValues(t.tags, 'x').length} blob(s)${firstTag(t.tags, 'server') ? ` on ${quoted(firstTag(t.tags, 'server')!)}` : ''}, expires ${firstTag(t.tags, 'expiration') ?? 'never'}`,
  27235: (t) =>
    `HTTP login (kind 27235, NIP-98): authorizes ${quoted(firstTag(t.tags, 'method') ?? 'an unnamed method')} ${quoted(firstTag(t.tags, 'u') ?? 'an unnamed URL')}`,
};

const SENSITIVE = new Map(SENSITIVE_NOSTR_KINDS.map((k) => [k.kind, k]));

/** A sensitive kind without its own wording still says what class of thing it redirects. */
function fallback(t: EventTemplate): string {
  const sensitive = SENSITIVE.get(t.kind);
  const what = sensitive ? `${sensitive.name} (kind ${t.kind}, ${sensitive.nip}): ${sensitive.reason}; ` : '';
  return `${what || `kind ${t.kind} event: `}${t.tags.length} tag(s), content ${quoted(t.content)}`;
}

/**
 * NIP-57 zap splits: a `zap` tag on any event sends that event's zaps to another pubkey. The
 * summary names them whatever the kind.
 */
function zapSplits(tags: string[][]): string {
  const targets = tagValues(tags, 'zap');
  return targets.length === 0 ? '' : `; its zaps go to ${listed(targets)} (zap split)`;
}

export function nostrReview(template: EventTemplate, pubkey: string): NostrReview {
  const summary = (DESCRIBE[template.kind] ?? fallback)(template) + zapSplits(template.tags);
  return {
    payload: {
      pubkey,
      kind: template.kind,
      created_at: template.created_at,
      content: template.content,
      tags: template.tags,
    },
    summary,
  };
}
