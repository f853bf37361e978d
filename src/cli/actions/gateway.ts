import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { WardenError } from '../../core/errors.ts';
import type { Capability, Role } from '../../core/principal.ts';
import {
  explainPolicy as explainLines,
  POLICY_TEMPLATES,
  parseDuration,
  parsePolicy,
  policyJsonSchema,
  type TokenSpec,
  validateTokenSpec,
} from '../../gateway/index.ts';
import type { CliContext } from '../context.ts';
import { protocolFlagNames, withCliGateway } from './config-flags.ts';
import { localOperator } from './local-operator.ts';

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

// Tokens

export async function createToken(ctx: CliContext, command: Command): Promise<void> {
  const o = command.opts();
  const ttlMs = o.ttl === undefined ? undefined : parseDuration(o.ttl);
  if (ttlMs === null) throw new WardenError('USAGE', '--ttl takes a duration such as 12h or 30d');
  const spec: TokenSpec = {
    role: o.role as Role,
    identity: o.identity ?? null,
    capabilities: o.cap as Capability[],
    label: o.label,
    ...(ttlMs === undefined ? {} : { ttlMs }),
  };
  // The gateway checks the spec again; checked here, a bad role or capability costs no unseal.
  validateTokenSpec(spec);
  await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
    const { token: secret, info } = await gateway.admin.createToken(localOperator(gateway, w), spec);
    ctx.print(
      [
        `token ${info.id} (${info.role}${info.identity ? ` for ${info.identity}` : ''}, expires ${info.expiresAt})`,
        secret,
        'Store it now: it is not shown again.',
      ],
      { token: secret, ...info },
    );
  });
}

export async function listTokens(ctx: CliContext, command: Command): Promise<void> {
  await withCliGateway(ctx, command.opts().passphraseFile, async (gateway, w) => {
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
}

export async function revokeToken(ctx: CliContext, command: Command): Promise<void> {
  await withCliGateway(ctx, command.opts().passphraseFile, async (gateway, w) => {
    const info = await gateway.admin.revokeToken(localOperator(gateway, w), command.args[0]!);
    ctx.print(`token ${info.id} revoked`, info);
  });
}

// Policies

export async function setPolicy(ctx: CliContext, command: Command): Promise<void> {
  const o = command.opts();
  if (!o.identity === !o.default)
    throw new WardenError('USAGE', 'give exactly one of --identity NAME or --default');
  const document = readDocument(command.args[0]!);
  parsePolicy(document);
  await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
    const loaded = await gateway.admin.setPolicy(localOperator(gateway, w), o.identity ?? null, document);
    ctx.print(
      [
        `policy ${loaded.policy.name} set for ${o.identity ?? 'the default'} (sha256 ${loaded.hash})`,
        ...explainLines(loaded.policy),
      ],
      {
        identity: o.identity ?? '*',
        hash: loaded.hash,
        explain: explainLines(loaded.policy),
      },
    );
  });
}

export async function showPolicy(ctx: CliContext, command: Command): Promise<void> {
  const o = command.opts();
  await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
    const loaded = await gateway.reads.policy(localOperator(gateway, w), o.identity);
    ctx.print([`# source: ${loaded.source}, sha256 ${loaded.hash}`, loaded.document.trimEnd()], {
      identity: o.identity,
      source: loaded.source,
      hash: loaded.hash,
      document: loaded.document,
    });
  });
}

export async function explainPolicy(ctx: CliContext, command: Command): Promise<void> {
  const o = command.opts();
  const file = command.args[0];
  if (!file === !o.identity) throw new WardenError('USAGE', 'give a FILE or --identity NAME');
  if (file) {
    const lines = explainLines(parsePolicy(readDocument(file)));
    ctx.print(lines, { explain: lines });
    return;
  }
  await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
    const lines = (await gateway.reads.policy(localOperator(gateway, w), o.identity)).explain;
    ctx.print(lines, { identity: o.identity, explain: lines });
  });
}

export async function policySchema(ctx: CliContext): Promise<void> {
  ctx.io.stdout.write(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
}

export async function policyTemplate(ctx: CliContext, command: Command): Promise<void> {
  const name = command.args[0]!;
  const text = POLICY_TEMPLATES[name];
  if (!text)
    throw new WardenError('USAGE', `unknown template; one of ${Object.keys(POLICY_TEMPLATES).join(', ')}`);
  if (ctx.json) ctx.print([], { name, template: text });
  else ctx.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export async function testPolicy(ctx: CliContext, command: Command): Promise<void> {
  const o = command.opts();
  let body: { operation?: unknown; identity?: unknown; request?: unknown };
  try {
    body = JSON.parse(readDocument(command.args[0]!));
  } catch (err) {
    if (err instanceof WardenError) throw err;
    throw new WardenError('INVALID_JSON', 'the request file is not valid JSON');
  }
  if (typeof body.operation !== 'string' || typeof body.identity !== 'string') {
    throw new WardenError('INVALID_REQUEST', 'the request file needs "operation", "identity" and "request"');
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
      [`${d.outcome.toUpperCase()} (${d.code}): ${d.reason}`, ...(d.remedy ? [`to pass: ${d.remedy}`] : [])],
      result,
    );
    // Scripts can test a policy by the exit code: 1 when the request would be denied.
    if (d.outcome === 'deny') ctx.exitCode = 1;
  });
}

// Ledger

export async function showLedger(ctx: CliContext, command: Command): Promise<void> {
  const o = command.opts();
  await withCliGateway(ctx, o.passphraseFile, async (gateway, w) => {
    const totals = (await gateway.reads.ledger(localOperator(gateway, w), o.identity)).totals;
    ctx.print(
      totals.length === 0
        ? 'the ledger is empty'
        : [
            'IDENTITY\tASSET\tSTATUS\tAMOUNT\tFEES\tCOUNT',
            ...totals.map((t) => `${t.identity}\t${t.asset}\t${t.status}\t${t.total}\t${t.fees}\t${t.count}`),
          ],
      totals.map((t) => ({ ...t, total: t.total.toString(), fees: t.fees.toString() })),
    );
  });
}

export async function reconcileLedger(ctx: CliContext, command: Command): Promise<void> {
  const o = command.opts();
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
}
