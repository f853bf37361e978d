/**
 * warden.yaml: the listener, each protocol module's backend section and the unsafe options, read
 * from the home (absent: the defaults), validated strictly, with command-line overrides merged over
 * it. This room knows no protocol: the modules' section schemas and converters come in as
 * `sections`, and the listener's host/origin rules as `normalize`.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { z } from 'zod';
import { setOwnField } from '../core/own-field.ts';
import { parseSafeYaml, type YamlPath } from '../core/yaml.ts';
import { type ConfigFileRef, readConfigText } from './config-file.ts';
import { type ConfigProblem, configInvalid, overrideInvalid } from './config-invalid.ts';
import {
  type ConfigFileData,
  configSchema,
  type JitterSettings,
  jitterSettingsOf,
  type ListenSection,
  type NwcSettings,
  nwcSettingsOf,
  type TorSettings,
  torSettingsOf,
  UNSAFE_OPTIONS,
  type UnsafeOption,
  type UnsafeOptions,
  validate,
} from './config-schema.ts';

export { CONFIG_ENV, CONFIG_FILE, type ConfigFileRef, configFileRef } from './config-file.ts';
export type { ConfigProblem } from './config-invalid.ts';
export {
  type JitterSettings,
  MANAGED_TOR_CONTROL,
  MANAGED_TOR_SOCKS,
  type TorSettings,
  UNSAFE_OPTIONS,
  type UnsafeOption,
  type UnsafeOptions,
} from './config-schema.ts';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 7878;

/** The listener as the HTTP server takes it (ServeOptions' shape). */
export interface ListenConfig {
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string };
  allowRemote: boolean;
  bodyLimit?: number;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  /** Also publish the API as an onion service (`listen.onion`, or `warden start --onion`). */
  onion: boolean;
}

/** What a section's `check` is told: the unsafe options, and what of it came from an override. */
export interface SectionContext<S> {
  unsafe: UnsafeOptions;
  /** The command-line override of this section (validated), if any: naming a value there is an opt-in. */
  override: S | undefined;
  /** The `tor` section, when there is one: backends then go through Tor unless they say otherwise. */
  tor: TorSettings | null;
}

