import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../shared/time.js';
import { sendError } from './errors.js';
import type { IdempotencyRepository } from './idempotency.repository.js';

const REPLAY_WINDOW_MS = 24 * 60 * 60_000;
/** A pending key older than this belongs to a request that died; a retry may take it over. */
const ABANDONED_AFTER_MS = 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route honours `Idempotency-Key`. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotencyKey: string | undefined;
  }
}

/**
 * `Idempotency-Key` on the routes that create or send: the first answer
 * (anything but a 5xx) is stored for 24 h per tenant and key and replayed to
 * a retry with the same request (`Idempotent-Replayed: true`); the same key
 * with a different request is 409 IDEMPOTENCY_KEY_REUSED; a retry while the
 * first is still running is 409 IDEMPOTENCY_KEY_IN_PROGRESS.
 */
export class Idempotency {
  constructor(private readonly deps: { keys: IdempotencyRepository; clock: Clock }) {}

  readonly preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.routeOptions.config.idempotent || !request.principal) return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    const key = Array.isArray(header) ? header[0]! : header;
    if (!KEY_PATTERN.test(key)) {
      return sendError(request, reply, 400, 'VALIDATION_ERROR', 'Idempotency-Key must be 1 to 255 visible ASCII characters', [
        { field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' },
      ]);
    }
    const tenantId = request.principal.tenantId;
    const fingerprint = createHash('sha256')
      .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
      .digest('hex');
    const now = this.deps.clock();
    const { keys } = this.deps;
    // Forget answers past the replay window, and pending keys whose request died.
    await keys.forgetStale(
      tenantId,
      key,
      new Date(now.getTime() - REPLAY_WINDOW_MS).toISOString(),
      new Date(now.getTime() - ABANDONED_AFTER_MS).toISOString(),
    );
    if (await keys.reserve(tenantId, key, fingerprint, now.toISOString())) {
      request.idempotencyKey = key;
      return;
    }
    const existing = await keys.get(tenantId, key);
    if (!existing || existing.fingerprint !== fingerprint) {
      return sendError(request, reply, 409, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request');
    }
    if (existing.status === 'pending') {
      reply.header('Retry-After', '1');
      return sendError(request, reply, 409, 'IDEMPOTENCY_KEY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed');
    }
    return reply
      .status(existing.status_code ?? 200)
      .header('Idempotent-Replayed', 'true')
      .type('application/json; charset=utf-8')
      .serializer((payload: unknown) => payload as string)
      .send(existing.response ?? '');
  };

  /** Stores the first answer, or forgets the key after a 5xx so a retry runs again. */
  readonly onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const key = request.idempotencyKey;
    if (!key || !request.principal) return payload;
    const tenantId = request.principal.tenantId;
    if (reply.statusCode >= 500) {
      await this.deps.keys.forget(tenantId, key);
    } else {
      const response = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
      await this.deps.keys.storeAnswer(tenantId, key, reply.statusCode, response, this.deps.clock().toISOString());
    }
    return payload;
  };
}
