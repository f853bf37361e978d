/**
 * `bitcoin.sign_psbt` without the request path around it: parse, intent, review and sign of one
 * PSBT, for an honest one (one taproot input of ours paying a stranger) and for the costliest the
 * caps let through (test/protocols/bitcoin/worst-psbt.ts: 64 claimed derivations, each derived and
 * failing). The ratio of the two is what the caps bound; the ratio to raw signing, what one costs.
 */
import { signerFor } from '../src/keys/capabilities.ts';
import { signPsbtOperation as op } from '../src/protocols/bitcoin/sign-psbt/operation.ts';
import { identityView, seedVault } from '../test/protocols/bitcoin/fixture.ts';
import { honestPsbt, WORST_CLAIMS, worstPsbtWithinCaps } from '../test/protocols/bitcoin/worst-psbt.ts';
import { type BenchOptions, measure, type StageResult } from './measure.ts';

export async function psbtSignStages(options: BenchOptions): Promise<StageResult[]> {
  const keys = identityView();
  const ctx = { identity: 'psbt-tester', publicKeys: keys, backend: null };
  const signer = signerFor(seedVault(), 'psbt-tester', 'bitcoin-psbt');
  const path = (psbt: string) => async () => {
    const parsed = op.parse({ psbt }, new Date());
    const intent = await op.toIntent(parsed, ctx);
    op.review(parsed, intent, keys);
    const outcome = op.sign!(parsed, intent, signer);
    if (outcome.status !== 'done') throw new Error(`the PSBT was not signed: ${outcome.status}`);
  };
  const honest = path(honestPsbt());
  const worst = path(worstPsbtWithinCaps());
  await measure('warm-up', 'warm-up', 20, 1, honest); // curve tables and the JIT are not measured
  const n = Math.max(20, Math.floor(options.n / 20));
  return [
    await measure(
      'bitcoin.sign_psbt.honest',
      'sign_psbt, one taproot input of ours, in process',
      n,
      1,
      honest,
    ),
    {
      ...(await measure(
        'bitcoin.sign_psbt.worst_case',
        'sign_psbt, the worst PSBT within the caps, in process',
        n,
        1,
        worst,
      )),
      notes: { claims: WORST_CLAIMS },
    },
  ];
}
