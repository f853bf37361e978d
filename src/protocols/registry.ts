/**
 * The one table of what Warden can do: protocol modules and, through them, every operation by
 * its name. Capabilities, HTTP routes, the OpenAPI document and MCP tools are all read from here.
 * Adding an operation is one entry in its module's `operations`; adding a protocol, one line below.
 */
import type { Migration } from 'kysely';
import { ERROR_CODES, type ErrorCode } from '../core/errors.ts';
import { bitcoinModule } from './bitcoin/index.ts';
import { evmModule } from './evm/index.ts';
import { lightningModule } from './lightning/index.ts';
import type { AnyAdminAction, AnyModule, ErrorCodeDeclaration } from './module.ts';
import { nostrModule } from './nostr/index.ts';
import type { AnyOperation } from './operation.ts';

/** What a front door reads of an operation (its name, route, schemas, words). */
export type RegisteredOperation = AnyOperation;

export const MODULES: readonly AnyModule[] = [nostrModule, evmModule, bitcoinModule, lightningModule];

export const OPERATIONS: readonly AnyOperation[] = MODULES.flatMap((m) => m.operations);

const BY_NAME = new Map<string, AnyOperation>();
for (const op of OPERATIONS) {
  for (const name of [op.name, ...(op.aliases ?? [])]) {
    if (BY_NAME.has(name)) throw new Error(`operation ${name} is registered twice`);
    BY_NAME.set(name, op);
  }
}

/** The operation of a name or alias, if there is one. */
export function operationNamed(name: string): AnyOperation | undefined {
  return BY_NAME.get(name);
}

export function moduleNamed(name: string): AnyModule | undefined {
  return MODULES.find((m) => m.name === name);
}

/** Every capability an agent token may hold: one per operation (several may share one). */
export const CAPABILITIES: readonly string[] = [...new Set(OPERATIONS.map((o) => o.capability))];

/** Every module's own migrations, declared in the store's one name order (whatever the modules' order). */
export const MODULE_MIGRATIONS: Readonly<Record<string, Migration>> = Object.fromEntries(
  MODULES.flatMap((m) => Object.entries(m.migrations ?? {})).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
);

/** Facets that are bigint quantities, whichever module declares them. */
export const QUANTITY_FACETS: ReadonlySet<string> = new Set(MODULES.flatMap((m) => m.quantityFacets ?? []));

const ADMIN_ACTIONS = new Map<string, AnyAdminAction>(
  MODULES.flatMap((m) => (m.admin ?? []).map((a) => [a.name, a] as const)),
);

/** A module's admin action by name (`bitcoin.multisig.create`), if there is one. */
export function adminActionNamed(name: string): AnyAdminAction | undefined {
  return ADMIN_ACTIONS.get(name);
}

/** Every module's own error codes; a code declared twice (or also a core code) is a build error. */
const MODULE_ERROR_CODES = new Map<string, ErrorCodeDeclaration>();
for (const m of MODULES) {
  for (const [code, declaration] of Object.entries(m.errorCodes ?? {})) {
    if (MODULE_ERROR_CODES.has(code) || (ERROR_CODES as readonly string[]).includes(code))
      throw new Error(`error code ${code} is declared twice`);
    MODULE_ERROR_CODES.set(code, declaration);
  }
}

/** A module's declaration of `code`; undefined for a core code (or none). */
export function moduleErrorCode(code: ErrorCode | string): ErrorCodeDeclaration | undefined {
  return MODULE_ERROR_CODES.get(code);
}

/** Every code a WardenError may carry: core's and every module's. */
export const ALL_ERROR_CODES: readonly string[] = [...ERROR_CODES, ...MODULE_ERROR_CODES.keys()];
