import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { isUniqueViolation } from '../db/errors.js';
import { signingKeyFor } from '../delivery/dkim.js';
import type { DnsLookup } from '../net/dns-lookup.js';
import { decodeCursor, encodeCursor } from '../shared/cursor.js';
import { checkDomainName } from '../shared/domain-name.js';
import { AppError, notFound, unprocessable } from '../shared/errors.js';
import { isId, newId } from '../shared/ids.js';
import { parseJsonColumn } from '../shared/json.js';
import type { SecretBox } from '../shared/secret-box.js';
import type { Clock } from '../shared/time.js';
import {
  buildRecords,
  checkDkim,
  checkDmarc,
  checkReturnPath,
  checkReturnPathSpf,
  checkSpf,
  dkimHost,
  dmarcFallbackHost,
  dmarcHost,
  domainStatus,
  nextSelector,
  returnPathHost,
  type DomainChecks,
} from './dns-checks.js';
import type { SendingDomainRepository, SendingDomainRow } from './sending-domain.repository.js';
import type { CreateDomainBody, Domain, DomainList, DomainVerification, ListDomainsQuery } from './sending-domain.schemas.js';

const generateRsa = promisify(generateKeyPair);

export const DEFAULT_SELECTOR = 'mc1';

/** The secret-box context of a domain's private keys: a sealed key copied to another row does not open there. */
export const domainKeyContext = (id: string) => `domain:${id}`;

interface StoredChecks extends DomainChecks {
  checkedAt: string;
}

/**
 * Sending domains: the name rules, a DKIM key pair per domain (private key
 * sealed at rest, never answered), the records to publish, verify (DNS
 * look-ups judged by dns-checks.ts) and key rotation.
 */
export class SendingDomainService {
  constructor(
    private readonly deps: {
      domains: SendingDomainRepository;
      /** CampaignRepository (structurally: campaigns depend on domains for signing, not the other way). */
      campaigns: { sendingFromAddresses(tenantId: string): Promise<(string | null)[]> };
      secretBox: SecretBox;
      dns: DnsLookup;
      clock: Clock;
      /** The mail server `bounces.<name>`'s MX points at: BOUNCE_MX_HOST, else the host of PUBLIC_URL. */
      returnPathTarget: string;
      /** The From address of campaigns without a project (MAIL_FROM). */
      defaultFromEmail: string;
    },
  ) {}

