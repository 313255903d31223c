export { describeForgedTokens, forgeryHeader } from './forged-tokens.suite';
export { TestIssuer } from './test-issuer';
