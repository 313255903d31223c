import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One failed login, kept for LOGIN_THROTTLE_WINDOW or an hour, whichever is longer. In PostgreSQL rather than in memory so every
 * instance of the service counts the same failures. Registrations are counted here too, under
 * the account `(registration)` and their address group prefixed with `registration ` (I16).
 */
@Entity({ name: 'login_failures' })
export class LoginFailure {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The normalised email, whether or not it has an account. */
  @Column({ type: 'text' })
  account!: string;

  /** The client address the attempt came from, as its group: an IPv4 address or an IPv6 /64. */
  @Column({ type: 'text' })
  address!: string;

  @Column({ name: 'failed_at', type: 'timestamptz' })
  failedAt!: Date;
}
