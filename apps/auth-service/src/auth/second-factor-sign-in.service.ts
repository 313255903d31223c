import { BadRequestException, Injectable } from '@nestjs/common';
import { AMR } from '@tessera/auth-token';
import { InvalidCredentialsException } from '../login/login.errors';
import { InvalidMfaTokenException } from '../mfa/mfa.errors';
import { MfaService } from '../mfa/mfa.service';
import type { SecondFactorProof } from '../mfa/mfa.service';
import { PasskeysService } from '../mfa/passkeys/passkeys.service';
import type { PasskeyAssertion } from '../mfa/passkeys/passkeys.service';
import { PendingSignInsService } from '../mfa/pending-sign-ins.service';
import { UsersService } from '../users/users.service';
import { AuthService } from './auth.service';
import type { RequestContext, TokenRequest } from './auth.service';
import { ADMIN_ROLE, ADMIN_SCOPE, scopeIncludes } from './first-party-client';
import { InvalidScopeException } from './invalid-scope.exception';
import type { TokenResponse } from './token-response';

/**
 * The sign-ins that involve a second factor: the second step after a password (`mfa_token` and a
 * code, a recovery code or a passkey), and a passkey alone. Tokens carry `amr` as RFC 8176 says:
 * `pwd otp mfa`, `pwd hwk user mfa`, or for a passkey alone (possession, and the user verified
 * by the authenticator) `hwk user mfa`.
 */
@Injectable()
export class SecondFactorSignInService {
  constructor(
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
    private readonly passkeys: PasskeysService,
    private readonly pendingSignIns: PendingSignInsService,
    private readonly users: UsersService,
  ) {}

  /**
   * @throws InvalidMfaTokenException (401) for an unknown, spent or expired `mfa_token`
   * @throws TooManySecondFactorAttemptsException (429), InvalidSecondFactorException (401) from MfaService
   */
  async complete(
    mfaToken: string,
    proof: SecondFactorProof,
    context: RequestContext,
  ): Promise<TokenResponse> {
    const given = [proof.code, proof.recoveryCode, proof.passkey].filter((p) => p !== undefined);
    if (given.length !== 1) {
      throw new BadRequestException('Send exactly one of code, recovery_code and passkey');
    }
    const pending = await this.pendingSignIns.find(mfaToken);
    if (!pending) throw new InvalidMfaTokenException();
    // One submission at a time: a concurrent one is refused as for a used token, checking nothing.
    const methods = await this.pendingSignIns.complete(pending.id, () =>
      this.mfa.verify(pending.userId, proof, context),
    );
    const user = await this.users.findById(pending.userId);
    if (!user || user.disabledAt) throw new InvalidCredentialsException();
    return this.auth.signedIn(
      user,
      { scope: pending.scope, audiences: pending.audiences },
      [AMR.password, ...methods, AMR.multiFactor],
      context,
    );
  }

  /**
   * WebAuthn options: as a second factor (the pending user's passkeys), or passwordless.
   * @throws TooManyPasskeySignInsException (429) for too many passwordless ones from the address
   */
  async passkeyOptions(mfaToken: string | undefined, context: RequestContext) {
    if (mfaToken === undefined) return this.mfa.passwordlessOptions(context);
    const pending = await this.pendingSignIns.find(mfaToken);
    if (!pending) throw new InvalidMfaTokenException();
    return this.passkeys.authenticationOptions(pending.userId);
  }

  /**
   * A passwordless sign-in with a discoverable passkey (user verification required).
   * @throws InvalidScopeException, InvalidTargetException (400) as for a password sign-in
   * @throws InvalidSecondFactorException (401) when the passkey does not verify
   */
  async signInWithPasskey(
    assertion: PasskeyAssertion,
    requested: TokenRequest,
    context: RequestContext,
  ): Promise<TokenResponse> {
    const grant = await this.auth.firstPartyGrant(requested);
    // Audited as succeeded before the role check, as a password sign-in is (AuthService.signIn).
    const user = await this.mfa.passkeySignIn(assertion, context);
    if (scopeIncludes(grant.scope, ADMIN_SCOPE) && !user.roles.includes(ADMIN_ROLE)) {
      throw new InvalidScopeException(`The scope ${ADMIN_SCOPE} needs the ${ADMIN_ROLE} role`);
    }
    return this.auth.signedIn(
      user,
      grant,
      [AMR.hardwareKey, AMR.userPresence, AMR.multiFactor],
      context,
    );
  }
}
