import { addressGroup } from './address-group';

describe('addressGroup', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(addressGroup('192.0.2.1')).toBe('192.0.2.1');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(addressGroup('::ffff:192.0.2.1')).toBe('192.0.2.1');
  });

  it('groups every address of one IPv6 /64 together, however it is written', () => {
    const group = '2001:db8:1:2::/64';
    expect(addressGroup('2001:db8:1:2::1')).toBe(group);
    expect(addressGroup('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff')).toBe(group);
    expect(addressGroup('[2001:db8:1:2:a:b:c:d]')).toBe(group);
    expect(addressGroup('2001:db8:1:2::1%eth0')).toBe(group);
    expect(addressGroup('2001:db8:1:2::192.0.2.1')).toBe(group);
  });

  it('keeps neighbouring /64s apart', () => {
    expect(addressGroup('2001:db8:1:3::1')).not.toBe(addressGroup('2001:db8:1:2::1'));
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
  });

  it('leaves a value that is no address alone', () => {
    expect(addressGroup('unknown')).toBe('unknown');
  });
});
