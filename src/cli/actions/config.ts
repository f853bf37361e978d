import type { Command } from 'commander';
import { stringify } from 'yaml';
import { CONFIG_ENV, configDocument, UNSAFE_OPTIONS, type WardenConfig } from '../../gateway/index.ts';
import type { CliContext } from '../context.ts';
import { effectiveConfig } from './config-flags.ts';

function fileLine(config: WardenConfig): string {
  const { path, source, exists } = config.file;
  const why = source === 'option' ? '--file' : source === 'env' ? `$${CONFIG_ENV}` : 'the home';
  return exists ? `${path} (from ${why})` : `${path} (from ${why}; absent: the defaults apply)`;
}

function fileJson(config: WardenConfig) {
  return { path: config.file.path, source: config.file.source, exists: config.file.exists };
}

export async function show(ctx: CliContext, command: Command): Promise<void> {
  const effective = effectiveConfig(ctx, { file: command.opts().file });
  const document = configDocument(effective);
  const unsafeOn = Object.entries(effective.unsafe)
    .filter(([, on]) => on)
    .map(([name]) => name);
  ctx.print(
    [
      `# file: ${fileLine(effective)}`,
      ...(effective.overriddenBy.length > 0 ? [`# overridden by: ${effective.overriddenBy.join(', ')}`] : []),
      ...unsafeOn.map((name) => `# UNSAFE: ${name}: ${UNSAFE_OPTIONS[name as keyof typeof UNSAFE_OPTIONS]}`),
      stringify(document, { indent: 2, lineWidth: 0 }).trimEnd(),
    ],
    { file: fileJson(effective), overriddenBy: effective.overriddenBy, config: document },
  );
}

export async function check(ctx: CliContext, command: Command): Promise<void> {
  const effective = effectiveConfig(ctx, { file: command.opts().file });
  ctx.print(
    effective.file.exists ? `valid: ${fileLine(effective)}` : `no configuration file: ${fileLine(effective)}`,
    { valid: true, file: fileJson(effective) },
  );
}
