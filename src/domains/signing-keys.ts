import type { SigningKey } from '../delivery/dkim.js';
import { SecretBoxError, type SecretBox } from '../shared/secret-box.js';
import type { SendingDomainRepository } from './sending-domain.repository.js';
import { domainKeyContext } from './sending-domain.service.js';
import { parseJsonColumn } from '../shared/json.js';
import { returnPathHost, type DomainChecks } from './dns-checks.js';

/** Whether the last verify found `bounces.<name>`'s MX pointing at us: only then may bounces be sent there. */
function returnPathValid(checks: unknown): boolean {
  try {
    return parseJsonColumn<Partial<DomainChecks>>(checks)?.returnPath?.status === 'VALID';
  } catch {
    return false;
  }
}

/**
 * A tenant's VERIFIED domains' signing keys, opened: what the delivery store
 * hands the worker once per batch and the test send once per send. A key
 * that no longer opens (MAILINGCORE_SECRET changed) is left out: that mail
 * goes unsigned rather than not at all.
 */
export class SigningKeys {
  constructor(private readonly deps: { domains: SendingDomainRepository; secretBox: SecretBox }) {}

  async of(tenantId: string): Promise<SigningKey[]> {
    const sealed = await this.deps.domains.verifiedKeys(tenantId);
    const keys: SigningKey[] = [];
    for (const key of sealed) {
      try {
        const opened: SigningKey = { domain: key.name, selector: key.selector, privateKey: this.deps.secretBox.decrypt(key.sealedKey, domainKeyContext(key.id)) };
        if (returnPathValid(key.checks)) opened.returnPathHost = returnPathHost(key.name);
        keys.push(opened);
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
      }
    }
    return keys;
  }
}
