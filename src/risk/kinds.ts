/** Nostr event kinds and EVM function selectors that some catalog rows single out. */
/** Nostr kinds that can redirect an identity, its messages, its tips, or log it in elsewhere. */
export const PROFILE_KINDS: readonly number[] = [
  0, // profile metadata (name, picture, nip05, lud16: where tips go)
  3, // follow list (who the identity trusts)
  10002, // NIP-65 relay list (where the identity is read and written)
  10050, // NIP-17 DM relay list (where its private messages are delivered)
];
export const HTTP_AUTH_KINDS: readonly number[] = [27235]; // NIP-98 HTTP auth
export const ZAP_REQUEST_KINDS: readonly number[] = [9734]; // NIP-57 zap request
export const IDENTITY_REDIRECTION_KINDS: readonly number[] = [
  ...PROFILE_KINDS,
  ...HTTP_AUTH_KINDS,
  ...ZAP_REQUEST_KINDS,
];
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
