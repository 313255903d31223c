export { serviceGenerator } from './generators/service/service';
export type { ServiceGeneratorSchema } from './generators/service/schema';
