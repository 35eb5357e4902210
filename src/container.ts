import { ApiKeyRepository } from './auth/api-key.repository.js';
import { ApiKeyService } from './auth/api-key.service.js';
import { LastUsedRecorder } from './auth/last-used.js';
import { CampaignRepository } from './campaigns/campaign.repository.js';
import { CampaignService } from './campaigns/campaign.service.js';
import { ContactImporter } from './contacts/contact.import.js';
import { ContactRepository } from './contacts/contact.repository.js';
import { ContactService } from './contacts/contact.service.js';
import type { Database } from './db/database.js';
import { ProjectRepository } from './projects/project.repository.js';
import { ProjectService } from './projects/project.service.js';
import { SecretBox } from './shared/secret-box.js';
import { systemClock, type Clock } from './shared/time.js';
import { SuppressionRepository } from './suppressions/suppression.repository.js';
import { SuppressionService } from './suppressions/suppression.service.js';
import { TemplateRenderer } from './templates/render.js';
import { TemplateRepository } from './templates/template.repository.js';
import { TemplateService } from './templates/template.service.js';
import { TenantRepository } from './tenants/tenant.repository.js';
import { TenantService } from './tenants/tenant.service.js';

/** The composition root: every repository and service, wired once. */
export interface Container {
  database: Database;
  /** Signs unsubscribe tokens and encrypts SMTP passwords (MAILINGCORE_SECRET or the stored one). */
  secret: string;
  clock: Clock;
  apiKeys: ApiKeyService;
  lastUsed: LastUsedRecorder;
  tenants: TenantService;
  campaigns: CampaignService;
  contacts: ContactService;
  contactImporter: ContactImporter;
  suppressions: SuppressionService;
  /** For other features: suppress(tenantId, email, reason), isSuppressed(tenantId, email). */
  suppressionRepository: SuppressionRepository;
  projects: ProjectService;
  /** For the send pipeline: getById (then smtpSettingsOfProject with secretBox). */
  projectRepository: ProjectRepository;
  /** Encrypts secrets at rest (SMTP passwords) with a key derived from `secret`. */
  secretBox: SecretBox;
  templates: TemplateService;
  /** For the send pipeline: getVersion, publishedVariants. */
  templateRepository: TemplateRepository;
  /** Parses each template version once (LRU); shared by preview and delivery. */
  templateRenderer: TemplateRenderer;
  close(): Promise<void>;
}

export interface ContainerOptions {
  secret: string;
  clock?: Clock;
  lastUsedFlushMs?: number;
  onBackgroundError?: (error: unknown) => void;
}

export function createContainer(database: Database, options: ContainerOptions): Container {
  const clock = options.clock ?? systemClock;
  const { db } = database;
  const secretBox = new SecretBox(options.secret);
  const projectRepository = new ProjectRepository(db);
  const tenantRepository = new TenantRepository(db);
  const keyRepository = new ApiKeyRepository(db);
  const apiKeys = new ApiKeyService({ keys: keyRepository, tenants: tenantRepository, clock });
  const lastUsed = new LastUsedRecorder(keyRepository, options.lastUsedFlushMs, options.onBackgroundError);
  const contacts = new ContactService({ contacts: new ContactRepository(db), clock });
  const suppressionRepository = new SuppressionRepository(db);
  const templateRepository = new TemplateRepository(db);
  const templateRenderer = new TemplateRenderer();
  return {
    database,
    secret: options.secret,
    clock,
    apiKeys,
    lastUsed,
    tenants: new TenantService({ tenants: tenantRepository, apiKeys, clock }),
    campaigns: new CampaignService({ campaigns: new CampaignRepository(db), clock }),
    contacts,
    contactImporter: new ContactImporter({ contacts }),
    suppressions: new SuppressionService({ suppressions: suppressionRepository, clock }),
    suppressionRepository,
    projects: new ProjectService({ projects: projectRepository, secretBox, clock }),
    projectRepository,
    secretBox,
    templates: new TemplateService({ templates: templateRepository, renderer: templateRenderer, clock }),
    templateRepository,
    templateRenderer,
    async close() {
      await lastUsed.flush();
      await database.close();
    },
  };
}
