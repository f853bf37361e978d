import { setTimeout as sleep } from 'node:timers/promises';
import { isWardenError, WardenError } from '../../core/errors.ts';
import { localOperator, type Principal } from '../../core/principal.ts';
import type { Vault } from '../../keys/vault.ts';
import type { AuthFailureThrottle } from '../auth-throttle.ts';
import type { GatewayContext } from '../context.ts';
import { authenticate, presentedTokenId } from '../tokens.ts';

/**
 * Credentials → principal, and the checks every service applies to a principal: the vault is
 * unsealed, the principal's role and identity allow the call, and it is within its rate limits.
 * Bearer tokens today; NIP-46 client keys and NWC connections resolve to principals here next.
 */
export class Access {
  #sealReported = false;
  #unavailableReported = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly vault: Vault,
    private readonly throttle: AuthFailureThrottle,
  ) {}

  /**
   * Every credential is checked, whatever failed before: a valid token is never refused because of
   * other clients' failures. Failures are slowed down per presented token id and in total.
   */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    let principal: Principal;
    try {
      principal = await authenticate(this.ctx.store.db, authorization, this.ctx.clock);
    } catch (err) {
      // Sealed, token rows cannot be checked (their MAC key is gone): not a failure to count.
      if (isWardenError(err, 'VAULT_SEALED')) this.requireUnsealed();
      const verdict = this.throttle.failure(presentedTokenId(authorization), this.ctx.clock.now().getTime());
      if (!verdict.limited) throw err;
      await this.throttle.wait(verdict.delayMs, sleep);
      throw new WardenError('RATE_LIMITED', 'too many failed authentications; slow down', {
        operation: 'auth.failure',
        retryAfterSeconds: verdict.retryAfterSeconds,
      });
    }
    // A sealed vault serves nothing and says so (not an authentication failure: not counted).
    this.requireUnsealed();
    return principal;
  }

  /** The CLI's principal: whoever holds the passphrase acts as an admin, through the same checks. */
  localOperator(actor: string): Principal {
    this.requireUnsealed();
    return localOperator(actor, this.ctx.clock.now());
  }

  /**
   * VAULT_SEALED once the vault has sealed itself (its passphrase was changed by another
   * process); the first time, the operator's log says so at error level.
   */
  requireUnsealed(): void {
    try {
      this.vault.requireUnsealed();
    } catch (err) {
      if (isWardenError(err, 'VAULT_SEALED') && !this.#sealReported) {
        this.#sealReported = true;
        this.ctx.logger.error(
          { code: err.code, reason: err.details.reason ?? null },
          'the vault has sealed itself: restart Warden and unseal it with the current passphrase',
        );
      }
      throw err;
    }
  }

  /**
   * The health monitors see: `sealed` once the vault has sealed itself, `unavailable` when the
   * keystore cannot even be read (damaged, removed); then the server answers nothing else.
   */
  health(): 'ok' | 'sealed' | 'unavailable' {
    try {
      this.requireUnsealed();
      return 'ok';
    } catch (err) {
      if (isWardenError(err, 'VAULT_SEALED')) return 'sealed';
      if (!this.#unavailableReported) {
        this.#unavailableReported = true;
        this.ctx.logger.error(
          { code: isWardenError(err) ? err.code : 'INTERNAL' },
          'the keystore cannot be read',
        );
      }
      return 'unavailable';
    }
  }

  /** Sliding-window limits per principal and operation (RATE_LIMITED when exceeded). */
  limit(principal: Principal, operation: string): void {
    this.ctx.limiter.hit(principal.tokenId, operation, this.ctx.clock.now().getTime());
  }

  /** Agents act for their own identity only; others may name any identity that exists. */
  scope(principal: Principal, identity: string | undefined): string {
    if (principal.role === 'agent') {
      if (identity !== undefined && identity !== principal.identity) {
        throw new WardenError('FORBIDDEN', 'this token acts for another identity');
      }
      return principal.identity!;
    }
    if (identity === undefined) throw new WardenError('INVALID_REQUEST', 'name an identity');
    this.vault.getIdentity(identity);
    return identity;
  }

  /** The identity an optional filter narrows to: an agent's own always, others' only if named. */
  scopeFilter(principal: Principal, identity: string | undefined): string | undefined {
    return principal.role === 'agent' || identity !== undefined ? this.scope(principal, identity) : undefined;
  }

  requireRole(principal: Principal, roles: readonly Principal['role'][]): void {
    if (!roles.includes(principal.role))
      throw new WardenError('FORBIDDEN', `this needs a ${roles.join(' or ')} token`);
  }
}
