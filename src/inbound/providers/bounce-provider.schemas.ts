import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../shared/schema.js';
import { BOUNCE_PROVIDERS } from './provider-report.js';

export const CreateBounceProviderBody = Type.Object(
  {
    provider: StringEnum(BOUNCE_PROVIDERS, { description: 'The hosted service the tenant relays through.' }),
    signingKey: Type.Optional(
      Type.String({
        minLength: 8,
        maxLength: 256,
        pattern: '^[\\x21-\\x7e]+$',
        description: "Mailgun only, required: the domain's HTTP webhook signing key (Mailgun → Sending → Webhooks). Sealed at rest, never shown again.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateBounceProviderBody = Static<typeof CreateBounceProviderBody>;

export const BounceProvider = Type.Object({
  id: Type.String(),
  provider: StringEnum(BOUNCE_PROVIDERS),
  url: Type.String({ description: 'The public receiver of this integration (without credentials).' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastReceivedAt: Nullable(Type.String({ format: 'date-time', description: 'The last webhook that verified.' })),
});

export const CreatedBounceProvider = Type.Object({
  ...BounceProvider.properties,
  webhookUrl: Type.String({
    description: "What to paste into the provider's webhook settings: `url`, with the basic-auth credentials in it for Postmark. Shown here only.",
  }),
  basicAuth: Nullable(
    Type.Object({ username: Type.String(), password: Type.String() }, { description: 'Postmark: the generated basic-auth credentials (shown here only, stored hashed); null for Mailgun.' }),
  ),
});

export const BounceProviderList = Type.Object({ data: Type.Array(BounceProvider) });

export const ProviderWebhookParams = Type.Object({
  provider: Type.String({ maxLength: 20, description: '`postmark` or `mailgun`' }),
  integrationId: Type.String({ maxLength: 200 }),
});

export const ProviderWebhookBody = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      "The provider's own JSON: a Postmark bounce or spam-complaint webhook (`RecordType`, `Type`, `Email`, `Details`, `Metadata`), or a Mailgun " +
      'webhook (`signature` {timestamp, token, signature} and `event-data`).',
  },
);

export const ProviderWebhookResult = Type.Object({
  outcome: StringEnum(['applied', 'duplicate', 'unmatched', 'ignored'] as const, {
    description:
      '`applied`: the address was acted on; `duplicate`: this report was already counted for the message; `unmatched`: kept, not acted on (reason); ' +
      '`ignored`: not a bounce or complaint (deliveries, opens…).',
  }),
  reason: Type.Optional(Type.String()),
});
