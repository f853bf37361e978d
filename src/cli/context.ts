import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { WardenOptions } from '../gateway/vault-api.ts';
import { resolveHomeDir } from '../gateway/vault-api.ts';
import type { Terminal } from './passphrase.ts';

/** Everything a command needs from its surroundings; tests build one with their own streams. */
export interface CliIo extends Terminal {
  stdout: NodeJS.WritableStream;
  clock?: Clock;
}

export interface GlobalOptions {
  home?: string;
  json?: boolean;
}

export class CliContext {
  readonly home: string;
  readonly json: boolean;
  readonly io: CliIo;
  /** The command being run, whose options (flags that override warden.yaml) config-flags.ts reads. */
  readonly command: Command | undefined;
  /** Set by a command that succeeded in running but reports a negative answer (a denial): exit 1. */
  exitCode = 0;

  constructor(globals: GlobalOptions, io: CliIo, command?: Command) {
    this.home = resolveHomeDir(globals.home, io.env);
    this.json = globals.json === true;
    this.io = io;
    this.command = command;
  }

  wardenOptions(extra: Partial<WardenOptions> = {}): WardenOptions {
    return {
      home: this.home,
      actor: `cli:${safeUser()}`,
      clock: this.io.clock ?? systemClock,
      logLevel: this.io.env.WARDEN_LOG_LEVEL ?? 'info',
      ...extra,
    };
  }

  /** Prints a result: the JSON document with --json, else the human lines. */
  print(human: string | string[], json: unknown): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    else this.io.stdout.write(`${(Array.isArray(human) ? human : [human]).join('\n')}\n`);
  }

  /**
   * Reports one event of a long-running command: with --json one JSON object per line
   * (`{"event": name, …fields}`) on stdout, else the human line (on stderr when it is a warning).
   */
  event(name: string, fields: Record<string, unknown>, human: string, warning = false): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify({ event: name, ...fields })}\n`);
    else (warning ? this.io.stderr : this.io.stdout).write(`${human}\n`);
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
