/**
 * Each protocol module's section of warden.yaml (`protocols.<module>`): its zod schema, the rules
 * that depend on the unsafe options, the module configuration it becomes, and the command-line
 * flags that override it. config/ validates with these; the CLI registers the flags from them.
 * Adding a protocol with a backend is one entry here.
 */
import type { z } from 'zod';
import {
  type BitcoinSection,
  bitcoinModuleConfig,
  bitcoinSectionSchema,
  checkBitcoinSection,
} from './bitcoin/config.ts';
import {
  checkEvmSection,
  type EvmSection,
  type EvmSectionContext,
  evmModuleConfig,
  evmSectionFromFlags,
  evmSectionSchema,
  type TorRoute,
} from './evm/config.ts';
import {
  checkLightningSection,
  type LightningSection,
  lightningModuleConfig,
  lightningSectionSchema,
} from './lightning/config.ts';

/** A flag that overrides part of a section (repeatable: its values are collected in order). */
export interface SectionFlag<S> {
  /** Commander's form, e.g. `--evm-rpc <chainId=url>`. */
  readonly flags: string;
  readonly description: string;
  /** The section the values give; undefined when the flag was not used. */
  toSection(values: readonly string[]): S | undefined;
}

export interface ProtocolConfigSection<S> {
  readonly schema: z.ZodType<S>;
  check?(
    section: S,
    context: { unsafe: Readonly<Record<string, boolean>>; override: S | undefined; tor: TorRoute | null },
  ): { path: string[]; message: string }[];
  toModule(section: S | undefined, context: { tor: TorRoute | null; baseDir: string }): unknown;
  readonly flags: readonly SectionFlag<S>[];
}

const evmSection: ProtocolConfigSection<EvmSection> = {
  schema: evmSectionSchema,
  check: (section, context) =>
    checkEvmSection(section, {
      unsafe: {
        allow_loopback_rpc: context.unsafe.allow_loopback_rpc === true,
        allow_direct_backends: context.unsafe.allow_direct_backends === true,
      },
      override: context.override,
      tor: context.tor,
    } satisfies EvmSectionContext),
  toModule: evmModuleConfig,
  flags: [
    {
      flags: '--evm-rpc <chainId=url>',
      description:
        'JSON-RPC endpoint of an EVM chain (repeatable), e.g. 42161=http://127.0.0.1:8545; overrides protocols.evm.rpc of warden.yaml for that chain',
      toSection: evmSectionFromFlags,
    },
  ],
};

const bitcoinSection: ProtocolConfigSection<BitcoinSection> = {
  schema: bitcoinSectionSchema,
  check: (section, context) => checkBitcoinSection(section, context),
  toModule: bitcoinModuleConfig,
  flags: [],
};

const lightningSection: ProtocolConfigSection<LightningSection> = {
  schema: lightningSectionSchema,
  check: (section, context) => checkLightningSection(section, context),
  toModule: lightningModuleConfig,
  flags: [],
};

/** Module name → its configuration section. Only modules with a backend have one. */
// biome-ignore lint/suspicious/noExplicitAny: each module's section has its own type
export const CONFIG_SECTIONS: Readonly<Record<string, ProtocolConfigSection<any>>> = {
  bitcoin: bitcoinSection,
  evm: evmSection,
  lightning: lightningSection,
};
