/**
 * The zod schema of warden.yaml: `listen`, `tor`, `jitter`, `protocols` (one section per protocol module, each
 * module's own schema, handed in) and `unsafe`. Every object is strict: an unknown key is refused
 * with its path and the keys that are known, so a typo never silently changes what runs.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { YamlPath } from '../core/yaml.ts';
import type { ConfigProblem } from './config-invalid.ts';

/** A strict object whose unknown-key message lists the keys it knows. */
export function strictObject<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape).join(', ') || '(none)';
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `unknown key; the known keys here are: ${known}` : undefined,
  });
}

/**
 * Unsafe options: each weakens a guarantee for a reason the operator must state by name. All
 * default to false; docs/config.md says what each one gives up.
 */
export const UNSAFE_OPTIONS = {
  allow_loopback_rpc:
    'protocol backends (EVM JSON-RPC) may be on this machine (127.0.0.0/8, ::1, localhost): whatever listens on that port is trusted as the chain',
  allow_direct_backends:
    "backends with `via: direct` are reached from this machine's own address although Tor is configured: the backend (and anyone on the path) sees where Warden runs, and can link the identities that use it",
} as const;

export type UnsafeOption = keyof typeof UNSAFE_OPTIONS;
export type UnsafeOptions = Readonly<Record<UnsafeOption, boolean>>;

const boolean = () => z.boolean({ error: 'must be true or false' });

const text = (max: number) =>
  z
    .string({ error: 'must be text' })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
    .refine((s) => !/[\s\u0000-\u001f\u007f]/.test(s), 'must not contain spaces or control characters');

const pathText = () =>
  z
    .string({ error: 'must be a file path (text)' })
    .min(1, 'must not be empty')
    .max(4096, 'must be at most 4096 characters')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters');

