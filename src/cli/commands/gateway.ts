import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { WardenError } from '../../core/errors.ts';
import { type Capability, ROLES, type Role } from '../../core/principal.ts';
import {
  CAPABILITIES,
  explainPolicy,
  POLICY_TEMPLATES,
  parseDuration,
  parsePolicy,
  policyJsonSchema,
} from '../../gateway/index.ts';
import type { CliContext } from '../context.ts';
import { registerApprovalCommands } from './approvals.ts';
import { protocolFlagNames, withCliGateway, withProtocolFlags } from './config-flags.ts';
import { localOperator } from './local-operator.ts';
import { type Runner, withPassphraseFile } from './shared.ts';

const MAX_DOCUMENT_BYTES = 256 * 1024;

function readDocument(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new WardenError('FILE_NOT_FOUND', `cannot read ${path}`, { path });
  }
  if (text.length > MAX_DOCUMENT_BYTES)
    throw new WardenError('FILE_TOO_LARGE', `${path} is larger than 256 KiB`, { path });
  return text;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerGatewayCommands(program: Command, run: Runner): void {
  // Tokens
  const token = program
    .command('token')
    .description('bearer tokens for agents, operators, admins and viewers');
  const create = withPassphraseFile(
    token
      .command('create')
      .description('create a token; it is shown once and stored only as a hash')
      .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
      .option('--identity <name>', 'the one identity an agent token acts for')
      .option('--cap <capability>', `agent capability (repeatable): ${CAPABILITIES.join(', ')}`, collect, [])
      .option('--ttl <duration>', 'lifetime, e.g. 12h, 30d (default 90d, at most 366d)')
      .option('--label <text>', 'a name to recognise the token by', 'token'),
  );
  create.action(
    run(async (ctx) => {
      const o = create.opts();
      const ttlMs = o.ttl === undefined ? undefined : parseDuration(o.ttl);
      if (ttlMs === null) throw new WardenError('USAGE', '--ttl takes a duration such as 12h or 30d');
      await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
        const { token: secret, info } = await gateway.admin.createToken(localOperator(gateway, w), {
          role: o.role as Role,
          identity: o.identity ?? null,
          capabilities: o.cap as Capability[],
          label: o.label,
          ...(ttlMs === undefined ? {} : { ttlMs }),
        });
        ctx.print(
          [
            `token ${info.id} (${info.role}${info.identity ? ` for ${info.identity}` : ''}, expires ${info.expiresAt})`,
            secret,
            'Store it now: it is not shown again.',
          ],
          { token: secret, ...info },
        );
      });
    }),
  );
  const list = withPassphraseFile(token.command('list').description('list tokens (never their secrets)'));
  list.action(
    run(async (ctx) => {
      await withCliGateway(ctx, list.opts().passphraseFile, async (gateway, w) => {
        const all = await gateway.admin.tokens(localOperator(gateway, w));
        ctx.print(
          all.length === 0
            ? 'no tokens'
            : all.map(
                (t) =>
                  `${t.id}\t${t.role}\t${t.identity ?? '-'}\t${t.capabilities.join(',') || '-'}\t${t.revokedAt ? 'revoked' : `expires ${t.expiresAt}`}\t${t.label}`,
              ),
          all,
        );
      });
    }),
  );
  const revoke = withPassphraseFile(
    token.command('revoke').description('revoke a token at once').argument('<id>'),
  );
  revoke.action(
    run(async (ctx) => {
      await withCliGateway(ctx, revoke.opts().passphraseFile, async (gateway, w) => {
        const info = await gateway.admin.revokeToken(localOperator(gateway, w), revoke.args[0]!);
        ctx.print(`token ${info.id} revoked`, info);
      });
    }),
  );

  // Policies
  const policy = program.command('policy').description('spending and signing policies');
  const set = withPassphraseFile(
    policy
      .command('set')
      .description('validate and store a policy (YAML or JSON) for an identity, or the default')
      .argument('<file>')
      .option('--identity <name>', 'the identity it applies to')
      .option('--default', 'the default for identities without a policy of their own'),
  );
  set.action(
    run(async (ctx) => {
      const o = set.opts();
      if (!o.identity === !o.default)
        throw new WardenError('USAGE', 'give exactly one of --identity NAME or --default');
      const document = readDocument(set.args[0]!);
      parsePolicy(document);
      await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
        const loaded = await gateway.admin.setPolicy(localOperator(gateway, w), o.identity ?? null, document);
        ctx.print(
          [
            `policy ${loaded.policy.name} set for ${o.identity ?? 'the default'} (sha256 ${loaded.hash})`,
            ...explainPolicy(loaded.policy),
          ],
          {
            identity: o.identity ?? '*',
            hash: loaded.hash,
            explain: explainPolicy(loaded.policy),
          },
        );
      });
    }),
  );
  const show = withPassphraseFile(
    policy
      .command('show')
      .description('the policy that applies to an identity')
      .requiredOption('--identity <name>'),
  );
  show.action(
    run(async (ctx) => {
      const o = show.opts();
      await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
        const loaded = await gateway.reads.policy(localOperator(gateway, w), o.identity);
        ctx.print([`# source: ${loaded.source}, sha256 ${loaded.hash}`, loaded.document.trimEnd()], {
          identity: o.identity,
          source: loaded.source,
          hash: loaded.hash,
          document: loaded.document,
        });
      });
    }),
  );
  const explain = withPassphraseFile(
    policy
      .command('explain')
      .description('render a policy in plain language: a FILE, or the policy of --identity')
      .argument('[file]')
      .option('--identity <name>'),
  );
  explain.action(
    run(async (ctx) => {
      const o = explain.opts();
      const file = explain.args[0];
      if (!file === !o.identity) throw new WardenError('USAGE', 'give a FILE or --identity NAME');
      if (file) {
        const lines = explainPolicy(parsePolicy(readDocument(file)));
        ctx.print(lines, { explain: lines });
        return;
      }
      await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
        const lines = (await gateway.reads.policy(localOperator(gateway, w), o.identity)).explain;
        ctx.print(lines, { identity: o.identity, explain: lines });
      });
    }),
  );
  policy
    .command('schema')
    .description('print the JSON Schema of policy documents')
    .action(
      run(async (ctx) => {
        ctx.io.stdout.write(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
      }),
    );
  const template = policy
    .command('template')
    .description(`print a policy template: ${Object.keys(POLICY_TEMPLATES).join(', ')}`)
    .argument('<name>');
  template.action(
    run(async (ctx) => {
      const text = POLICY_TEMPLATES[template.args[0]!];
      if (!text)
        throw new WardenError(
          'USAGE',
          `unknown template; one of ${Object.keys(POLICY_TEMPLATES).join(', ')}`,
        );
      if (ctx.json) ctx.print([], { name: template.args[0], template: text });
      else ctx.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }),
  );
  const test = withProtocolFlags(
    withPassphraseFile(
      policy
        .command('test')
        .description(
          'evaluate a request against the policy with no side effect: REQUEST.json is {operation, identity, request}',
        )
        .argument('<request-file>'),
    ),
  );
  test.action(
    run(async (ctx) => {
      const o = test.opts();
      let body: { operation?: unknown; identity?: unknown; request?: unknown };
      try {
        body = JSON.parse(readDocument(test.args[0]!));
      } catch (err) {
        if (err instanceof WardenError) throw err;
        throw new WardenError('INVALID_JSON', 'the request file is not valid JSON');
      }
      if (typeof body.operation !== 'string' || typeof body.identity !== 'string') {
        throw new WardenError(
          'INVALID_REQUEST',
          'the request file needs "operation", "identity" and "request"',
        );
      }
      await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
        const names = gateway.operationNames;
        if (!gateway.hasOperation(body.operation as string))
          throw new WardenError('INVALID_REQUEST', `operation must be one of ${names.join(', ')}`);
        const result = await gateway.requests.dryRun(
          localOperator(gateway, w),
          body.operation as string,
          body.request,
          body.identity as string,
        );
        const d = result.decision as { outcome: string; code: string; reason: string; remedy: string | null };
        ctx.print(
          [
            `${d.outcome.toUpperCase()} (${d.code}): ${d.reason}`,
            ...(d.remedy ? [`to pass: ${d.remedy}`] : []),
          ],
          result,
        );
        // Scripts can test a policy by the exit code: 1 when the request would be denied.
        if (d.outcome === 'deny') ctx.exitCode = 1;
      });
    }),
  );

  registerApprovalCommands(program, run);

  // Ledger
  const ledger = program.command('ledger').description('the exact budget ledger');
  const lshow = withPassphraseFile(
    ledger.command('show').description('totals per identity, asset and status').option('--identity <name>'),
  );
  lshow.action(
    run(async (ctx) => {
      const o = lshow.opts();
      await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
        const totals = (await gateway.reads.ledger(localOperator(gateway, w), o.identity)).totals;
        ctx.print(
          totals.length === 0
            ? 'the ledger is empty'
            : [
                'IDENTITY\tASSET\tSTATUS\tAMOUNT\tFEES\tCOUNT',
                ...totals.map(
                  (t) => `${t.identity}\t${t.asset}\t${t.status}\t${t.total}\t${t.fees}\t${t.count}`,
                ),
              ],
          totals.map((t) => ({ ...t, total: t.total.toString(), fees: t.fees.toString() })),
        );
      });
    }),
  );
  const rec = withProtocolFlags(
    withPassphraseFile(
      ledger
        .command('reconcile')
        .description(
          'list reservations whose outcome is unknown; --commit or --release one after checking what ' +
            'happened, or --from-chain to let the chain decide where its answer is certain',
        )
        .option('--commit <request-id>', 'it happened: count it for good')
        .option('--release <request-id>', 'it did not happen: free the budget')
        .option(
          '--from-chain',
          'let the backends decide (EVM: commit what was mined, release what can never be, its nonce taken); needs a backend in warden.yaml or --evm-rpc',
        ),
    ),
  );
  rec.action(
    run(async (ctx: CliContext) => {
      const o = rec.opts();
      if ([o.commit, o.release, o.fromChain].filter(Boolean).length > 1)
        throw new WardenError('USAGE', 'give one of --commit, --release or --from-chain');
      await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
        if (o.fromChain) {
          if (!gateway.operations.modules().some((m) => m.backend !== null))
            throw new WardenError(
              'USAGE',
              `--from-chain needs a backend: name one in warden.yaml (protocols) or with ${protocolFlagNames().join(', ')}`,
            );
          const verdicts = await gateway.admin.reconcileFromBackends(localOperator(gateway, w));
          ctx.print(
            verdicts.length === 0
              ? 'nothing to reconcile'
              : verdicts.map((v) => `${v.requestId}\t${v.verdict}\t${v.reason}`),
            verdicts,
          );
          return;
        }
        if (o.commit || o.release) {
          await gateway.admin.reconcile(
            localOperator(gateway, w),
            o.commit ?? o.release,
            o.commit ? 'commit' : 'release',
          );
          ctx.print(`${o.commit ?? o.release}: ${o.commit ? 'committed' : 'released'}`, {
            requestId: o.commit ?? o.release,
            verdict: o.commit ? 'commit' : 'release',
          });
          return;
        }
        const stuck = await gateway.admin.stuck(localOperator(gateway, w));
        ctx.print(
          stuck.length === 0
            ? 'nothing to reconcile'
            : stuck.map(
                (s) =>
                  `${s.requestId}\t${s.identity}\t${s.protocol}\t${s.status} since ${s.since}\t${s.amount} ${s.asset}`,
              ),
          stuck,
        );
      });
    }),
  );
}
