import { Command, CommanderError } from 'commander';
import { asWardenError, isWardenError, WardenError } from '../core/errors.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerGatewayCommands } from './commands/gateway.ts';
import { registerIdentityCommands } from './commands/identity.ts';
import { registerStartCommand } from './commands/start.ts';
import { registerVaultCommands } from './commands/vault.ts';
import { CliContext, type CliIo, type GlobalOptions } from './context.ts';

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

export function buildProgram(
  io: CliIo,
  run: (action: (ctx: CliContext) => Promise<void>) => () => Promise<void>,
) {
  const program = new Command('warden')
    .description('Warden: a key vault and signing gateway for AI agents. Agents never hold keys.')
    .option('--home <dir>', 'data directory (default: $WARDEN_HOME, else ~/.warden)')
    .option('--json', 'machine-readable output')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError();
  registerVaultCommands(program, run);
  registerStartCommand(program, run);
  registerIdentityCommands(program, run);
  registerGatewayCommands(program, run);
  registerAuditCommands(program, run);
  return program;
}

/**
 * Runs the CLI and returns its exit code: 0 success, 1 refused or failed (`CODE: message` on
 * stderr), 2 usage error. Never prints a stack trace or a secret.
 */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  // Everything this process creates (database, WAL, logs, keystore) is private to its owner.
  process.umask(0o077);
  let exitCode = EXIT_OK;
  let json = false;
  const run = (action: (ctx: CliContext) => Promise<void>) =>
    async function (this: Command) {
      const globals = this.optsWithGlobals() as GlobalOptions;
      json = globals.json === true;
      await action(new CliContext(globals, io));
    };
  const program = buildProgram(io, run);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        return EXIT_OK;
      return EXIT_USAGE;
    }
    const wardenError = asWardenError(err);
    exitCode = wardenError.code === 'USAGE' ? EXIT_USAGE : EXIT_REFUSED;
    reportError(io, wardenError, json);
    if (!isWardenError(err) && io.env.WARDEN_DEBUG === '1')
      io.stderr.write(`(internal: ${String((err as Error)?.name)})\n`);
  }
  return exitCode;
}

function reportError(io: CliIo, err: WardenError, json: boolean): void {
  if (json) {
    io.stdout.write(
      `${JSON.stringify({ error: { code: err.code, message: err.message, details: err.details } })}\n`,
    );
  }
  io.stderr.write(`${err.code}: ${err.message}\n`);
}

function defaultIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

export function usageError(message: string): WardenError {
  return new WardenError('USAGE', message);
}
