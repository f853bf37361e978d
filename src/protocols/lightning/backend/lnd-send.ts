/**
 * Sending a payment to lnd (SendPaymentV2, streamed) and following it (TrackPaymentV2), for both
 * kinds of payment Warden makes (an invoice, a keysend). A payment once sent is never reported
 * failed or succeeded on a doubtful answer: a malformed one is OUTCOME_UNKNOWN (its reservation
 * stays until reconciled), a cut stream is followed by tracking until the caller's wait is over,
 * then `in_flight`.
 */
import { base64url, hex } from '@scure/base';
import { WardenError } from '../../../core/errors.ts';
import { isRecord } from './answers.ts';
import type { PaymentState } from './backend.ts';
import { paymentOf } from './lnd-payment.ts';
import { grpcStatusOf, type LndConnection, lndStream, malformed, refusal } from './lnd-request.ts';
import { type Expected, sendThenFollow } from './pay-checks.ts';

const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;
const RETRY_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exists(message: string): WardenError {
  const reason = /already paid/.test(message)
    ? 'already_paid'
    : /in transition/.test(message)
      ? 'in_flight'
      : 'exists';
  return new WardenError(
    'LIGHTNING_PAYMENT_EXISTS',
    `lnd already has a payment of this invoice (${message})`,
    {
      protocol: 'lightning',
      reason,
    },
  );
}

export function lndSender(c: LndConnection) {
  /**
   * Follows a payment until it is final or `deadline` (performance.now() ms) passes. Null: lnd
   * has no payment of this hash. A cut stream or a backend that does not answer is asked again.
   */
  async function follow(expected: Expected, deadline: number): Promise<PaymentState | null> {
    const what = 'the payment’s progress';
    const path = `v2/router/track/${base64url.encode(hex.decode(expected.paymentHash))}`;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return { status: 'in_flight', paymentHash: expected.paymentHash };
      try {
        const { status, lines } = await lndStream(
          c,
          'GET',
          path,
          undefined,
          what,
          AbortSignal.timeout(Math.ceil(left)),
        );
        for await (const line of lines) {
          if (isRecord(line) && 'error' in line) {
            const st = grpcStatusOf(line.error);
            if (st?.code === GRPC_NOT_FOUND) return null;
            throw refusal(what, status, line.error);
          }
          if (status !== 200) throw refusal(what, status, line);
          if (!isRecord(line) || !('result' in line)) throw malformed(what, 'not a stream of updates');
          const state = paymentOf(line.result, expected, what);
          if (state.status !== 'in_flight') return state;
        }
      } catch (err) {
        if (!(err instanceof WardenError && err.code === 'BACKEND_UNREACHABLE')) throw err;
      }
      await sleep(Math.min(RETRY_MS, Math.max(0, deadline - performance.now())));
    }
  }

  /** Hands the payment to lnd and reads its stream; null: the stream ended before it was final. */
  async function send(body: Record<string, unknown>, expected: Expected, deadline: number) {
    const what = 'the payment';
    const signal = AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now())));
    const { status, lines } = await lndStream(c, 'POST', 'v2/router/send', body, what, signal);
    let started = false;
    for await (const line of lines) {
      if (isRecord(line) && 'error' in line) {
        // An error on the stream before any update: lnd refused to start it. After one: the
        // payment exists, and its end is known by following it.
        if (started) return null;
        const st = grpcStatusOf(line.error);
        if (st?.code === GRPC_ALREADY_EXISTS) throw exists(st.message);
        throw refusal(what, status, line.error);
      }
      if (status !== 200) throw refusal(what, status, line);
      if (!isRecord(line) || !('result' in line)) throw malformed(what, 'not a stream of updates');
      const state = paymentOf(line.result, expected, what);
      started = true;
      if (state.status !== 'in_flight') return state;
    }
    return null;
  }

  /**
   * Sends (SendPaymentV2) and follows the payment to its end or the deadline. What certainly did
   * not leave, or lnd refused before starting, is thrown as it is; every doubt after that is
   * OUTCOME_UNKNOWN, never failed.
   */
  function dispatch(body: Record<string, unknown>, expected: Expected, deadline: number) {
    return sendThenFollow(
      'lnd',
      () => send(body, expected, deadline),
      () => follow(expected, deadline),
    );
  }

  return { follow, dispatch };
}