  async create(tenantId: string, body: CreateDomainBody): Promise<Domain> {
    const checked = checkDomainName(body.name);
    if (!checked.ok) throw unprocessable(checked.code, checked.message, [{ field: 'name', message: checked.message }]);
    if (await this.deps.domains.getByName(tenantId, checked.name)) throw domainExists(checked.name);
    const id = newId();
    const key = await this.newKey(id);
    const now = this.deps.clock().toISOString();
    const row: SendingDomainRow = {
      id,
      tenant_id: tenantId,
      name: checked.name,
      status: 'PENDING',
      selector: body.selector ?? DEFAULT_SELECTOR,
      dkim_public_key: key.publicKey,
      dkim_private_key_encrypted: key.sealedKey,
      next_selector: null,
      next_dkim_public_key: null,
      next_dkim_private_key_encrypted: null,
      checks: null,
      verified_at: null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.deps.domains.insert(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw domainExists(checked.name);
      throw error;
    }
    return this.toDomain(row);
  }

  async list(tenantId: string, query: ListDomainsQuery): Promise<DomainList> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor, (key) => checkDomainName(key).ok);
    const rows = await this.deps.domains.listAfter(tenantId, after, query.limit + 1);
    const page = rows.slice(0, query.limit);
    const nextCursor = rows.length > query.limit ? encodeCursor(page[page.length - 1]!.name) : null;
    return { data: page.map((row) => this.toDomain(row)), meta: { limit: query.limit, nextCursor } };
  }

  async get(tenantId: string, id: string): Promise<Domain> {
    return this.toDomain(await this.load(tenantId, id));
  }

  /** Refused while a SENDING campaign sends From the domain (its mail would stop being signed mid-campaign). */
  async delete(tenantId: string, id: string): Promise<void> {
    const row = await this.load(tenantId, id);
    const froms = await this.deps.campaigns.sendingFromAddresses(tenantId);
    const probe = [{ domain: row.name, selector: row.selector, privateKey: '' }];
    if (froms.some((from) => signingKeyFor(from ?? this.deps.defaultFromEmail, probe) !== undefined)) {
      throw new AppError(409, 'DOMAIN_IN_USE', `A SENDING campaign sends From ${row.name}; delete the domain once it has finished (or cancel it)`);
    }
    if (!(await this.deps.domains.delete(tenantId, id))) throw notFound('Domain');
  }

  /**
   * Looks the records up and stores the outcome. A rotation's new key that
   * verifies becomes the signing key at once (the old one is dropped).
   */
  async verify(tenantId: string, id: string): Promise<DomainVerification> {
    const row = await this.load(tenantId, id);
    const { name } = row;
    const dkimAt = dkimHost(name, row.selector);
    const nextAt = row.next_selector ? dkimHost(name, row.next_selector) : null;
    const [dkimAnswer, nextAnswer, spfAnswer, dmarcAnswer, mxAnswer, returnPathSpfAnswer] = await Promise.all([
      this.deps.dns.txt(dkimAt),
      nextAt ? this.deps.dns.txt(nextAt) : Promise.resolve(null),
      this.deps.dns.txt(name),
      this.deps.dns.txt(dmarcHost(name)),
      this.deps.dns.mx(returnPathHost(name)),
      this.deps.dns.txt(returnPathHost(name)),
    ]);
    let dmarc = checkDmarc(dmarcHost(name), dmarcAnswer);
    const fallback = dmarcFallbackHost(name);
    if (dmarcAnswer.kind === 'missing' && fallback) {
      const organisational = checkDmarc(fallback, await this.deps.dns.txt(fallback));
      if (organisational.check.status !== 'PENDING') dmarc = organisational;
    }
    const returnPathSpf = checkReturnPathSpf(name, returnPathSpfAnswer, spfAnswer);
    const checks: StoredChecks = {
      checkedAt: this.deps.clock().toISOString(),
      dkim: checkDkim(dkimAt, dkimAnswer, row.dkim_public_key),
      spf: checkSpf(name, spfAnswer),
      dmarc: dmarc.check,
      returnPath: checkReturnPath(name, mxAnswer, this.deps.returnPathTarget, dmarc.policy),
      returnPathSpf,
      ...(nextAt && nextAnswer && row.next_dkim_public_key ? { nextDkim: checkDkim(nextAt, nextAnswer, row.next_dkim_public_key) } : {}),
    };
    const promote = checks.nextDkim?.status === 'VALID' && row.next_selector && row.next_dkim_public_key && row.next_dkim_private_key_encrypted;
    if (promote) {
      checks.dkim = checks.nextDkim!;
      delete checks.nextDkim;
    }
    const status = domainStatus(checks);
    const patch = {
      status,
      checks: JSON.stringify(checks),
      verified_at: status === 'VERIFIED' ? checks.checkedAt : row.verified_at,
      updated_at: checks.checkedAt,
      ...(promote
        ? {
            selector: row.next_selector!,
            dkim_public_key: row.next_dkim_public_key!,
            dkim_private_key_encrypted: row.next_dkim_private_key_encrypted!,
            next_selector: null,
            next_dkim_public_key: null,
            next_dkim_private_key_encrypted: null,
          }
        : {}),
    };
    if (!(await this.deps.domains.update(tenantId, id, patch))) throw notFound('Domain');
    const domain = await this.get(tenantId, id);
    return {
      status,
      spfStatus: checks.spf.status,
      spfReason: checks.spf.reason,
      dkimStatus: checks.dkim.status,
      dkimReason: checks.dkim.reason,
      dmarcStatus: checks.dmarc.status,
      dmarcReason: checks.dmarc.reason,
      returnPathStatus: checks.returnPath.status,
      returnPathReason: checks.returnPath.reason,
      returnPathSpfStatus: returnPathSpf.status,
      returnPathSpfReason: returnPathSpf.reason,
      nextDkimStatus: checks.nextDkim?.status ?? null,
      nextDkimReason: checks.nextDkim?.reason ?? null,
      domain,
    };
  }

  /**
   * Starts a key rotation: a new key under the next selector, published
   * beside the current one, which keeps signing until verify finds the new
   * record (then the new key signs and the old record may be removed).
   * 409 ROTATION_PENDING while one is under way.
   */
  async rotateDkim(tenantId: string, id: string): Promise<Domain> {
    const row = await this.load(tenantId, id);
    if (row.next_selector) throw rotationPending(row.next_selector);
    const key = await this.newKey(id);
    const started = await this.deps.domains.startRotation(
      tenantId,
      id,
      { selector: nextSelector(row.selector), publicKey: key.publicKey, sealedKey: key.sealedKey },
      this.deps.clock().toISOString(),
    );
    if (!started) {
      const now = await this.load(tenantId, id);
      throw rotationPending(now.next_selector ?? '');
    }
    return this.get(tenantId, id);
  }

  private async newKey(id: string): Promise<{ publicKey: string; sealedKey: string }> {
    const { publicKey, privateKey } = await generateRsa('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    return { publicKey: publicKey.toString('base64'), sealedKey: this.deps.secretBox.encrypt(privateKey, domainKeyContext(id)) };
  }

  private async load(tenantId: string, id: string): Promise<SendingDomainRow> {
    const row = isId(id) ? await this.deps.domains.getById(tenantId, id) : undefined;
    if (!row) throw notFound('Domain');
    return row;
  }

  private toDomain(row: SendingDomainRow): Domain {
    const checks = parseJsonColumn<StoredChecks>(row.checks);
    return {
      id: row.id,
      name: row.name,
      status: row.status as Domain['status'],
      selector: row.selector,
      nextSelector: row.next_selector,
      records: buildRecords({
        name: row.name,
        selector: row.selector,
        publicKey: row.dkim_public_key,
        next: row.next_selector && row.next_dkim_public_key ? { selector: row.next_selector, publicKey: row.next_dkim_public_key } : null,
        returnPathTarget: this.deps.returnPathTarget,
        checks,
      }),
      verifiedAt: row.verified_at,
      checkedAt: checks?.checkedAt ?? null,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }
}

const domainExists = (name: string) => new AppError(409, 'DOMAIN_EXISTS', `The domain ${name} is already registered for this tenant`);
const rotationPending = (selector: string) =>
  new AppError(409, 'ROTATION_PENDING', `A DKIM rotation to selector ${selector} is under way; publish its record and verify first`);
