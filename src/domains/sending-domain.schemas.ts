import { Type, type Static } from '@sinclair/typebox';
import { DOMAIN_STATUSES } from '../db/enums.js';
import { Nullable, StringEnum } from '../shared/schema.js';

export const CHECK_STATUSES = ['VALID', 'PENDING', 'FAILED'] as const;
const CheckStatus = StringEnum(CHECK_STATUSES);
const Selector = Type.String({ pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$', description: 'The DKIM selector (default `mc1`).' });

export const CreateDomainBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 253,
      description: 'The domain mail is sent From (IDNs are stored as punycode): a registrable domain or a subdomain of one, never a bare public suffix.',
    }),
    selector: Type.Optional(Selector),
  },
  { additionalProperties: false },
);
export type CreateDomainBody = Static<typeof CreateDomainBody>;

export const DomainRecord = Type.Object({
  purpose: StringEnum(['dkim', 'nextDkim', 'spf', 'dmarc', 'returnPath', 'returnPathSpf'] as const, {
    description:
      '`nextDkim`: the key a rotation moves to, published beside the current one. `returnPath`: the MX of the return-path host `bounces.<name>` (the envelope sender of campaign email), pointing at the inbound listener; `returnPathSpf`: the SPF record of that host, which receivers check the envelope sender against.',
  }),
  type: StringEnum(['TXT', 'MX'] as const),
  host: Type.String(),
  value: Type.String({ description: 'For `spf` and `dmarc` a suggestion: a record of your own that passes verify is fine. For MX, `<priority> <exchange>`.' }),
  status: CheckStatus,
});

const Check = {
  status: CheckStatus,
  reason: Nullable(Type.String({ description: 'Why it is not VALID.' })),
};

export const Domain = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: StringEnum(DOMAIN_STATUSES, { description: 'VERIFIED (mail From it is DKIM-signed) once DKIM and SPF or the return path are VALID.' }),
  selector: Type.String({ description: 'The selector that signs.' }),
  nextSelector: Nullable(Type.String({ description: 'The selector a rotation moves to; it signs once it verifies.' })),
  records: Type.Array(DomainRecord),
  verifiedAt: Nullable(Type.String({ format: 'date-time', description: 'The last verify that found the domain VERIFIED.' })),
  checkedAt: Nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Domain = Static<typeof Domain>;

export const DomainVerification = Type.Object({
  status: StringEnum(DOMAIN_STATUSES),
  spfStatus: CheckStatus,
  spfReason: Check.reason,
  dkimStatus: CheckStatus,
  dkimReason: Check.reason,
  dmarcStatus: CheckStatus,
  dmarcReason: Check.reason,
  returnPathStatus: CheckStatus,
  returnPathReason: Check.reason,
  returnPathSpfStatus: CheckStatus,
  returnPathSpfReason: Check.reason,
  nextDkimStatus: Nullable(CheckStatus),
  nextDkimReason: Check.reason,
  domain: Domain,
});
export type DomainVerification = Static<typeof DomainVerification>;

export const ListDomainsQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type ListDomainsQuery = Static<typeof ListDomainsQuery>;

export const DomainList = Type.Object({
  data: Type.Array(Domain),
  meta: Type.Object({ limit: Type.Integer(), nextCursor: Nullable(Type.String()) }),
});
export type DomainList = Static<typeof DomainList>;
