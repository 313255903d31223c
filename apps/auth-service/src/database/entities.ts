import { User } from '../users/user.entity';

export const entities = [User];
