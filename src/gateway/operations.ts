import { WardenError } from '../core/errors.ts';
import { type SignerKind, type SignerOf, signerFor } from '../keys/capabilities.ts';
import type { SchnorrThread } from '../keys/schnorr-thread.ts';
import type { Vault } from '../keys/vault.ts';
import { type Policy, tightestCap } from '../policy/index.ts';
import type { AnyModule } from '../protocols/module.ts';
import type { AnyOperation, ExecutionContext, IntentContext } from '../protocols/operation.ts';
import { MODULES, moduleNamed, operationNamed } from '../protocols/registry.ts';
import type { Store } from '../store/store.ts';

/** Each module's configuration section, by module name (`evm: { rpcUrls }`). */
export type ProtocolConfig = Readonly<Record<string, unknown>>;

/**
 * The registry's operations as this process runs them: each module's backend built once from its
 * configuration, and the narrow contexts an operation gets at each step. An operation whose module
 * has no backend configured is not offered (`NOT_FOUND`: not enabled on this server).
 */
export class Operations {
  readonly #backends = new Map<string, unknown>();

  constructor(
    private readonly vault: Vault,
    private readonly store: Store,
    config: ProtocolConfig = {},
  ) {
    for (const m of MODULES) this.#backends.set(m.name, m.backend?.(config[m.name]) ?? null);
  }

  #enabled(op: AnyOperation): boolean {
    const module = moduleNamed(op.protocol);
    return !module?.needsBackend?.includes(op.name) || this.#backends.get(op.protocol) !== null;
  }

  /** The enabled operation of a name or alias; NOT_FOUND otherwise. */
  get(name: string): AnyOperation {
    const op = operationNamed(name);
    if (!op || !this.#enabled(op))
      throw new WardenError('NOT_FOUND', `operation ${name.slice(0, 64)} is not enabled on this server`);
    return op;
  }

  /** Whether a name or alias reaches an enabled operation. */
  has(name: string): boolean {
    const op = operationNamed(name);
    return op !== undefined && this.#enabled(op);
  }

  /** The operation a stored request names, enabled or not (a held request can still be shown). */
  stored(name: string): AnyOperation | undefined {
    return operationNamed(name);
  }

  /** Every enabled operation, in registry order. */
  enabled(): AnyOperation[] {
    return MODULES.flatMap((m) => m.operations).filter((op) => this.#enabled(op));
  }

  /** Modules with their backends, for reconcile. */
  modules(): { module: AnyModule; backend: unknown }[] {
    return MODULES.map((module) => ({ module, backend: this.#backends.get(module.name) ?? null }));
  }

  /** With the policy the intent will be judged by, the caps it sets (IntentContext.policyCap). */
  intentContext(op: AnyOperation, identity: string, policy?: Policy): IntentContext<unknown> {
    return {
      identity,
      publicKeys: this.vault.getIdentity(identity),
      backend: this.#backends.get(op.protocol) ?? null,
      tables: this.store.db,
      controlPlane: this.vault.controlPlaneMac(),
      ...(policy ? { policyCap: (name: string) => tightestCap(policy, name) } : {}),
    };
  }

  /**
   * What one execution gets: the signer it declared for this identity (KEY_NOT_ACTIVE when the
   * identity has no such key), its backend and tables, and two questions about its request row.
   */
  executionContext(
    op: AnyOperation,
    identity: string,
    requestId: string,
    thread?: SchnorrThread,
  ): ExecutionContext<unknown, SignerOf<SignerKind>, unknown> {
    const { store } = this;
    return {
      requestId,
      identity,
      publicKeys: this.vault.getIdentity(identity),
      signer: signerFor(this.vault, identity, op.signer, thread),
      backend: this.#backends.get(op.protocol) ?? null,
      tables: store.db,
      async stillExecuting() {
        const row = await store.db
          .selectFrom('request')
          .select('status')
          .where('id', '=', requestId)
          .executeTakeFirst();
        return row?.status === 'executing';
      },
      async recordBeforeSend(result, state) {
        await store.transaction(async (tx) => {
          if (state) await state(tx);
          await tx
            .updateTable('request')
            .set({ result: JSON.stringify(result) })
            .where('id', '=', requestId)
            .execute();
        });
      },
    };
  }
}
