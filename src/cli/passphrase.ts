import { constantTimeEqual, utf8, wipe } from '../core/bytes.ts';
import { WardenError } from '../core/errors.ts';
import { readSecretFile } from '../gateway/vault-api.ts';
import { SecretLineReader } from './tty.ts';

export interface PassphraseSource {
  file?: string | undefined;
  /** Environment variable consulted after the file (discouraged: it prints a warning). */
  envVar: string;
  /** What the passphrase is for, in prompts and messages. */
  label: string;
  /** Command-line option that names the file, for error messages. */
  option: string;
}

export interface Terminal {
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  reader?: SecretLineReader;
}

export function isInteractive(t: Terminal): boolean {
  return t.stdin.isTTY === true;
}

function reader(t: Terminal): SecretLineReader {
  t.reader ??= new SecretLineReader(t.stdin, t.stderr);
  return t.reader;
}

export function hasPassphraseSource(source: PassphraseSource, t: Terminal): boolean {
  return source.file !== undefined || t.env[source.envVar] !== undefined || isInteractive(t);
}

/** An existing passphrase: from the file, else the environment (with a warning), else the terminal. */
export async function readPassphrase(source: PassphraseSource, t: Terminal): Promise<Uint8Array> {
  if (source.file !== undefined) return readSecretFile(source.file);
  const fromEnv = t.env[source.envVar];
  if (fromEnv !== undefined) {
    t.stderr.write(
      `WARNING: reading the ${source.label} from ${source.envVar}. Environment variables can be read by other ` +
        `processes of this user and end up in crash dumps; prefer ${source.option} FILE (mode 0600).\n`,
    );
    return utf8(fromEnv);
  }
  requirePassphraseSource(source, t);
  return reader(t).read(`${capitalize(source.label)}: `);
}

/**
 * PASSPHRASE_REQUIRED unless there is somewhere to read the passphrase from. A command that reads
 * a second passphrase after unsealing (backup, passphrase change) checks this first, so a script
 * that forgot it fails at once rather than after the KDF.
 */
export function requirePassphraseSource(source: PassphraseSource, t: Terminal): void {
  if (hasPassphraseSource(source, t)) return;
  throw new WardenError(
    'PASSPHRASE_REQUIRED',
    `no ${source.label} given: use ${source.option} FILE (mode 0600), run on a terminal to be prompted, ` +
      `or set ${source.envVar} (discouraged)`,
  );
}

/** A new passphrase: typed twice on a terminal, and checked for strength whatever its source. */
export async function readNewPassphrase(source: PassphraseSource, t: Terminal): Promise<Uint8Array> {
  const interactive = source.file === undefined && t.env[source.envVar] === undefined && isInteractive(t);
  const first = await readPassphrase(source, t);
  if (interactive) {
    const second = await reader(t).read(`Repeat the ${source.label}: `);
    const same = constantTimeEqual(first, second);
    wipe(second);
    if (!same) {
      wipe(first);
      throw new WardenError('PASSPHRASE_MISMATCH', `the two ${source.label}s differ`);
    }
  }
  const weakness = passphraseWeakness(first);
  if (weakness) {
    wipe(first);
    throw new WardenError('PASSPHRASE_TOO_WEAK', `the ${source.label} is too weak: ${weakness}`);
  }
  return first;
}

export const MIN_PASSPHRASE_BYTES = 12;
export const MIN_PASSPHRASE_BITS = 60;

/**
 * A deliberately simple strength estimate: length times log2 of the character classes used,
 * with too few distinct characters refused outright. Returns why it is weak, or null.
 */
export function passphraseWeakness(p: Uint8Array): string | null {
  if (p.length < MIN_PASSPHRASE_BYTES) return `use at least ${MIN_PASSPHRASE_BYTES} characters`;
  const distinct = new Set(p).size;
  if (distinct < 6) return 'too few distinct characters';
  let pool = 0;
  const has = (test: (b: number) => boolean) => p.some(test);
  if (has((b) => b >= 0x61 && b <= 0x7a)) pool += 26;
  if (has((b) => b >= 0x41 && b <= 0x5a)) pool += 26;
  if (has((b) => b >= 0x30 && b <= 0x39)) pool += 10;
  if (has((b) => b < 0x30 || (b > 0x39 && b < 0x41) || (b > 0x5a && b < 0x61) || b > 0x7a)) pool += 33;
  const bits = Math.min(p.length, distinct * 2) * Math.log2(Math.max(pool, 2));
  if (bits < MIN_PASSPHRASE_BITS)
    return 'make it longer or mix letters, digits and symbols (e.g. four random words)';
  return null;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
