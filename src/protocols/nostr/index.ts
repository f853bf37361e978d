import type { ProtocolModule } from '../module.ts';
import { signEventOperation } from './sign-event.ts';

export const nostrModule: ProtocolModule<null, never> = {
  name: 'nostr',
  operations: [signEventOperation],
};
