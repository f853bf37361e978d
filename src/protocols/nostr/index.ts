import type { ProtocolModule } from '../module.ts';
import { NOSTR_ERROR_CODES } from './errors.ts';
import { signEventOperation } from './sign-event.ts';

export const nostrModule: ProtocolModule<null, never> = {
  name: 'nostr',
  operations: [signEventOperation],
  errorCodes: NOSTR_ERROR_CODES,
};
