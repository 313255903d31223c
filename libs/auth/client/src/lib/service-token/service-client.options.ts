/** This service as an OAuth client of the issuer, authenticated with `client_secret_basic`. */
export interface ServiceClientOptions {
  /** The client id registered at the issuer, usually the service's name. */
  id: string;
  /** The client secret: from configuration, never from code; it appears in no message or log. */
  secret: string;
  /** The token endpoint. Default: `<issuer>/oauth/token`. */
  tokenUri?: string;
  /** The introspection endpoint (RFC 7662). Default: `<issuer>/oauth/introspect`. */
  introspectionUri?: string;
  /** The scopes to ask for, space-separated (RFC 6749 §3.3). Default: the issuer's choice. */
  scope?: string;
  /** Sent as the RFC 8707 `resource` form parameter: the service the token is for. */
  audience?: string;
}

/** The client with its default endpoints applied. */
export type ResolvedServiceClientOptions = ServiceClientOptions & {
  tokenUri: string;
  introspectionUri: string;
};