/** One protocol module's section of warden.yaml (see protocols/config-sections.ts). */
export interface ConfigSection<S> {
  /** Validates the section (strict, snake_case) and normalizes it. */
  readonly schema: z.ZodType<S>;
  /** Rules zod cannot see: those that depend on the unsafe options or on where a value came from. */
  check?(section: S, context: SectionContext<S>): ConfigProblem[];
  /** The module configuration (what its `backend(config)` reads) of a valid section. */
  toModule(section: S | undefined, context: { tor: TorSettings | null; baseDir: string }): unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: each module's section has its own type
export type ConfigSections = Readonly<Record<string, ConfigSection<any>>>;

/** The listener rules of the HTTP front door (its host and origin forms), handed in by the CLI. */
export interface ListenNormalizers {
  allowedHost(value: string): string | null;
  allowedOrigin(value: string): string | null;
}

/** Values given on the command line; they win over the file, key by key. */
export interface ConfigOverrides {
  listen?: Partial<ListenConfig>;
  /** Per module: its section as a flag gives it, and the flag's name (for messages). */
  protocols?: Readonly<Record<string, { section: unknown; source: string }>>;
}

export interface LoadOptions {
  sections: ConfigSections;
  normalize?: ListenNormalizers;
  overrides?: ConfigOverrides;
}

/** The effective configuration: file, then overrides, then the defaults. */
export interface WardenConfig {
  file: ConfigFileRef & { exists: boolean };
  listen: ListenConfig;
  /** Tor, when configured (the `tor` section): every backend's default route. */
  tor: TorSettings | null;
  /** The delay range of sends (the `jitter` section); null: off, sends leave at once. */
  jitter: JitterSettings | null;
  /** The NWC door's relays (the `nwc` section); null: no NWC door. */
  nwc: NwcSettings | null;
  unsafe: UnsafeOptions;
  /** Each module's configuration, for the gateway's `protocols` option. */
  protocols: Readonly<Record<string, unknown>>;
  /** Each module's effective section, in the file's shape (for `warden config show`). */
  sections: Readonly<Record<string, unknown>>;
  /** The flags that changed something. */
  overriddenBy: readonly string[];
}

/** Reads the file `ref` names (the home's may be absent) and resolves the effective configuration. */
export function loadWardenConfig(ref: ConfigFileRef, options: LoadOptions): WardenConfig {
  return resolveWardenConfig(readConfigText(ref), ref, options);
}

/** The effective configuration of `text` (null: no file) with `options`' overrides. */
export function resolveWardenConfig(
  text: string | null,
  ref: ConfigFileRef,
  options: LoadOptions,
): WardenConfig {
  const { sections } = options;
  let lineOf: (path: YamlPath) => number | undefined = () => undefined;
  let raw: unknown = null;
  if (text !== null) {
    const parsed = parseSafeYaml(text, (path, message, line) =>
      configInvalid(ref.path, [{ path, message, line }]),
    );
    raw = parsed.value;
    lineOf = parsed.lineOf;
  }
  // In the order they are written in the file (object keys that are numbers would come first).
  const withLines = (problems: ConfigProblem[]): ConfigProblem[] =>
    problems
      .map((p) => ({ ...p, line: p.line ?? nearestLine(p.path, lineOf) }))
      .sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
  const fileProblems = (problems: ConfigProblem[]) => configInvalid(ref.path, withLines(problems));

  const checked = validate(configSchema(sections), raw ?? {});
  if (!checked.ok) throw fileProblems(checked.problems);
  const data = checked.value as ConfigFileData;

  const unsafe = Object.fromEntries(
    Object.keys(UNSAFE_OPTIONS).map((name) => [name, data.unsafe?.[name as UnsafeOption] === true]),
  ) as UnsafeOptions;

  let tor: TorSettings | null = null;
  if (data.tor !== undefined) {
    const settings = torSettingsOf(data.tor);
    if (!settings.ok) throw fileProblems(settings.problems);
    tor = settings.value;
    // A cookie file named relative to warden.yaml is found beside it, as the TLS files are.
    if (tor.cookieFile !== null && !isAbsolute(tor.cookieFile))
      tor = { ...tor, cookieFile: resolve(join(dirname(ref.path), tor.cookieFile)) };
  }

  let jitter: JitterSettings | null = null;
  if (data.jitter !== undefined) {
    const settings = jitterSettingsOf(data.jitter);
    if (!settings.ok) throw fileProblems(settings.problems);
    // 0..0 says off as plainly as no section.
    jitter = settings.value.maxMs === 0 ? null : settings.value;
  }

  let nwc: NwcSettings | null = null;
  if (data.nwc !== undefined) {
    const settings = nwcSettingsOf(data.nwc, { tor: tor !== null, unsafe });
    if (!settings.ok) throw fileProblems(settings.problems);
    nwc = settings.value;
  }

  const listenProblems: ConfigProblem[] = [];
  const fileListen = listenFromFile(data.listen, ref, options.normalize, listenProblems);
  if (listenProblems.length > 0) throw fileProblems(listenProblems);

  const overriddenBy: string[] = [];
  const listenOverride = definedOnly(options.overrides?.listen ?? {});
  if (Object.keys(listenOverride).length > 0) overriddenBy.push('listen flags');
  const listen: ListenConfig = {
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    allowRemote: false,
    allowedHosts: [],
    allowedOrigins: [],
    onion: false,
    ...fileListen,
    ...listenOverride,
  };

  const effective: Record<string, unknown> = {};
  const protocols: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [name, section] of Object.entries(sections)) {
    const fromFile = data.protocols?.[name];
    const offered = options.overrides?.protocols?.[name];
    const given = offered?.section === undefined ? undefined : offered;
    let override: unknown;
    if (given !== undefined) {
      const valid = validate(section.schema, given.section, ['protocols', name]);
      if (!valid.ok) throw overrideInvalid(given.source, valid.problems);
      override = valid.value;
      if (!isEmpty(override)) overriddenBy.push(given.source);
    }
    const merged = mergeOver(fromFile, override);
    const found = merged === undefined ? [] : (section.check?.(merged, { unsafe, override, tor }) ?? []);
    for (const p of found) {
      const path: YamlPath = ['protocols', name, ...p.path];
      if (given !== undefined && valueAt(override, p.path) !== undefined)
        throw overrideInvalid(given.source, [{ ...p, path }]);
      problems.push({ ...p, path });
    }
    if (merged !== undefined) effective[name] = merged;
    protocols[name] = section.toModule(merged, { tor, baseDir: dirname(ref.path) });
  }
  if (problems.length > 0) throw fileProblems(problems);

