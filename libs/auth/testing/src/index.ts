export { TestIssuer } from './test-issuer';
