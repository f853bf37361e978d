/**
 * What the registration of every command shares: the action type, the runner that loads an action
 * only when its command runs, and the option parsers. This file and its siblings in commands/ are
 * imported for every `warden` run (`--help` included), so they import nothing heavy: no gateway,
 * no protocol module; what they must know of those comes from the facts (../facts.ts).
 */
import type { Command } from 'commander';
import { WardenError } from '../../core/errors.ts';
import type { CliContext } from '../context.ts';
import type { CliFacts } from '../facts.ts';

/** What a command does: a function of a module under actions/, given the command as parsed. */
export type Action = (ctx: CliContext, command: Command) => Promise<void>;

/** The names of a module's exports that are actions. */
export type ActionName<M> = { [K in keyof M]: M[K] extends Action ? K : never }[keyof M];

/**
 * Commander's handler for the action `name` of the module `load` imports; the import happens when
 * the command runs, after commander has parsed and checked its arguments.
 */
export type Runner = <M>(load: () => Promise<M>, name: ActionName<M>) => (this: Command) => Promise<void>;

/** What a noun's registration gets: the runner, and the facts its help text and flags name. */
export interface Registration {
  run: Runner;
  facts: CliFacts;
}

export function withPassphraseFile(cmd: Command): Command {
  return cmd.option('--passphrase-file <file>', 'read the vault passphrase from FILE (must be mode 0600)');
}

export function parsePositiveInt(name: string) {
  return (value: string): number => {
    if (!/^[0-9]{1,9}$/.test(value) || Number(value) < 1) {
      throw new WardenError('USAGE', `${name} must be a positive integer`);
    }
    return Number(value);
  };
}

/** A repeatable option's values, in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Adds the override flags of every protocol module (today `--evm-rpc`) to a command. */
export function withProtocolFlags(cmd: Command, facts: CliFacts): Command {
  for (const flag of facts.protocolFlags) cmd.option(flag.flags, flag.description, collect, []);
  return cmd;
}
