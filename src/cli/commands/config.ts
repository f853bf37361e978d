import type { Command } from 'commander';
import { type Registration, withProtocolFlags } from './options.ts';

const actions = () => import('../actions/config.ts');

export function registerConfigCommands(program: Command, { run, facts }: Registration): void {
  const config = program
    .command('config')
    .description('warden.yaml: the listener, protocol backends and unsafe options (docs/config.md)');

  withProtocolFlags(
    config
      .command('show')
      .description(
        'print the effective configuration: warden.yaml, the flags given here over it, and the defaults (URLs redacted)',
      )
      .option('--file <file>', `read this file instead of $${facts.configEnv} or the home's warden.yaml`),
    facts,
  ).action(run(actions, 'show'));

  withProtocolFlags(
    config
      .command('check')
      .description('validate warden.yaml (and the flags given here); exit 1 with the path of each problem')
      .option('--file <file>', `check this file instead of $${facts.configEnv} or the home's warden.yaml`),
    facts,
  ).action(run(actions, 'check'));
}
