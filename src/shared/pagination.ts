import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const PageQuery = {
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'Page number, from 1' }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (1–100)' }),
};

export interface PageRequest {
  page: number;
  limit: number;
}

export interface Page<T> {
  data: T[];
  meta: { page: number; limit: number; total: number; totalPages: number };
}

export const PageMeta = Type.Object({
  page: Type.Integer(),
  limit: Type.Integer(),
  total: Type.Integer(),
  totalPages: Type.Integer(),
});

export const pageOf = <T extends TSchema>(item: T) => Type.Object({ data: Type.Array(item), meta: PageMeta });

export function toPage<T>(data: T[], total: number, { page, limit }: PageRequest): Page<T> {
  return { data, meta: { page, limit, total, totalPages: Math.ceil(total / limit) } };
}

export const offsetOf = ({ page, limit }: PageRequest): number => (page - 1) * limit;

export type PageMetaType = Static<typeof PageMeta>;
