/**
 * The zod schema of warden.yaml: `listen`, `protocols` (one section per protocol module, each
 * module's own schema, handed in) and `unsafe`. Every object is strict: an unknown key is refused
 * with its path and the keys that are known, so a typo never silently changes what runs.
 */
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
});

export type ListenSection = z.infer<typeof listenSchema>;

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
    protocols: strictObject(protocols).optional(),
    unsafe: unsafeSchema.optional(),
  });
}

export interface ConfigFileData {
  listen?: ListenSection;
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
