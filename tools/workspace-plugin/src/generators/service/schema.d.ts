export interface ServiceGeneratorSchema {
  /** Plural, kebab-case: `orders` makes orders-service. */
  name: string;
  port?: number;
  /** False for a stateless service (`--no-database`). */
  database?: boolean;
}