const integer = (min: number, max: number) =>
  z
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be a whole number from ${min} to ${max}`)
    .max(max, `must be a whole number from ${min} to ${max}`);

const unsafeSchema = strictObject(
  Object.fromEntries(Object.keys(UNSAFE_OPTIONS).map((name) => [name, boolean().optional()])) as Record<
    UnsafeOption,
    z.ZodOptional<z.ZodBoolean>
  >,
);

const listenSchema = strictObject({
  host: text(255).optional(),
  port: integer(0, 65_535).optional(),
  allowed_hosts: z
    .array(text(300), { error: 'must be a list of host names' })
    .max(64, 'at most 64 allowed hosts')
    .optional(),
  allowed_origins: z
    .array(text(300), { error: 'must be a list of origins' })
    .max(64, 'at most 64 allowed origins')
    .optional(),
  tls: strictObject({ cert: pathText(), key: pathText() }).optional(),
  allow_remote: boolean().optional(),
  body_limit: integer(1, 999_999_999).optional(),
  /** Also publish the API as a v3 onion service (as `warden start --onion`). */
  onion: boolean().optional(),
});

export type ListenSection = z.infer<typeof listenSchema>;

/** `IP:PORT` or `[IPv6]:PORT`: Tor's ports are never found by a name lookup (no DNS, ever). */
const IP_PORT = /^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9A-Fa-f:.]+)\]):(\d{1,5})$/;

function endpointOf(value: string): { host: string; port: number } | null {
  const m = IP_PORT.exec(value);
  if (!m) return null;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (isIP(host) === 0 || port < 1 || port > 65_535) return null;
  return { host, port };
}

const endpoint = () =>
  text(60).refine(
    (s) => endpointOf(s) !== null,
    'must be IP:PORT, e.g. 127.0.0.1:9050 (an address, not a name: it is never looked up)',
  );

const torSchema = strictObject({
  socks: endpoint().optional(),
  control: endpoint().optional(),
  cookie: pathText().optional(),
  managed: boolean().optional(),
});

export type TorSection = z.infer<typeof torSchema>;

/**
 * Tor as the net layer takes it: the SocksPort every `via: tor` backend goes through, and the
 * ControlPort (cookie auth) when there is one. `managed`: Warden runs its own tor, with a torrc
 * it writes into the home, on these ports (defaults below, away from a system tor's 9050/9051).
 */
export interface TorSettings {
  socks: { host: string; port: number };
  control: { host: string; port: number } | null;
  /** The control port's auth cookie file; for a managed tor, null (it is in the home). */
  cookieFile: string | null;
  managed: boolean;
}

export const MANAGED_TOR_SOCKS = { host: '127.0.0.1', port: 19050 } as const;
export const MANAGED_TOR_CONTROL = { host: '127.0.0.1', port: 19051 } as const;

/** The settings of a valid section, or the problems of a section zod cannot judge alone. */
export function torSettingsOf(
  section: TorSection,
): { ok: true; value: TorSettings } | { ok: false; problems: ConfigProblem[] } {
  const managed = section.managed === true;
  const socks = section.socks === undefined ? null : endpointOf(section.socks);
  const control = section.control === undefined ? null : endpointOf(section.control);
  const problems: ConfigProblem[] = [];
  if (!managed && socks === null)
    problems.push({
      path: ['tor'],
      message:
        'name the SocksPort of a running tor (socks: 127.0.0.1:9050), or let Warden run one (managed: true)',
    });
  if (!managed && control !== null && section.cookie === undefined)
    problems.push({
      path: ['tor', 'cookie'],
      message: "the control port needs its cookie file (Debian's tor: /run/tor/control.authcookie)",
    });
  if (managed && section.cookie !== undefined)
    problems.push({
      path: ['tor', 'cookie'],
      message: 'a managed tor keeps its cookie in the home; remove this key',
    });
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      socks: socks ?? { ...MANAGED_TOR_SOCKS },
      control: control ?? (managed ? { ...MANAGED_TOR_CONTROL } : null),
      cookieFile: managed ? null : (section.cookie ?? null),
      managed,
    },
  };
}

/**
 * Timing jitter of sends (broadcasts, publishes): each waits a delay drawn from [min, max]
 * (net/jitter.ts). Durations are whole `ms`, `s` or `m`: `250ms`, `2s`, `1m`; at most 5 minutes,
 * so a send never waits as long as a crashed one (10 minutes) before reconcile lists it as stuck.
 */
export const MAX_JITTER_MS = 5 * 60_000;
const JITTER_DURATION = /^(0|[1-9][0-9]{0,6})(ms|s|m)$/;
const JITTER_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** Milliseconds of a jitter duration (`250ms`, `2s`, `1m`), or null when it is not one. */
export function jitterDurationMs(label: string): number | null {
  const m = JITTER_DURATION.exec(label);
  if (!m) return null;
  const ms = Number(m[1]) * (JITTER_UNIT_MS[m[2] as string] ?? Number.NaN);
  return Number.isSafeInteger(ms) && ms <= MAX_JITTER_MS ? ms : null;
}

const jitterDuration = () =>
  z
    .string({ error: 'must be a duration: a whole number with ms, s or m (e.g. 2s)' })
    .refine((s) => JITTER_DURATION.test(s), 'must be a whole number with ms, s or m (e.g. 250ms, 2s, 1m)')
    .refine((s) => !JITTER_DURATION.test(s) || jitterDurationMs(s) !== null, 'must be at most 5m');

const jitterSchema = strictObject({ min: jitterDuration().optional(), max: jitterDuration().optional() });

export type JitterSection = z.infer<typeof jitterSchema>;

/** The delay range of every send, in ms; `0..0` is off. */
export interface JitterSettings {
  minMs: number;
  maxMs: number;
}

/** The range of a valid section (min defaults to 0; max is needed), or its problems. */
export function jitterSettingsOf(
  section: JitterSection,
): { ok: true; value: JitterSettings } | { ok: false; problems: ConfigProblem[] } {
  if (section.max === undefined)
    return {
      ok: false,
      problems: [
        { path: ['jitter', 'max'], message: 'name the longest delay (e.g. max: 30s); min is 0 unless given' },
      ],
    };
  const minMs = section.min === undefined ? 0 : (jitterDurationMs(section.min) ?? 0);
  const maxMs = jitterDurationMs(section.max) ?? 0;
  if (maxMs < minMs)
    return {
      ok: false,
      problems: [
        { path: ['jitter', 'max'], message: `must be at least min (${section.min}), not ${section.max}` },
      ],
    };
  return { ok: true, value: { minMs, maxMs } };
}

/**
 * The Nostr Wallet Connect door (api/nwc/): the relays its connections listen on, and how they are
 * reached (Tor by default when Tor is configured, like every backend):
 *
 *   nwc:
 *     relays: [wss://relay.example.com]
 *     via: tor
 *
 * A relay on this machine needs `unsafe.allow_loopback_rpc`; `via: direct` with Tor configured
 * needs `unsafe.allow_direct_backends`, as for backends.
 */
const relayUrl = z.string({ error: 'a relay is a ws:// or wss:// URL' }).refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'wss:' || url.protocol === 'ws:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}, 'a relay is a ws:// or wss:// URL, without credentials');

const nwcSchema = strictObject({
  relays: z.array(relayUrl).min(1, 'name at least one relay').max(8, 'at most 8 relays'),
  via: z.enum(['tor', 'direct'], { error: 'must be tor or direct' }).optional(),
});

export type NwcSection = z.infer<typeof nwcSchema>;

export interface NwcSettings {
  relays: string[];
  via: 'tor' | 'direct';
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/** The settings of a valid section, or the problems the rest of the file decides. */
export function nwcSettingsOf(
  section: NwcSection,
  context: { tor: boolean; unsafe: Readonly<Record<string, boolean | undefined>> },
): { ok: true; value: NwcSettings } | { ok: false; problems: ConfigProblem[] } {
  const via = section.via ?? (context.tor ? 'tor' : 'direct');
  const problems: ConfigProblem[] = [];
  if (via === 'tor' && !context.tor)
    problems.push({ path: ['nwc', 'via'], message: 'via: tor needs a tor section' });
  if (via === 'direct' && context.tor && context.unsafe.allow_direct_backends !== true)
    problems.push({
      path: ['nwc', 'via'],
      message:
        'direct with Tor configured reveals this machine to the relays: set unsafe.allow_direct_backends to mean it',
    });
  section.relays.forEach((relay, i) => {
    if (LOOPBACK.test(new URL(relay).hostname) && context.unsafe.allow_loopback_rpc !== true)
      problems.push({
        path: ['nwc', 'relays', i],
        message: 'a relay on this machine needs unsafe.allow_loopback_rpc',
      });
  });
  if (problems.length > 0) return { ok: false, problems };
  // One spelling per relay (a trailing slash or case in the host must not make two).
  return { ok: true, value: { relays: [...new Set(section.relays.map((r) => new URL(r).href))], via } };
}

/** What a protocol module gives for its section: a zod schema (the rest is in warden-config.ts). */
export interface SectionSchema {
  // biome-ignore lint/suspicious/noExplicitAny: each module's section has its own type
  readonly schema: z.ZodType<any>;
}

export function configSchema(sections: Readonly<Record<string, SectionSchema>>) {
  const protocols = Object.fromEntries(
    Object.entries(sections).map(([name, section]) => [name, section.schema.optional()]),
  );
  return strictObject({
    listen: listenSchema.optional(),
    tor: torSchema.optional(),
    jitter: jitterSchema.optional(),
    nwc: nwcSchema.optional(),
    protocols: strictObject(protocols).optional(),
    unsafe: unsafeSchema.optional(),
  });
}

export interface ConfigFileData {
  listen?: ListenSection;
  tor?: TorSection;
  jitter?: JitterSection;
  nwc?: NwcSection;
  protocols?: Record<string, unknown>;
  unsafe?: Partial<Record<UnsafeOption, boolean>>;
}

/** zod's issues as problems with paths; an unknown key is reported at its own path. */
export function problemsOf(error: z.ZodError, base: YamlPath = []): ConfigProblem[] {
  return error.issues.flatMap((issue) => {
    const path = [...base, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: [...path, key], message: issue.message }));
    return [{ path, message: issue.message }];
  });
}

/** Parses `value` with `schema`, or returns the problems (paths under `base`). */
export function validate<T>(
  schema: z.ZodType<T>,
  value: unknown,
  base: YamlPath = [],
): { ok: true; value: T } | { ok: false; problems: ConfigProblem[] } {
  const result = schema.safeParse(value);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, problems: problemsOf(result.error, base) };
}
