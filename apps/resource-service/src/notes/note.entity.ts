import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * A note owned by a principal. Ownership is the pair (issuer, subject) from the verified access
 * token: a subject is unique only within its issuer.
 */
@Entity({ name: 'notes' })
// As the migrations make them (synchronize is off): the keyset pages of GET /notes.
@Index('notes_owner_created_id', ['ownerIssuer', 'ownerSubject', 'createdAt', 'id'])
@Index('notes_created_id', ['createdAt', 'id'])
export class Note {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'owner_issuer', type: 'text' })
  ownerIssuer!: string;

  @Column({ name: 'owner_subject', type: 'text' })
  ownerSubject!: string;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'text', default: '' })
  body!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  /** Set when its owner's account was disabled (`user.disabled`): then nobody sees it. */
  @Column({ name: 'hidden_at', type: 'timestamptz', nullable: true, select: false })
  hiddenAt!: Date | null;
}
