/**
 * The `warden` command. Every command is registered here (names, arguments, options, help text)
 * from light modules only: what a command does lives under actions/ and is imported when that
 * command runs, so `warden --help` or a usage error never loads the gateway, the protocol modules
 * or the database.
 */
import { Command, CommanderError } from 'commander';
import { asWardenError, isWardenError, WardenError } from '../core/errors.ts';
import { wardenVersion } from '../core/version.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerBitcoinCommands } from './commands/bitcoin.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerDoctorCommand } from './commands/doctor.ts';
import { registerGatewayCommands } from './commands/gateway.ts';
import { registerIdentityCommands } from './commands/identity.ts';
import { registerMcpCommand } from './commands/mcp.ts';
import { registerNwcCommands } from './commands/nwc.ts';
import type { Action, Registration, Runner } from './commands/options.ts';
import { registerStartCommand } from './commands/start.ts';
import { registerVaultCommands } from './commands/vault.ts';
import type { CliIo, GlobalOptions } from './context.ts';
import { type CliFacts, loadFacts } from './facts.ts';

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

export function buildProgram(io: CliIo, run: Runner, facts: CliFacts) {
  const program = new Command('warden')
    .description('Warden: a key vault and signing gateway for AI agents. Agents never hold keys.')
    .option('--home <dir>', 'data directory (default: $WARDEN_HOME, else ~/.warden)')
    .option('--json', 'machine-readable output')
    .version(wardenVersion(), '-V, --version', 'print the Warden version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError();
  const registration: Registration = { run, facts };
  registerVaultCommands(program, registration);
  registerStartCommand(program, registration);
  registerIdentityCommands(program, registration);
  registerGatewayCommands(program, registration);
  registerNwcCommands(program, registration);
  registerAuditCommands(program, registration);
  registerConfigCommands(program, registration);
  registerMcpCommand(program, registration);
  registerDoctorCommand(program, registration);
  registerBitcoinCommands(program, registration);
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
  // Known before commander parses: a usage error must be JSON too when --json was asked for.
  let json = wantsJson(argv.slice(2));
  const run: Runner = (load, name) =>
    async function (this: Command) {
      const globals = this.optsWithGlobals() as GlobalOptions;
      json = globals.json === true;
      // The context resolves the home through the gateway: heavy, so it comes with the action.
      const [{ CliContext }, actions] = await Promise.all([import('./context.ts'), load()]);
      const ctx = new CliContext(globals, io, this);
      await (actions[name] as Action)(ctx, this);
      exitCode = ctx.exitCode;
    };
  try {
    const program = buildProgram(io, run, await loadFacts());
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        return EXIT_OK;
      // Commander already printed the message (and help) on stderr; stdout gets the JSON error.
      if (json) writeJsonError(io, usageError(err.message.replace(/^error: /, '')));
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

/** `--json` among the arguments before a `--` (after which everything is an operand). */
function wantsJson(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

function writeJsonError(io: CliIo, err: WardenError): void {
  io.stdout.write(
    `${JSON.stringify({ error: { code: err.code, message: err.message, details: err.details } })}\n`,
  );
}

function reportError(io: CliIo, err: WardenError, json: boolean): void {
  if (json) writeJsonError(io, err);
  io.stderr.write(`${err.code}: ${err.message}\n`);
  // A list of problems (every one of a bad policy, say) is shown in full, one per line.
  const list = err.details.problemList;
  if (typeof list === 'string') for (const line of list.split('\n')) io.stderr.write(`  - ${line}\n`);
}

function defaultIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

export function usageError(message: string): WardenError {
  return new WardenError('USAGE', message);
}
