import type { Command } from 'commander';
import { stringify } from 'yaml';
import { CONFIG_ENV, configDocument, UNSAFE_OPTIONS, type WardenConfig } from '../../gateway/index.ts';
import { effectiveConfig, withProtocolFlags } from './config-flags.ts';
import type { Runner } from './shared.ts';

function fileLine(config: WardenConfig): string {
  const { path, source, exists } = config.file;
  const why = source === 'option' ? '--file' : source === 'env' ? `$${CONFIG_ENV}` : 'the home';
  return exists ? `${path} (from ${why})` : `${path} (from ${why}; absent: the defaults apply)`;
}

function fileJson(config: WardenConfig) {
  return { path: config.file.path, source: config.file.source, exists: config.file.exists };
}

export function registerConfigCommands(program: Command, run: Runner): void {
  const config = program
    .command('config')
    .description('warden.yaml: the listener, protocol backends and unsafe options (docs/config.md)');

  const show = withProtocolFlags(
    config
      .command('show')
      .description(
        'print the effective configuration: warden.yaml, the flags given here over it, and the defaults (URLs redacted)',
      )
      .option('--file <file>', `read this file instead of $${CONFIG_ENV} or the home's warden.yaml`),
  );
  show.action(
    run(async (ctx) => {
      const effective = effectiveConfig(ctx, { file: show.opts().file });
      const document = configDocument(effective);
      const unsafeOn = Object.entries(effective.unsafe)
        .filter(([, on]) => on)
        .map(([name]) => name);
      ctx.print(
        [
          `# file: ${fileLine(effective)}`,
          ...(effective.overriddenBy.length > 0
            ? [`# overridden by: ${effective.overriddenBy.join(', ')}`]
            : []),
          ...unsafeOn.map(
            (name) => `# UNSAFE: ${name}: ${UNSAFE_OPTIONS[name as keyof typeof UNSAFE_OPTIONS]}`,
          ),
          stringify(document, { indent: 2, lineWidth: 0 }).trimEnd(),
        ],
        { file: fileJson(effective), overriddenBy: effective.overriddenBy, config: document },
      );
    }),
  );

  const check = withProtocolFlags(
    config
      .command('check')
      .description('validate warden.yaml (and the flags given here); exit 1 with the path of each problem')
      .option('--file <file>', `check this file instead of $${CONFIG_ENV} or the home's warden.yaml`),
  );
  check.action(
    run(async (ctx) => {
      const effective = effectiveConfig(ctx, { file: check.opts().file });
      ctx.print(
        effective.file.exists
          ? `valid: ${fileLine(effective)}`
          : `no configuration file: ${fileLine(effective)}`,
        { valid: true, file: fileJson(effective) },
      );
    }),
  );
}
