import type { App } from '../http/types.js';
import { tenantOf } from '../http/types.js';
import { ErrorResponse, IdParams } from '../shared/schema.js';
import { CreateDomainBody, Domain, DomainList, DomainVerification, ListDomainsQuery } from './sending-domain.schemas.js';
import type { SendingDomainService } from './sending-domain.service.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const read = { scope: 'domains:read' } as const;
const write = { scope: 'domains:write' } as const;
const tags = ['domains'];

export function sendingDomainRoutes(app: App, { domains }: { domains: SendingDomainService }): void {
  app.post(
    '/domains',
    {
      config: write,
      schema: {
        operationId: 'createDomain',
        summary: 'Add a sending domain',
        description:
          'Generates an RSA-2048 DKIM key pair (the private key is sealed at rest and never answered) and lists the DNS `records` to publish ' +
          '(docs/DELIVERABILITY.md). 422 `INVALID_DOMAIN` for a name that is not a domain, 422 `PUBLIC_SUFFIX` for a bare public suffix ' +
          '(`co.uk`, `github.io`), 409 `DOMAIN_EXISTS` when the tenant has it already.',
        tags,
        body: CreateDomainBody,
        response: { 201: Domain, ...errors, 409: ErrorResponse, 422: ErrorResponse },
      },
    },
    async (request, reply) => reply.status(201).send(await domains.create(tenantOf(request), request.body)),
  );

  app.get(
    '/domains',
    {
      config: read,
      schema: {
        operationId: 'listDomains',
        summary: 'List sending domains',
        description: 'By name, cursor-paginated.',
        tags,
        querystring: ListDomainsQuery,
        response: { 200: DomainList, ...errors },
      },
    },
    async (request) => domains.list(tenantOf(request), request.query),
  );

  app.get(
    '/domains/:id',
    { config: read, schema: { operationId: 'getDomain', summary: 'Get a sending domain', tags, params: IdParams, response: { 200: Domain, ...errors } } },
    async (request) => domains.get(tenantOf(request), request.params.id),
  );

  app.delete(
    '/domains/:id',
    {
      config: write,
      schema: {
        operationId: 'deleteDomain',
        summary: 'Delete a sending domain',
        description: 'Its keys are deleted; DNS is not touched. 409 `DOMAIN_IN_USE` while a SENDING campaign sends From the domain.',
        tags,
        params: IdParams,
        response: { 204: { type: 'null' }, ...errors, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      await domains.delete(tenantOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/domains/:id/verify',
    {
      config: write,
      schema: {
        operationId: 'verifyDomain',
        summary: 'Check a sending domain’s DNS records',
        description:
          'Looks the records up now (DNS_SERVERS) and answers each check `VALID`, `PENDING` (missing, or DNS did not answer) or `FAILED` ' +
          '(published but wrong), with the reason. The domain is VERIFIED — its mail is DKIM-signed — when DKIM and SPF or the return path ' +
          'are VALID. A rotation’s new key that verifies starts signing.',
        tags,
        params: IdParams,
        response: { 200: DomainVerification, ...errors },
      },
    },
    async (request) => domains.verify(tenantOf(request), request.params.id),
  );

  app.post(
    '/domains/:id/rotate-dkim',
    {
      config: write,
      schema: {
        operationId: 'rotateDomainDkim',
        summary: 'Start a DKIM key rotation',
        description:
          'A new key under the next selector (`mc1` → `mc2`), listed as the `nextDkim` record. The current key signs until verify finds ' +
          'the new record; then the new one signs and the old record may be removed. 409 `ROTATION_PENDING` while one is under way.',
        tags,
        params: IdParams,
        response: { 200: Domain, ...errors, 409: ErrorResponse },
      },
    },
    async (request) => domains.rotateDkim(tenantOf(request), request.params.id),
  );
}
