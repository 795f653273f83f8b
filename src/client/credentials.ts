import { ProtocolError, type Result } from '../protocol/index.js';
import type { ControlChannel } from './control.js';
import { CredentialsMissingError } from './errors.js';
import type { IdentityStore } from './identity.js';

export interface Credentials {
  user: string;
  password?: string | undefined;
  token?: string | undefined;
  useKeptToken: boolean;
  device: string;
  listen: boolean;
}

/**
 * Logs a control channel on: the given token, else the token kept in `home` for this server and
 * user, else the password; a refused token falls back to the password when there is one. A fresh
 * token is kept in `home` (0600) so the next command needs no password.
 */
export async function authenticate(
  control: ControlChannel,
  server: string,
  home: IdentityStore,
  credentials: Credentials,
): Promise<Result<'logon'>> {
  const { user, password, device, listen } = credentials;
  let token = credentials.token;
  if (token === undefined && credentials.useKeptToken) {
    const kept = await home.session();
    if (kept && kept.server === server && kept.user === user) token = kept.token;
  }
  let result: Result<'logon'> | undefined;
  if (token !== undefined) {
    try {
      result = await control.request('logon', { user, token, device, listen });
    } catch (error) {
      const refused = error instanceof ProtocolError && error.code === 'AUTH_FAILED';
      if (!refused) throw error;
      if (password === undefined) {
        throw new CredentialsMissingError(
          'the kept session has expired: log in again or set BUDDYLINK_PASSWORD',
        );
      }
    }
  }
  if (!result) {
    if (password === undefined) throw new CredentialsMissingError();
    result = await control.request('logon', { user, password, device, listen });
  }
  await home.saveSession({
    server,
    user: result.user,
    token: result.token,
    tokenExpiresAt: result.tokenExpiresAt,
  });
  return result;
}
