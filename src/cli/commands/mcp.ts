import type { Command } from 'commander';
import type { Registration } from './options.ts';

const actions = () => import('../actions/mcp.ts');

export function registerMcpCommand(program: Command, { run }: Registration): void {
  program
    .command('mcp')
    .description(
      "MCP over stdio, for agent clients that launch a command: relays to the running server's /mcp (keys, ledger and approvals stay in the server; this process holds only the agent's token)",
    )
    .option('--url <url>', 'the server (default: the listener of warden.yaml, else http://127.0.0.1:7878)')
    .option('--token-file <file>', "the agent's token (must be mode 0600); default: $WARDEN_TOKEN")
    .action(run(actions, 'mcp'));
}
