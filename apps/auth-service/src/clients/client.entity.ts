import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/**
 * An OAuth client (RFC 6749 §2): who may ask for tokens, with which grants, for which scopes and
 * audiences. A confidential client authenticates with a secret, of which only the SHA-256 is
 * kept; a public one (a browser or mobile front end) has none.
 */
@Entity({ name: 'clients' })
export class Client {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  type!: 'public' | 'confidential';

  @Column({ name: 'secret_hash', type: 'bytea', nullable: true })
  secretHash!: Buffer | null;

  @Column({ name: 'grant_types', type: 'text', array: true })
  grantTypes!: GrantType[];

  @Column({ type: 'text', array: true })
  scopes!: string[];

  @Column({ type: 'text', array: true })
  audiences!: string[];

  /**
   * What a token gets when the request names no `resource` (RFC 8707): a subset of `audiences`.
   * Set by the registry; empty for a client made with the `clients` command.
   */
  @Column({ name: 'default_audiences', type: 'text', array: true, default: () => "'{}'" })
  defaultAudiences!: string[];

  /**
   * Where the authorization endpoint may send the browser back (RFC 6749 §3.1.2), compared as
   * exact strings: no prefix, wildcard or normalisation. Empty for a client without the
   * authorization_code grant.
   */
  @Column({ name: 'redirect_uris', type: 'text', array: true, default: () => "'{}'" })
  redirectUris!: string[];

  /** Where RP-initiated logout may send the browser after signing out, exact strings as well. */
  @Column({ name: 'post_logout_redirect_uris', type: 'text', array: true, default: () => "'{}'" })
  postLogoutRedirectUris!: string[];

  /** Tessera's own application: the consent page is skipped for it. */
  @Column({ name: 'first_party', type: 'boolean', default: false })
  firstParty!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
