import { closeSync, constants, fchmodSync, fstatSync, openSync } from 'node:fs';
import type { Bindings, ChildLoggerOptions, DestinationStream, Logger, LoggerOptions } from 'pino';
import { pino } from 'pino';
import { WardenError } from './errors.ts';
import { REDACTED, redactError, redactString, redactValue } from './redact.ts';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  /** pino level: fatal, error, warn, info (default), debug, trace or silent. */
  level?: string;
  /** Log file path, opened for append; created with mode 0600 (an existing file is set to 0600). */
  destination?: string;
  /** Any writable stream (tests). Default: stderr, so that stdout stays free for command output. */
  stream?: NodeJS.WritableStream;
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * Well-known field paths censored by pino itself: a second layer under `redactValue`, which
 * already redacts any field whose name looks secret at any depth.
 */
const REDACT_PATHS = [
  'privateKey',
  'secretKey',
  'secret',
  'seed',
  'mnemonic',
  'passphrase',
  'password',
  'nsec',
  'xprv',
  'token',
  'preimage',
  'macaroon',
  'rune',
  'authorization',
  'cookie',
  '*.privateKey',
  '*.secretKey',
  '*.secret',
  '*.seed',
  '*.mnemonic',
  '*.passphrase',
  '*.password',
  '*.nsec',
  '*.xprv',
  '*.token',
  '*.preimage',
  '*.macaroon',
  '*.rune',
  '*.authorization',
  '*.cookie',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
];

/**
 * A structured JSON logger (pino) that redacts key material in everything it writes:
 * - `hooks.logMethod` redacts the merged object (any depth, `err` included) and builds the message
 *   itself from the format string and its redacted arguments, then redacts the whole message (so a
 *   secret split across two `%s` arguments is still caught);
 * - `formatters.log` redacts the merged object again (it also sees `mixin` output);
 * - `child()` and `setBindings()` redact the bindings (pino applies no formatter to a child's
 *   bindings, so the logger's own methods are wrapped; every descendant inherits the wrappers);
 * - pino's own `redact` censors the well-known field paths.
 * Errors are logged as `{ name, code?, message }`; their stacks only when debug is enabled, and
 * redacted. No hostname or pid is written (logs should not identify the machine).
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!LEVELS.has(level)) {
    throw new WardenError('INVALID_ARGUMENT', `unknown log level "${level}"`, { level });
  }
  if (options.destination !== undefined && options.stream !== undefined) {
    throw new WardenError('INVALID_ARGUMENT', 'give a log destination or a stream, not both');
  }
  const pinoOptions: LoggerOptions = {
    level,
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: { err: (err: unknown) => redactValue(err) },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redactValue(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const redacted = redactArgs(args, this.isLevelEnabled('debug'));
        (method as (...a: unknown[]) => void).apply(this, redacted);
      },
    },
  };
  return guardBindings(pino(pinoOptions, openDestination(options)));
}

/** Makes `child()` and `setBindings()` redact their bindings, for the logger and all its children. */
function guardBindings(logger: Logger): Logger {
  type ChildFn = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions<never>) => Logger;
  const child = logger.child as unknown as ChildFn;
  const setBindings = logger.setBindings;
  const guarded = {
    child(this: Logger, bindings: Bindings, options?: ChildLoggerOptions<never>): Logger {
      const safe = redactValue(bindings) as Bindings;
      if (options === undefined) return child.call(this, safe);
      const opts: ChildLoggerOptions<never> =
        options.msgPrefix === undefined
          ? options
          : { ...options, msgPrefix: redactString(options.msgPrefix) };
      return child.call(this, safe, opts);
    },
    setBindings(this: Logger, bindings: Bindings): void {
      setBindings.call(this, redactValue(bindings) as Bindings);
    },
  };
  return Object.assign(logger, guarded);
}

/** A logger that writes nothing, for code paths that take an optional logger. */
export function nullLogger(): Logger {
  return pino({ level: 'silent', base: null, enabled: false });
}

function openDestination(options: CreateLoggerOptions): DestinationStream {
  if (options.stream !== undefined) return options.stream as DestinationStream;
  if (options.destination === undefined) return pino.destination({ fd: 2, sync: true });
  const path = options.destination;
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new WardenError('FILE_NOT_FOUND', 'cannot open the log file', {
      path,
      reason: typeof code === 'string' ? code : 'unknown',
    });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new WardenError('INVALID_ARGUMENT', 'the log destination is not a regular file', { path });
    }
    if ((st.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
  } catch (err) {
    closeSync(fd);
    if (err instanceof WardenError) throw err;
    throw new WardenError('FILE_PERMISSIONS_TOO_OPEN', 'cannot restrict the log file to mode 0600', { path });
  }
  return pino.destination({ fd, sync: true });
}

/**
 * Rewrites the arguments of a log call: `(obj?, msg?, ...params)` becomes `(redactedObj?, msg?)`
 * with the message already formatted and redacted, so pino formats nothing further.
 */
function redactArgs(args: unknown[], includeStack: boolean): unknown[] {
  const opts = { includeStack };
  const [first, ...rest] = args;
  let obj: Record<string, unknown> | undefined;
  let msg: unknown;
  let params: unknown[];
  if (first instanceof Error) {
    obj = { err: redactError(first, opts) };
    msg = rest[0];
    params = rest.slice(1);
  } else if (first !== null && typeof first === 'object') {
    const safe = redactValue(first, 0, opts);
    // Bytes, arrays and the like become a field, so that the message stays the message.
    obj =
      typeof safe === 'object' && safe !== null && !Array.isArray(safe)
        ? (safe as Record<string, unknown>)
        : { value: safe };
    msg = rest[0];
    params = rest.slice(1);
  } else {
    msg = first === null && rest.length > 0 ? rest[0] : first;
    params = first === null && rest.length > 0 ? rest.slice(1) : rest;
  }
  const out: unknown[] = [];
  if (obj !== undefined) out.push(obj);
  if (typeof msg === 'string') {
    out.push(
      redactString(
        formatMessage(
          msg,
          params.map((p) => redactValue(p, 0, opts)),
        ),
      ),
    );
  } else if (msg !== undefined) {
    out.push(redactValue(msg, 0, opts));
  }
  return out;
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return '"[unserializable]"';
  }
}

/**
 * printf-style formatting with pino's rules (quick-format-unescaped): %s %d %i %f %j %o %O %%;
 * arguments without a placeholder are dropped. The arguments are already redacted.
 */
export function formatMessage(format: string, params: readonly unknown[]): string {
  if (params.length === 0) return format;
  let out = '';
  let last = 0;
  let next = 0;
  for (let i = 0; i < format.length - 1; i++) {
    if (format.charCodeAt(i) !== 37) continue;
    const spec = format[i + 1];
    let piece: string | undefined;
    if (spec === '%') {
      piece = '%';
    } else if (next < params.length) {
      const p = params[next];
      switch (spec) {
        case 's':
          piece = typeof p === 'object' && p !== null ? stringify(p) : String(p);
          break;
        case 'd':
        case 'f':
          piece = String(Number(p));
          break;
        case 'i':
          piece = String(Math.floor(Number(p)));
          break;
        case 'j':
        case 'o':
        case 'O':
          piece = stringify(p);
          break;
      }
      if (piece !== undefined) next++;
    }
    if (piece === undefined) continue;
    out += format.slice(last, i) + piece;
    last = i + 2;
    i++;
  }
  return out + format.slice(last);
}
