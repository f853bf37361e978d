import type { Command } from 'commander';
import { WardenError } from '../../core/errors.ts';
import { Gateway, type ProtocolConfig, type Warden } from '../../gateway/index.ts';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function withEvmRpcOption(cmd: Command): Command {
  return cmd.option(
    '--evm-rpc <chainId=url>',
    'JSON-RPC endpoint of an EVM chain (repeatable), e.g. 42161=http://127.0.0.1:8545',
    collect,
    [],
  );
}

/** Parses `--evm-rpc 42161=http://…` flags into a chainId → URL map. */
export function parseEvmRpcFlags(values: string[]): Map<number, string> {
  const map = new Map<number, string>();
  for (const v of values) {
    const m = /^([1-9][0-9]{0,15})=(https?:\/\/.+)$/.exec(v);
    if (!m || !Number.isSafeInteger(Number(m[1])))
      throw new WardenError('USAGE', `--evm-rpc takes CHAINID=URL, got "${v.slice(0, 80)}"`);
    map.set(Number(m[1]), m[2]!);
  }
  return map;
}

/** The protocol modules' configuration the flags give. */
export function protocolsFromFlags(evmRpc: string[] = []): ProtocolConfig {
  return { evm: { rpcUrls: parseEvmRpcFlags(evmRpc) } };
}

/** The gateway of a CLI command: it records decisions; the running server executes what they release. */
export function cliGateway(warden: Warden, evmRpc: string[] = []): Gateway {
  return new Gateway(warden, {
    logger: warden.logger,
    protocols: protocolsFromFlags(evmRpc),
    executeApprovals: false,
  });
}
