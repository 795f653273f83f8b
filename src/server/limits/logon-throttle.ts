import type { BlockList } from 'node:net';
import { ProtocolError } from '../../protocol/errors.js';
import type { ServerOptions } from '../config.js';
import type { Logger } from '../log.js';
import { type LimitCounters, limitKey } from './counters.js';
import { listed, sourceKey } from './source.js';

export type LogonThrottleOptions = Pick<
  ServerOptions,
  | 'logonFailuresPerAccount'
  | 'logonFailuresPerSource'
  | 'logonFailureWindowSeconds'
  | 'logonBackoffSeconds'
  | 'logonBackoffMaxSeconds'
  | 'accountsPerSource'
  | 'accountWindowSeconds'
>;

/**
 * Failed logons throttled per account and per source, with exponential back-off once the free failures
 * within the window are spent (what ejabberd's mod_fail2ban and Prosody's limits do). Checked before the
 * password is hashed, so a guesser costs the server no scrypt. Per account only for passwords: a token
 * has 256 bits, and an account lock on tokens would let anyone lock a user out of their devices.
 * Each failure is logged at warn with the salted address tag (never the IP), for an operator's fail2ban.
 */
export class LogonThrottle {
  constructor(
    private readonly counters: LimitCounters,
    private readonly options: LogonThrottleOptions,
    private readonly log: Logger,
    private readonly addressTag: (ip: string) => string,
    private readonly exempt: BlockList,
    private readonly onLimited: (limit: 'logon-backoff' | 'account-creation') => void = () => {},
  ) {}

  /**
   * RATE_LIMITED while the account or the source is backing off. Password logons only: a token has 256
   * bits and costs one SHA-256 to check, and a lock on tokens would let a guesser lock out the real
   * devices of a user (or everyone behind the same NAT). Token failures are still counted and logged.
   */
  async check(user: string, ip: string, byPassword: boolean): Promise<void> {
    if (!byPassword) return;
    const now = Date.now();
    const keys = listed(this.exempt, ip) ? [] : [limitKey('logon-lock-src', sourceKey(ip))];
    keys.push(limitKey('logon-lock-acct', user));
    for (const key of keys) {
      const until = await this.counters.markedUntil(key);
      if (until > now) {
        this.onLimited('logon-backoff');
        throw new ProtocolError(
          'RATE_LIMITED',
          `too many failed logons; retry in ${Math.ceil((until - now) / 1000)} s`,
        );
      }
    }
  }

  /**
   * A password logon is about to hash: it is counted now, before the hash, so that many guesses at once
   * cannot all pass before the first failure is counted (32 concurrent guessers would otherwise each get
   * a scrypt). RATE_LIMITED when the count is past the free failures; `succeeded` gives it back.
   */
  async begin(user: string, ip: string): Promise<void> {
    const windowMs = this.options.logonFailureWindowSeconds * 1000;
    const src = sourceKey(ip);
    const bySource = listed(this.exempt, ip)
      ? 0
      : await this.counters.add(limitKey('logon-fail-src', src), 1, windowMs);
    const byAccount = await this.counters.add(limitKey('logon-fail-acct', user), 1, windowMs);
    if (bySource > this.options.logonFailuresPerSource || byAccount > this.options.logonFailuresPerAccount) {
      await this.#lock(user, ip, bySource, byAccount);
      this.onLimited('logon-backoff');
      throw new ProtocolError('RATE_LIMITED', 'too many failed logons; retry later');
    }
  }

  /** The password was right: the attempt counted by `begin` is given back. */
  async succeeded(user: string, ip: string): Promise<void> {
    const windowMs = this.options.logonFailureWindowSeconds * 1000;
    if (!listed(this.exempt, ip))
      await this.counters.add(limitKey('logon-fail-src', sourceKey(ip)), -1, windowMs);
    await this.counters.add(limitKey('logon-fail-acct', user), -1, windowMs);
  }

  /** A failed logon: a password one was counted by `begin`; a token one is counted here (source only). */
  async failed(user: string, ip: string, byPassword: boolean): Promise<void> {
    const windowMs = this.options.logonFailureWindowSeconds * 1000;
    const src = sourceKey(ip);
    const exempt = listed(this.exempt, ip);
    const bySource = exempt
      ? 0
      : await this.counters.add(limitKey('logon-fail-src', src), byPassword ? 0 : 1, windowMs);
    const byAccount = byPassword
      ? await this.counters.add(limitKey('logon-fail-acct', user), 0, windowMs)
      : 0;
    const backoff = byPassword ? await this.#lock(user, ip, bySource, byAccount) : 0;
    this.log.warn(
      {
        user,
        addr: this.addressTag(src),
        failuresFromSource: bySource,
        failuresOfAccount: byAccount,
        backoffSeconds: backoff / 1000,
      },
      'logon failed',
    );
  }

  /** Sets the back-off marks the counts call for; the longer of the two, in ms. */
  async #lock(user: string, ip: string, bySource: number, byAccount: number): Promise<number> {
    const sourceBackoff = listed(this.exempt, ip)
      ? 0
      : this.#backoff(bySource, this.options.logonFailuresPerSource);
    if (sourceBackoff > 0)
      await this.counters.mark(limitKey('logon-lock-src', sourceKey(ip)), Date.now() + sourceBackoff);
    const accountBackoff = this.#backoff(byAccount, this.options.logonFailuresPerAccount);
    if (accountBackoff > 0)
      await this.counters.mark(limitKey('logon-lock-acct', user), Date.now() + accountBackoff);
    return Math.max(sourceBackoff, accountBackoff);
  }

  /** Account creation per source: RATE_LIMITED beyond accountsPerSource within the window. */
  async accountCreation(ip: string): Promise<void> {
    if (listed(this.exempt, ip)) return;
    const n = await this.counters.add(
      limitKey('account-create', sourceKey(ip)),
      1,
      this.options.accountWindowSeconds * 1000,
    );
    if (n > this.options.accountsPerSource) {
      this.log.warn({ addr: this.addressTag(sourceKey(ip)) }, 'account creation throttled');
      this.onLimited('account-creation');
      throw new ProtocolError('RATE_LIMITED', 'too many accounts created from your address; try later');
    }
  }

  /** Milliseconds of back-off after the `failures`-th failure, given `free` failures without any. */
  #backoff(failures: number, free: number): number {
    if (failures < free) return 0;
    const ms = this.options.logonBackoffSeconds * 1000 * 2 ** Math.min(30, failures - free);
    return Math.min(ms, this.options.logonBackoffMaxSeconds * 1000);
  }
}
