/** Nostr event kinds and EVM function selectors that some catalog rows single out. */
import { SENSITIVE_NOSTR_KINDS, sensitiveKinds } from '../protocols/nostr/kinds.ts';

/*
 * The sensitive kinds come from the one table in protocols/nostr/kinds.ts (the default policies hold
 * the same kinds); the catalog scores them in three rows, by what they redirect.
 */
/** What the identity is, where it is read and messaged, where its files go, or erasing it. */
export const PROFILE_KINDS: readonly number[] = sensitiveKinds('identity', 'messages', 'uploads');
/** Logins and remote-signing sessions in its name (NIP-42, NIP-98, NIP-46). */
export const HTTP_AUTH_KINDS: readonly number[] = sensitiveKinds('login');
/** Where its money goes, or a payment itself (zaps, nutzaps, Cashu wallet, wallet connect). */
export const ZAP_REQUEST_KINDS: readonly number[] = sensitiveKinds('money');
/** Every sensitive kind, each in exactly one of the three lists above. */
export const IDENTITY_REDIRECTION_KINDS: readonly number[] = SENSITIVE_NOSTR_KINDS.map((k) => k.kind);
/** Direct messages: NIP-04 (4), NIP-17 chat message (14), its seal (13) and gift wrap (1059). */
export const DM_KINDS: readonly number[] = [4, 13, 14, 1059];
export const NIP04_DM_KINDS: readonly number[] = [4];

/**
 * EVM selectors that grant a spender power over tokens: approve, increaseAllowance, setApprovalForAll,
 * EIP-2612 permit, DAI-style permit, Permit2 approve. (Replayed against viem's toFunctionSelector in tests.)
 */
export const APPROVAL_SELECTORS: readonly string[] = [
  '0x095ea7b3', // approve(address,uint256)
  '0x39509351', // increaseAllowance(address,uint256)
  '0xa22cb465', // setApprovalForAll(address,bool)
  '0xd505accf', // permit(address,address,uint256,uint256,uint8,bytes32,bytes32)
  '0x8fcbaf0c', // permit(address,address,uint256,uint256,bool,uint8,bytes32,bytes32) (DAI)
  '0x87517c45', // approve(address,address,uint160,uint48) (Permit2)
];
