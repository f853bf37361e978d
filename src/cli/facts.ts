/**
 * What registering the commands must know of the rest of Warden: the lists the help text names and
 * the flags each protocol module adds. They live in modules that are heavy to import (the protocol
 * registry loads viem and nostr-tools, the policy templates every protocol's vocabulary), which
 * `warden --help` must not pay for. So the build (scripts/build.js) computes them once and writes
 * them beside the compiled CLI; run from the sources (no build), the CLI computes them itself.
 */
import { readFileSync } from 'node:fs';

export interface ProtocolFlag {
  /** Commander's form, e.g. `--evm-rpc <chainId=url>`. */
  flags: string;
  description: string;
}

export interface CliFacts {
  /** Every capability an agent token may hold. */
  capabilities: string[];
  /** The names of the ready-made policies. */
  policyTemplates: string[];
  /** What `requests list --status` takes. */
  requestFilters: string[];
  /** The environment variable that names warden.yaml. */
  configEnv: string;
  /** The override flags of every protocol module, in the order the modules declare them. */
  protocolFlags: ProtocolFlag[];
}

/** The file the build writes next to this module's compiled form. */
export const FACTS_FILE = 'facts.json';

/** The facts, from the modules that own them (slow: it imports the gateway). */
export async function computeFacts(): Promise<CliFacts> {
  const gateway = await import('../gateway/index.ts');
  return {
    capabilities: [...gateway.CAPABILITIES],
    policyTemplates: Object.keys(gateway.POLICY_TEMPLATES),
    requestFilters: [...gateway.REQUEST_FILTERS],
    configEnv: gateway.CONFIG_ENV,
    protocolFlags: Object.values(gateway.CONFIG_SECTIONS).flatMap((section) =>
      section.flags.map((f) => ({ flags: f.flags, description: f.description })),
    ),
  };
}

/** The facts the build wrote, else (running from the sources) computed. */
export async function loadFacts(): Promise<CliFacts> {
  let text: string;
  try {
    text = readFileSync(new URL(`./${FACTS_FILE}`, import.meta.url), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return computeFacts();
  }
  return JSON.parse(text) as CliFacts;
}
