import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql, type Kysely, type SqlBool } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Clock } from '../shared/time.js';
import { sendError } from './errors.js';

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

/** A stored answer purged by an erasure: the key still holds (the request is not run again), its answer is gone. */
const ERASED_STATUS = 410;

/**
 * GDPR erasure: stored answers holding any of `needles` (the contact's
 * address and id, as written or JSON-escaped) are purged in the caller's
 * transaction. The key stays, so a retry is not run a second time; it is
 * answered 410 IDEMPOTENT_ANSWER_ERASED.
 */
export async function eraseStoredAnswers(db: Kysely<DB>, tenantId: string, needles: readonly string[]): Promise<void> {
  const patterns = [...new Set(needles.flatMap((needle) => [needle, JSON.stringify(needle).slice(1, -1)]))]
    .filter((needle) => needle.length > 0)
    .map((needle) => `%${needle.replace(/[\\%_]/g, (char) => `\\${char}`)}%`);
  if (patterns.length === 0) return;
  await db
    .updateTable('idempotency_keys')
    .set({ response: null, status_code: ERASED_STATUS })
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'done')
    .where((eb) => eb.or(patterns.map((pattern) => sql<SqlBool>`response like ${pattern} escape '\\'`)))
    .execute();
}

/**
 * `Idempotency-Key` on the routes that create or send: the first answer
 * (anything but a 5xx) is stored for 24 h per tenant and key and replayed to
 * a retry with the same request (`Idempotent-Replayed: true`); the same key
 * with a different request is 409 IDEMPOTENCY_KEY_REUSED; a retry while the
 * first is still running is 409 IDEMPOTENCY_KEY_IN_PROGRESS.
 */
export class Idempotency {
  constructor(private readonly deps: { db: Kysely<DB>; clock: Clock }) {}

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
    const at = now.toISOString();
    const { db } = this.deps;

    // Forget answers past the replay window, and pending keys whose request died.
    await db
      .deleteFrom('idempotency_keys')
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .where((eb) =>
        eb.or([
          eb('created_at', '<', new Date(now.getTime() - REPLAY_WINDOW_MS).toISOString()),
          eb.and([eb('status', '=', 'pending'), eb('updated_at', '<', new Date(now.getTime() - ABANDONED_AFTER_MS).toISOString())]),
        ]),
      )
      .execute();
    const inserted = await db
      .insertInto('idempotency_keys')
      .values({ tenant_id: tenantId, key, fingerprint, status: 'pending', status_code: null, response: null, created_at: at, updated_at: at })
      .onConflict((oc) => oc.columns(['tenant_id', 'key']).doNothing())
      .returning('key')
      .execute();
    if (inserted.length > 0) {
      request.idempotencyKey = key;
      return;
    }
    const existing = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!existing || existing.fingerprint !== fingerprint) {
      return sendError(request, reply, 409, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request');
    }
    if (existing.status === 'done' && existing.response === null && existing.status_code === ERASED_STATUS) {
      return sendError(
        request,
        reply,
        ERASED_STATUS,
        'IDEMPOTENT_ANSWER_ERASED',
        'The answer stored for this Idempotency-Key held a contact that was erased since; the request was applied once and is not repeated',
      );
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
    const where = this.deps.db.updateTable('idempotency_keys').where('tenant_id', '=', tenantId).where('key', '=', key);
    if (reply.statusCode >= 500) {
      await this.deps.db.deleteFrom('idempotency_keys').where('tenant_id', '=', tenantId).where('key', '=', key).execute();
    } else {
      await where
        .set({
          status: 'done',
          status_code: reply.statusCode,
          response: typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '',
          updated_at: this.deps.clock().toISOString(),
        })
        .execute();
    }
    return payload;
  };
}