  return {
    file: { ...ref, exists: text !== null },
    listen,
    tor,
    jitter,
    nwc,
    unsafe,
    protocols,
    sections: effective,
    overriddenBy,
  };
}

function listenFromFile(
  section: ListenSection | undefined,
  ref: ConfigFileRef,
  normalize: ListenNormalizers | undefined,
  problems: ConfigProblem[],
): Partial<ListenConfig> {
  if (!section) return {};
  const base = dirname(ref.path);
  const list = (key: 'allowed_hosts' | 'allowed_origins', fix: ((v: string) => string | null) | undefined) =>
    (section[key] ?? []).map((value, i) => {
      const normal = fix ? fix(value) : value;
      if (normal === null)
        problems.push({
          path: ['listen', key, i],
          message:
            key === 'allowed_hosts'
              ? 'not a host name, NAME:PORT or [IPv6]:PORT'
              : 'not an origin: scheme://host[:port], nothing after it',
        });
      return normal ?? value;
    });
  const out: Partial<ListenConfig> = {};
  if (section.host !== undefined) out.host = section.host;
  if (section.port !== undefined) out.port = section.port;
  if (section.allow_remote !== undefined) out.allowRemote = section.allow_remote;
  if (section.body_limit !== undefined) out.bodyLimit = section.body_limit;
  if (section.onion !== undefined) out.onion = section.onion;
  if (section.allowed_hosts !== undefined) out.allowedHosts = list('allowed_hosts', normalize?.allowedHost);
  if (section.allowed_origins !== undefined)
    out.allowedOrigins = list('allowed_origins', normalize?.allowedOrigin);
  // TLS files named relative to warden.yaml are found beside it, wherever Warden runs from.
  if (section.tls !== undefined)
    out.tls = {
      certFile: isAbsolute(section.tls.cert) ? section.tls.cert : resolve(join(base, section.tls.cert)),
      keyFile: isAbsolute(section.tls.key) ? section.tls.key : resolve(join(base, section.tls.key)),
    };
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (isPlainObject(v)) return Object.values(v).every(isEmpty);
  return false;
}

/** `over` merged over `base`, key by key in objects; anything else in `over` replaces `base`. */
export function mergeOver(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) setOwnField(out, key, mergeOver(base[key], value));
  return out;
}

function valueAt(value: unknown, path: YamlPath): unknown {
  let v = value;
  for (const segment of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = Object.hasOwn(v, segment) ? (v as Record<string | number, unknown>)[segment] : undefined;
  }
  return v;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The line of the value at `path`, else of its nearest ancestor written in the file. */
function nearestLine(path: YamlPath, lineOf: (path: YamlPath) => number | undefined): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const line = lineOf(path.slice(0, n));
    if (line !== undefined) return line;
  }
  return undefined;
}
