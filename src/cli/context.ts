import { userInfo } from 'node:os';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { WardenOptions } from '../gateway/index.ts';
import { resolveHomeDir } from '../gateway/index.ts';
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

  constructor(globals: GlobalOptions, io: CliIo) {
    this.home = resolveHomeDir(globals.home, io.env);
    this.json = globals.json === true;
    this.io = io;
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
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
