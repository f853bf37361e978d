import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.[cm]?[jt]s$/.test(name) ? [path] : [];
  });
}

test('Math.random appears nowhere in src/ (key material and ids come from the OS CSPRNG)', () => {
  const files = sourceFiles(SRC);
  assert.ok(files.length > 10, 'the scan found the sources');
  const offenders = files.filter((f) =>
    /Math\s*\.\s*random|Math\s*\[\s*['"`]random/.test(readFileSync(f, 'utf8')),
  );
  assert.deepEqual(offenders, []);
});

test('policy/ and risk/ are pure: no I/O, no clock reads, no randomness, only core/ of ours', () => {
  const offenders = sourceFiles(SRC)
    .filter((f) => /\/src\/(policy|risk)\//.test(f))
    .flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      const bad = [
        /from 'node:/.test(text) && 'imports node:',
        /Date\.now\(|new Date\(\)/.test(text) && 'reads the clock',
        /getRandomValues|randomBytes/.test(text) && 'uses randomness',
        /from '\.\.\/(keys|store|audit|config|gateway|api|cli|protocols|net)\//.test(text) &&
          'imports another room',
      ].filter(Boolean);
      return bad.map((b) => `${f}: ${b}`);
    });
  assert.deepEqual(offenders, []);
});

test('front doors (cli/, api/) reach the other rooms only through the gateway', () => {
  const offenders = sourceFiles(SRC)
    .filter((f) => /\/src\/(cli|api)\//.test(f))
    .filter(
      (f) =>
        /from '(\.\.\/)+(keys|store|audit|config|policy|risk|net)\//.test(readFileSync(f, 'utf8')) ||
        // Of the protocol modules, front doors see the registry only (names, routes, schemas).
        /from '(\.\.\/)+protocols\/(?!registry\.ts')/.test(readFileSync(f, 'utf8')),
    );
  assert.deepEqual(offenders, []);
});

/**
 * The rooms table of ARCHITECTURE.md: which rooms each room may import. core/ holds the shared
 * types (Intent, Decision, WardenError) and imports nothing of ours, so every room may use it.
 */
const MAY_IMPORT: Record<string, string[]> = {
  core: [],
  config: ['core'],
  store: ['core'],
  keys: ['core', 'store'],
  audit: ['core', 'store', 'keys'],
  policy: ['core'],
  risk: ['core'],
  net: ['core'],
  // Values from core, net, and policy and risk (a module declares its facets and catalog rows in
  // their types and helpers); from keys and store types only (checked below).
  protocols: ['core', 'net', 'policy', 'risk', 'keys', 'store'],
  gateway: ['core', 'config', 'store', 'keys', 'audit', 'policy', 'risk', 'protocols', 'net'],
  api: ['core', 'gateway', 'protocols'],
  cli: ['core', 'api', 'gateway'],
};

test('protocol modules take keys and store as types only: signers and tables come through their context', () => {
  const offenders = sourceFiles(SRC)
    .filter((f) => f.slice(SRC.length).startsWith('protocols/'))
    .flatMap((f) =>
      [
        ...readFileSync(f, 'utf8').matchAll(/^import (?!type )[^;]*from '(\.[^']*\/(keys|store)\/[^']*)'/gm),
      ].map((m) => `${f.slice(SRC.length)} imports ${m[1]} as a value`),
    );
  assert.deepEqual(offenders, []);
});

/**
 * Nothing outside protocols/ and the protocol-specific front doors names a protocol: core, policy,
 * gateway, store and risk know protocols only as modules of the registry, facets and catalog rows.
 * Comments may name them. The exceptions, each with its reason:
 */
const PROTOCOL_NAME = /\b(nostr|evm|bitcoin|lightning|ethereum)\b/i;
const NAMES_ALLOWED: Record<string, RegExp> = {
  // Secret formats are redacted from every log line and error, whatever module is loaded: a
  // safety net that must not depend on the registry (an NWC URI, the Nostr auth scheme).
  'core/redact.ts': /NWC_URI = |Bearer\|Basic\|Digest\|Nostr/,
  // The name of a migration that databases remember having run; it can never change.
  'store/migrations.ts': /'0003_evm_nonce_address'/,
};

test('core, policy, gateway, store and risk name no protocol outside comments', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const rel = file.slice(SRC.length);
    if (!/^(core|policy|gateway|store|risk)\//.test(rel)) continue;
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    // What code says, read from the syntax tree (comments are not in it): names and literals.
    const visit = (node: ts.Node): void => {
      if (
        ts.isIdentifier(node) ||
        ts.isStringLiteral(node) ||
        ts.isNoSubstitutionTemplateLiteral(node) ||
        ts.isTemplateHead(node) ||
        ts.isTemplateMiddle(node) ||
        ts.isTemplateTail(node) ||
        ts.isRegularExpressionLiteral(node)
      ) {
        const text = node.getText(source);
        const allowed = NAMES_ALLOWED[rel];
        const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const lineText = source.text.split('\n')[line] ?? '';
        if (PROTOCOL_NAME.test(text) && !allowed?.test(lineText))
          offenders.push(`${rel}:${line + 1}: ${text}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  assert.ok(sourceFiles(SRC).length > 50, 'the scan found the sources');
  assert.deepEqual(offenders, []);
});

test('every room imports only the rooms ARCHITECTURE.md allows it', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const room = file.slice(SRC.length).split('/')[0]!;
    const allowed = MAY_IMPORT[room];
    if (!allowed) {
      offenders.push(`${file}: not in a room of the table`);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from '(\.[^']*)'/g)) {
      const target = join(file, '..', m[1]!);
      if (!target.startsWith(SRC)) continue;
      const targetRoom = target.slice(SRC.length).split('/')[0]!;
      if (targetRoom !== room && !allowed.includes(targetRoom))
        offenders.push(`${file.slice(SRC.length)} imports ${targetRoom}/`);
    }
  }
  assert.deepEqual(offenders, []);
});

/**
 * Outbound connections are opened in net/ only (Tor, pinning, URL checks and deadlines live there).
 * Elsewhere: no global fetch/WebSocket/EventSource, no socket or HTTP(S) client module, no network
 * client of viem or nostr-tools. Read from the syntax tree, so a method that happens to be called
 * fetch (audit/cursor.ts) or a call through net's own `Net.fetch` (chains/) is not mistaken for one.
 */
const NET_MODULE =
  /^(node:)?(net|http|https|http2|tls|dgram)$|^(undici|ws)$|^nostr-tools\/(pool|relay|abstract-pool|abstract-relay|nip05|nip11|nip46|nip96)$/;
const NET_GLOBALS = new Set(['fetch', 'WebSocket', 'EventSource', 'XMLHttpRequest']);
const GLOBAL_OBJECTS = new Set(['globalThis', 'global', 'self', 'window']);
/** Named imports of packages we depend on that would open connections. */
const NET_NAMED_IMPORTS: Record<string, RegExp> = {
  viem: /^(http|webSocket|fallback|custom|ipc|create(Public|Wallet|Test)?Client)$/,
  'nostr-tools': /^(SimplePool|Relay|AbstractPool|AbstractRelay|useWebSocketImplementation)$/,
};
/**
 * Files that only listen, or only read addresses. The HTTP front door binds its server with node:https's createServer (the
 * TLS variant, handed to @hono/node-server, which creates the plain one itself) and uses node:net
 * only for the type of the bound address and isIP (the loopback check on --host): exactly these
 * names, nothing that connects.
 */
const LISTEN_ONLY: Record<string, Record<string, string[]>> = {
  'api/http/server.ts': { 'node:https': ['createServer'], 'node:net': ['AddressInfo', 'isIP'] },
  // The tor section's host:port check (an IP literal, never a name to resolve): isIP only.
  'config/config-schema.ts': { 'node:net': ['isIP'] },
};

function outboundUses(file: string, text: string): string[] {
  const rel = file.slice(SRC.length);
  const allowed = LISTEN_ONLY[rel] ?? {};
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const at = (node: ts.Node) => `${rel}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;

  const checkImport = (node: ts.Node, spec: string, clause: ts.ImportClause | undefined) => {
    if (NET_MODULE.test(spec)) {
      const names = allowed[spec];
      const bindings = clause?.namedBindings;
      const named =
        names && clause && !clause.name && bindings && ts.isNamedImports(bindings)
          ? bindings.elements.map((e) => (e.propertyName ?? e.name).text)
          : undefined;
      if (!named || named.some((n) => !names!.includes(n))) found.push(`${at(node)} imports ${spec}`);
    }
    const pattern = NET_NAMED_IMPORTS[spec];
    const bindings = clause?.namedBindings;
    if (pattern && bindings && ts.isNamedImports(bindings)) {
      for (const e of bindings.elements) {
        const name = (e.propertyName ?? e.name).text;
        if (pattern.test(name)) found.push(`${at(node)} imports ${name} from ${spec}`);
      }
    }
  };

  const isTypeOnly = (node: ts.Node): boolean => {
    for (let n = node.parent; n; n = n.parent) {
      if (ts.isTypeQueryNode(n) || ts.isTypeReferenceNode(n)) return true;
      if (!ts.isQualifiedName(n)) return false;
    }
    return false;
  };

  /** `const { fetch: f } = globalThis` */
  const destructuresGlobal = (b: ts.BindingElement): boolean => {
    const decl = b.parent.parent;
    return (
      ts.isVariableDeclaration(decl) &&
      !!decl.initializer &&
      ts.isIdentifier(decl.initializer) &&
      GLOBAL_OBJECTS.has(decl.initializer.text)
    );
  };

  /** A name in a property or member position (obj.fetch, { fetch: x }, fetch() {}), not a variable. */
  const isMemberName = (node: ts.Identifier): boolean => {
    const p = node.parent;
    return (
      (ts.isPropertyAccessExpression(p) && p.name === node) ||
      ((ts.isPropertyAssignment(p) ||
        ts.isMethodDeclaration(p) ||
        ts.isMethodSignature(p) ||
        ts.isPropertyDeclaration(p) ||
        ts.isPropertySignature(p) ||
        ts.isGetAccessorDeclaration(p) ||
        ts.isSetAccessorDeclaration(p)) &&
        p.name === node) ||
      (ts.isBindingElement(p) && p.propertyName === node && !destructuresGlobal(p)) ||
      ts.isImportSpecifier(p) ||
      ts.isExportSpecifier(p)
    );
  };

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      checkImport(node, node.moduleSpecifier.text, node.importClause);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      NET_MODULE.test(node.moduleSpecifier.text)
    ) {
      found.push(`${at(node)} re-exports ${node.moduleSpecifier.text}`);
    } else if (ts.isCallExpression(node) && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      // import('node:net'), require('http'), createRequire(...)('https'), getBuiltinModule('tls');
      // a bare 'http' passed to anything else (startsWith('http')) is not a module.
      const spec = node.arguments[0].text;
      const callee = node.expression;
      const loads =
        spec.startsWith('node:') ||
        callee.kind === ts.SyntaxKind.ImportKeyword ||
        ts.isIdentifier(callee) ||
        ts.isCallExpression(callee) ||
        (ts.isPropertyAccessExpression(callee) && callee.name.text === 'getBuiltinModule');
      if (loads && NET_MODULE.test(spec)) found.push(`${at(node)} loads ${spec}`);
    } else if (
      ts.isIdentifier(node) &&
      NET_GLOBALS.has(node.text) &&
      !isMemberName(node) &&
      !isTypeOnly(node)
    ) {
      found.push(`${at(node)} uses ${node.text}`);
    } else if (
      ts.isPropertyAccessExpression(node) &&
      NET_GLOBALS.has(node.name.text) &&
      ts.isIdentifier(node.expression) &&
      GLOBAL_OBJECTS.has(node.expression.text)
    ) {
      found.push(`${at(node)} uses ${node.expression.text}.${node.name.text}`);
    } else if (
      ts.isElementAccessExpression(node) &&
      ts.isStringLiteralLike(node.argumentExpression) &&
      NET_GLOBALS.has(node.argumentExpression.text)
    ) {
      found.push(`${at(node)} uses [${node.argumentExpression.text}]`);
    } else if (
      ts.isPropertyAccessExpression(node) &&
      ts.isIdentifier(node.expression) &&
      /^https?2?$/.test(node.expression.text) &&
      /^(request|get|connect)$/.test(node.name.text)
    ) {
      found.push(`${at(node)} calls ${node.expression.text}.${node.name.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test('only net/ opens outbound connections: no fetch, sockets, HTTP clients or WebSockets elsewhere', () => {
  const files = sourceFiles(SRC);
  const inNet = (f: string) => f.startsWith(join(SRC, 'net/'));
  // The scan sees net/'s own sockets (its transport dials with node:net and node:tls), or it would
  // see nothing anywhere and prove nothing.
  const netUses = files.filter(inNet).flatMap((f) => outboundUses(f, readFileSync(f, 'utf8')));
  assert.ok(
    netUses.some((u) => u.includes('imports node:net')) &&
      netUses.some((u) => u.includes('imports node:tls')),
    `the scan finds net/'s own sockets: ${netUses}`,
  );
  // And the listen-only allowance is for a file that exists and imports what it names.
  for (const rel of Object.keys(LISTEN_ONLY)) {
    const text = readFileSync(join(SRC, rel), 'utf8');
    for (const spec of Object.keys(LISTEN_ONLY[rel]!))
      assert.ok(text.includes(`from '${spec}'`), `${rel}: ${spec}`);
  }
  const offenders = files.filter((f) => !inNet(f)).flatMap((f) => outboundUses(f, readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
});
