import { isHostNotAllowed, type OutboundPolicy } from '../net/outbound-policy.js';
import { decodeCursor, encodeCursor } from '../shared/cursor.js';
import { AppError, notFound, validationError } from '../shared/errors.js';
import { isId, newId } from '../shared/ids.js';
import { parseJsonColumn, parseJsonObject } from '../shared/json.js';
import { SecretBoxError, type SecretBox } from '../shared/secret-box.js';
import type { Clock } from '../shared/time.js';
import type { WebhookDeliveryRepository, WebhookDeliveryRow } from './webhook-delivery.repository.js';
import type { WebhookEndpointRepository, WebhookEndpointRow } from './webhook-endpoint.repository.js';
import { generateWebhookSecret, webhookSecretContext } from './webhook-secret.js';
import type { WebhookResult, WebhookSender } from './webhook-sender.js';
import { hostOf, parseWebhookUrl } from './webhook-url.js';
import type {
  CreateWebhookEndpointBody,
  CreatedWebhookEndpoint,
  ListWebhookDeliveriesQuery,
  ListWebhookEndpointsQuery,
  UpdateWebhookEndpointBody,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookEndpoint,
  WebhookEndpointList,
} from './webhook.schemas.js';

/** Endpoints one tenant may register. */
export const MAX_ENDPOINTS_PER_TENANT = 20;

/** DNS failures a create or PATCH tolerates: the name may not exist yet; every delivery checks again. */
const DNS_FAILURES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL']);

/**
 * Webhook endpoints and their deliveries as the API manages them: the URL
 * and host rules at registration, the secret (generated or given, sealed at
 * rest, shown once), enabling and disabling, the test send and the manual
 * retry. Deliveries themselves are sent by the WebhookDispatcher.
 */
export class WebhookService {
  constructor(
    private readonly deps: {
      endpoints: WebhookEndpointRepository;
      deliveries: WebhookDeliveryRepository;
      secretBox: SecretBox;
      outbound: OutboundPolicy;
      sender: WebhookSender;
      clock: Clock;
      maxEndpoints?: number;
    },
  ) {}

  async create(tenantId: string, body: CreateWebhookEndpointBody): Promise<CreatedWebhookEndpoint> {
    const url = await this.checkedUrl(body.url);
    const events = [...new Set(body.events)];
    const max = this.deps.maxEndpoints ?? MAX_ENDPOINTS_PER_TENANT;
    if ((await this.deps.endpoints.countOf(tenantId)) >= max) {
      throw new AppError(409, 'ENDPOINT_LIMIT_REACHED', `A tenant may have at most ${max} webhook endpoints; delete one first`);
    }
    const id = newId();
    const secret = body.secret ?? generateWebhookSecret();
    const now = this.deps.clock().toISOString();
    const row: WebhookEndpointRow = {
      id,
      tenant_id: tenantId,
      url,
      events: JSON.stringify(events),
      secret_encrypted: this.deps.secretBox.encrypt(secret, webhookSecretContext(id)),
      enabled: 1,
      disabled_reason: null,
      failing_since: null,
      lease_owner: null,
      lease_until: null,
      last_claimed_at: null,
      created_at: now,
      updated_at: now,
    };
    await this.deps.endpoints.insert(row);
    return { ...toEndpoint(row), secret };
  }

