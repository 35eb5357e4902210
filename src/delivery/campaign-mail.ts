import type Mail from 'nodemailer/lib/mailer/index.js';
import { buildContext, type RenderContact, type RenderableVersion, type TemplateRenderer } from '../templates/render.js';
import type { TrackingSpec } from '../tracking/track-html.js';
import { trackingKey } from '../tracking/token.js';
import { createUnsubscribeToken } from '../unsubscribe/token.js';
import { composeEmail, type Sender } from './compose.js';
import { dkimOption, signingKeyFor, type SigningKey } from './dkim.js';

/** Who a campaign email goes to: a contact of the tenant, or (test sends) a bare address. */
export interface Recipient {
  email: string;
  contact: { id: string; locale: string | null; externalId: string | null; attributes: Record<string, unknown> } | null;
}

export interface CampaignMailInput {
  tenantId: string;
  campaign: { id: string; subject: string | null; name?: string | null };
  /** The sending project's id, or `default` (the server's transport): the last field of Feedback-ID. */
  senderId?: string;
  /** The variant locale routing chose for this recipient. */
  version: RenderableVersion;
  recipient: Recipient;
  sender: Sender;
  /** Makes the Message-ID: `<key@sender domain>`, stable per message so a duplicate is recognisable. */
  messageKey: string;
  /** A test send: "[Test] " before the subject, and an unsubscribe token that names no campaign. */
  test?: boolean;
  /** The tenant's verified domains' keys: the one of the From domain (or its organisational domain) signs. */
  signingKeys?: readonly SigningKey[];
  /** The campaign's tracking switches and the message they are for (never for test sends). */
  tracking?: { messageId: number; opens: boolean; clicks: boolean };
}

/**
 * The one message builder: what Nodemailer sends for one recipient of a
 * campaign — the version rendered with the recipient's data (the campaign's
 * subject, when it has one, instead of the version's), a signed unsubscribe
 * URL in the template and in the RFC 8058 headers. The delivery worker and
 * the test send both build their emails here.
 */
export class CampaignMailBuilder {
  private readonly trackingKey: Buffer;

  constructor(private readonly deps: { renderer: TemplateRenderer; secret: string; publicUrl: string }) {
    this.trackingKey = trackingKey(deps.secret);
  }

  async build(input: CampaignMailInput): Promise<Mail.Options> {
    const { campaign, recipient } = input;
    const unsubscribeUrl = this.unsubscribeUrl(input);
    const version = campaign.subject
      ? { ...input.version, subject: campaign.subject, id: `${input.version.id}:${campaign.id}` } // its own parse-cache entry
      : input.version;
    const contact: RenderContact = {
      email: recipient.email,
      locale: recipient.contact?.locale ?? null,
      externalId: recipient.contact?.externalId ?? null,
      attributes: recipient.contact?.attributes ?? {},
    };
    const rendered = await this.deps.renderer.render(version, buildContext({ contact, unsubscribeUrl }), this.trackingOf(input));
    const mail = composeEmail({
      messageKey: input.messageKey,
      to: recipient.email,
      sender: input.sender,
      rendered,
      unsubscribeUrl,
      list: {
        tenantId: input.tenantId,
        campaignId: campaign.id,
        campaignName: campaign.name ?? null,
        senderId: input.senderId ?? 'default',
        stream: input.test ? 'test' : 'campaign',
      },
      ...(input.test ? { subjectPrefix: '[Test] ' } : {}),
    });
    const key = signingKeyFor(input.sender.fromEmail, input.signingKeys ?? []);
    return key ? { ...mail, dkim: dkimOption(key) } : mail;
  }

  /** Links and pixel are rewritten in the render thread (docs/TRACKING.md says why); test sends are never tracked. */
  private trackingOf(input: CampaignMailInput): TrackingSpec | undefined {
    const tracking = input.tracking;
    if (input.test || !tracking || (!tracking.opens && !tracking.clicks)) return undefined;
    return {
      key: this.trackingKey,
      publicUrl: this.deps.publicUrl,
      tenantId: input.tenantId,
      campaignId: input.campaign.id,
      messageId: tracking.messageId,
      opens: tracking.opens,
      clicks: tracking.clicks,
    };
  }

  /** A test send to an address that is no contact gets a link that unsubscribes nobody. */
  private unsubscribeUrl(input: CampaignMailInput): string {
    const contact = input.recipient.contact;
    if (!contact) return `${this.deps.publicUrl}/u/test-send`;
    const token = createUnsubscribeToken(this.deps.secret, {
      tenantId: input.tenantId,
      contactId: contact.id,
      campaignId: input.test ? null : input.campaign.id,
    });
    return `${this.deps.publicUrl}/u/${token}`;
  }
}
