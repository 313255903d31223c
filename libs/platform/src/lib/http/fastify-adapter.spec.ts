import { trustProxyOf } from './fastify-adapter';

describe('trustProxyOf', () => {
  it('trusts no proxy by default, a hop count as a number, and addresses as given', () => {
    expect(trustProxyOf('')).toBe(false);
    expect(trustProxyOf('1')).toBe(1);
    expect(trustProxyOf('10.0.0.0/8,loopback')).toBe('10.0.0.0/8,loopback');
  });
});