  async list(tenantId: string, query: ListWebhookEndpointsQuery): Promise<WebhookEndpointList> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor, isId);
    const rows = await this.deps.endpoints.listAfter(tenantId, after, query.limit + 1);
    const page = rows.slice(0, query.limit);
    const nextCursor = rows.length > query.limit ? encodeCursor(page[page.length - 1]!.id) : null;
    return { data: page.map(toEndpoint), meta: { limit: query.limit, nextCursor } };
  }

  async get(tenantId: string, id: string): Promise<WebhookEndpoint> {
    return toEndpoint(await this.load(tenantId, id));
  }

  async update(tenantId: string, id: string, body: UpdateWebhookEndpointBody): Promise<WebhookEndpoint> {
    await this.load(tenantId, id);
    const url = body.url === undefined ? undefined : await this.checkedUrl(body.url);
    const updated = await this.deps.endpoints.update(tenantId, id, {
      // A new URL is a new receiver: the old one's failures do not count toward disabling it.
      ...(url === undefined ? {} : { url, failing_since: null }),
      ...(body.events === undefined ? {} : { events: JSON.stringify([...new Set(body.events)]) }),
      updated_at: this.deps.clock().toISOString(),
    });
    if (!updated) throw notFound('Webhook endpoint');
    return this.get(tenantId, id);
  }

  /** Flips `enabled`; enabling again clears the failure clock (and the reason it was disabled). */
  async toggle(tenantId: string, id: string): Promise<WebhookEndpoint> {
    if (!isId(id) || !(await this.deps.endpoints.toggle(tenantId, id, this.deps.clock().toISOString()))) throw notFound('Webhook endpoint');
    return this.get(tenantId, id);
  }

  async delete(tenantId: string, id: string): Promise<void> {
    if (!isId(id) || !(await this.deps.endpoints.delete(tenantId, id))) throw notFound('Webhook endpoint');
  }

  /**
   * Sends a signed `webhook.test` event now (enabled or not) and answers
   * with its delivery record. The test is never logged as an event nor
   * retried; its delivery row has no next attempt while it is sent, so no
   * dispatcher picks it up meanwhile.
   */
  async test(tenantId: string, id: string): Promise<WebhookDelivery> {
    const endpoint = await this.load(tenantId, id);
    const now = this.deps.clock().toISOString();
    const eventId = newId();
    const payload = JSON.stringify({
      id: eventId,
      type: 'webhook.test',
      createdAt: now,
      tenantId,
      data: { endpointId: endpoint.id, message: 'A test event sent from the MailingCore API.' },
    });
    const row: WebhookDeliveryRow = {
      id: newId(),
      tenant_id: tenantId,
      endpoint_id: endpoint.id,
      event_id: eventId,
      event_type: 'webhook.test',
      contact_id: null,
      payload,
      status: 'pending',
      attempt: 0,
      next_attempt_at: null,
      status_code: null,
      response_body: null,
      last_error: null,
      delivered_at: null,
      created_at: now,
      updated_at: now,
    };
    await this.deps.deliveries.insert(row);
    let secret: string | undefined;
    try {
      secret = this.deps.secretBox.decrypt(endpoint.secret_encrypted, webhookSecretContext(endpoint.id));
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
    }
    const result: WebhookResult =
      secret === undefined
        ? { ok: false, statusCode: null, responseBody: null, error: 'the endpoint secret cannot be decrypted (was MAILINGCORE_SECRET changed?)' }
        : await this.deps.sender.send({ url: endpoint.url, deliveryId: row.id, eventType: row.event_type, body: payload, secret });
    const at = this.deps.clock().toISOString();
    await this.deps.deliveries.recordAttempt(row.id, {
      status: result.ok ? 'delivered' : 'failed',
      attempt: 1,
      next_attempt_at: null,
      status_code: result.statusCode,
      response_body: result.responseBody,
      last_error: result.error,
      delivered_at: result.ok ? at : null,
      updated_at: at,
    });
    return this.delivery(tenantId, endpoint.id, row.id);
  }

  async listDeliveries(tenantId: string, endpointId: string, query: ListWebhookDeliveriesQuery): Promise<WebhookDeliveryList> {
    await this.load(tenantId, endpointId);
    const before = query.cursor === undefined ? null : decodeCursor(query.cursor, isId);
    const rows = await this.deps.deliveries.list(tenantId, endpointId, {
      ...(query.status ? { status: query.status } : {}),
      ...(before ? { before } : {}),
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const nextCursor = rows.length > query.limit ? encodeCursor(page[page.length - 1]!.id) : null;
    return { data: page.map(toDelivery), meta: { limit: query.limit, nextCursor } };
  }

  /**
   * Manual retry: the delivery goes back in the queue, due now, and the
   * endpoint's dispatcher sends it next (as one more attempt, with the same
   * delivery id). Re-queued rather than sent here so that a delivery is only
   * ever sent under its endpoint's lease: never twice at once, never racing
   * the dispatcher. 409 for a delivered one, or while the endpoint is disabled.
   */
  async retry(tenantId: string, endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
    const endpoint = await this.load(tenantId, endpointId);
    const current = await this.delivery(tenantId, endpointId, deliveryId);
    if (endpoint.enabled !== 1) {
      throw new AppError(409, 'ENDPOINT_DISABLED', 'The webhook endpoint is disabled; enable it (PATCH …/toggle) before retrying its deliveries');
    }
    if (!(await this.deps.deliveries.requeue(tenantId, endpointId, deliveryId, this.deps.clock().toISOString()))) {
      throw new AppError(
        409,
        'INVALID_STATE',
        current.status === 'delivered' ? 'The delivery was delivered already' : 'The delivery is being sent right now',
        undefined,
        { currentStatus: current.status },
      );
    }
    return this.delivery(tenantId, endpointId, deliveryId);
  }

  private async delivery(tenantId: string, endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
    const row = isId(deliveryId) ? await this.deps.deliveries.getById(tenantId, endpointId, deliveryId) : undefined;
    if (!row) throw notFound('Webhook delivery');
    return toDelivery(row);
  }

  /** The URL as stored, or 400 (shape) / 422 HOST_NOT_ALLOWED (where it points); a name that does not resolve now is accepted. */
  private async checkedUrl(raw: string): Promise<string> {
    const parsed = parseWebhookUrl(raw, this.deps.outbound.privateAllowed('webhook'));
    if ('error' in parsed) throw validationError('Invalid webhook URL', [parsed.error]);
    try {
      await this.deps.outbound.checkHost(hostOf(parsed.url), { purpose: 'webhook' });
    } catch (error) {
      if (isHostNotAllowed(error)) {
        throw new AppError(422, 'HOST_NOT_ALLOWED', 'The webhook URL points at an address outbound connections may not reach', [
          { field: 'url', message: error.message },
        ]);
      }
      if (!DNS_FAILURES.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    return parsed.url.href;
  }

  private async load(tenantId: string, id: string): Promise<WebhookEndpointRow> {
    const row = isId(id) ? await this.deps.endpoints.getById(tenantId, id) : undefined;
    if (!row) throw notFound('Webhook endpoint');
    return row;
  }
}

export function toEndpoint(row: WebhookEndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    events: parseJsonColumn<string[]>(row.events) ?? [],
    enabled: row.enabled === 1,
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toDelivery(row: WebhookDeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    event: row.event_type,
    eventId: row.event_id,
    payload: parseJsonObject(row.payload),
    status: row.status,
    attempt: row.attempt,
    statusCode: row.status_code,
    responseBody: row.response_body,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
