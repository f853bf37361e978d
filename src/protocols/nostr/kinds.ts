/**
 * The one list of Nostr event kinds that are sensitive to sign: each one logs the identity in
 * somewhere, authorizes uploads, says where its money or messages should go, moves money, or
 * rewrites or erases the identity itself. The default policies hold every kind here for an
 * operator (src/policy/templates.ts) and the risk catalog scores them (src/risk/kinds.ts);
 * docs/policy.md lists them with these reasons. Add a kind here and both follow.
 */
export type SensitiveClass =
  /** who the identity is and whom it trusts, or erasing what it said */
  | 'identity'
  /** where its messages are delivered or how they are encrypted to it */
  | 'messages'
  /** where its money goes, or a payment itself */
  | 'money'
  /** a login or a remote-signing session in its name */
  | 'login'
  /** where its files go, or permission to upload or delete them */
  | 'uploads';

export interface SensitiveKind {
  readonly kind: number;
  readonly nip: string;
  readonly name: string;
  readonly class: SensitiveClass;
  readonly reason: string;
}

export const SENSITIVE_NOSTR_KINDS: readonly SensitiveKind[] = Object.freeze([
  {
    kind: 0,
    nip: 'NIP-01',
    name: 'profile metadata',
    class: 'identity',
    reason: 'name, picture and NIP-05 are who the identity is; lud06/lud16 are where its tips go',
  },
  {
    kind: 3,
    nip: 'NIP-02',
    name: 'follow list',
    class: 'identity',
    reason: 'whom the identity trusts; replaceable, so one event can wipe or swap it',
  },
  {
    kind: 5,
    nip: 'NIP-09',
    name: 'deletion request',
    class: 'identity',
    reason: "asks relays to erase the identity's events, its profile and lists included; cannot be undone",
  },
  {
    kind: 62,
    nip: 'NIP-62',
    name: 'request to vanish',
    class: 'identity',
    reason: 'asks relays to erase everything of the identity, for good',
  },
  {
    kind: 443,
    nip: 'NIP-EE',
    name: 'MLS key package',
    class: 'messages',
    reason: 'group messages to the identity are encrypted to the key inside: whoever made it reads them',
  },
  {
    kind: 9041,
    nip: 'NIP-75',
    name: 'zap goal',
    class: 'money',
    reason: 'its zap tags say who receives the zaps raised',
  },
  {
    kind: 9321,
    nip: 'NIP-61',
    name: 'nutzap',
    class: 'money',
    reason: 'carries Cashu ecash: publishing it pays',
  },
  {
    kind: 9734,
    nip: 'NIP-57',
    name: 'zap request',
    class: 'money',
    reason: "asks for a Lightning payment in the identity's name and says whom it pays",
  },
  {
    kind: 9735,
    nip: 'NIP-57',
    name: 'zap receipt',
    class: 'money',
    reason: 'asserts a Lightning payment was received: a forged one claims money that never moved',
  },
  {
    kind: 10002,
    nip: 'NIP-65',
    name: 'relay list',
    class: 'messages',
    reason: 'where the identity is read and where mentions of it are delivered',
  },
  {
    kind: 10019,
    nip: 'NIP-61',
    name: 'nutzap mints and relays',
    class: 'money',
    reason: 'the mints, relays and key that nutzaps to the identity are locked to',
  },
  {
    kind: 10050,
    nip: 'NIP-17',
    name: 'DM relay list',
    class: 'messages',
    reason: 'where its private messages are delivered',
  },
  {
    kind: 10051,
    nip: 'NIP-EE',
    name: 'key package relay list',
    class: 'messages',
    reason: 'where others fetch the key packages that encrypted groups use to reach it',
  },
  {
    kind: 10063,
    nip: 'BUD-03',
    name: 'Blossom server list',
    class: 'uploads',
    reason: 'where its files are uploaded to and looked up',
  },
  {
    kind: 10096,
    nip: 'NIP-96',
    name: 'file storage server list',
    class: 'uploads',
    reason: 'where its files are uploaded to',
  },
  {
    kind: 17375,
    nip: 'NIP-60',
    name: 'Cashu wallet',
    class: 'money',
    reason: 'the mints and the private key of its ecash wallet: where its money is kept and received',
  },
  {
    kind: 22242,
    nip: 'NIP-42',
    name: 'relay authentication',
    class: 'login',
    reason:
      'logs the identity in to a relay, which then serves it what it guards (its DMs on an inbox relay)',
  },
  {
    kind: 23194,
    nip: 'NIP-47',
    name: 'wallet connect request',
    class: 'money',
    reason: 'tells a connected wallet to pay, or to reveal balance and history',
  },
  {
    kind: 24133,
    nip: 'NIP-46',
    name: 'remote signing message',
    class: 'login',
    reason: 'commands (or answers) a remote signer; what it carries is encrypted and cannot be checked',
  },
  {
    kind: 24242,
    nip: 'BUD-01',
    name: 'Blossom authorization',
    class: 'uploads',
    reason: "lets its bearer upload, list or delete files in the identity's name",
  },
  {
    kind: 27235,
    nip: 'NIP-98',
    name: 'HTTP auth',
    class: 'login',
    reason: 'logs the identity in to an HTTP service chosen by whoever wrote the request',
  },
  {
    kind: 37375,
    nip: 'NIP-60',
    name: 'Cashu wallet (earlier draft)',
    class: 'money',
    reason: 'the same wallet as 17375 in the draft spelling some wallets still read',
  },
] satisfies SensitiveKind[]);

/** The kinds of the given classes, in the table's order (ascending). */
export function sensitiveKinds(...classes: SensitiveClass[]): number[] {
  return SENSITIVE_NOSTR_KINDS.filter((k) => classes.length === 0 || classes.includes(k.class)).map(
    (k) => k.kind,
  );
}
