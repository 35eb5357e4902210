import type Mail from 'nodemailer/lib/mailer/index.js';
import { buildContext, type RenderContact, type RenderableVersion, type TemplateRenderer } from '../templates/render.js';
import type { TrackingSpec } from '../tracking/track-html.js';
import { trackingKey } from '../tracking/token.js';
import { createUnsubscribeToken } from '../unsubscribe/token.js';
import { composeEmail, type Sender } from './compose.js';
import { bounceAddress, bounceKey, createBounceToken } from './bounce-address.js';
import { relayMetadataHeaders, relayProviderOf } from './relay-metadata.js';
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
  /** The `messages` row this email is (campaign sends): named by its VERP return path. Absent for test sends. */
  messageId?: number;
  /** The sending project's SMTP host: a hosted relay's (Postmark, Mailgun) gets the message token in its metadata header. */
  relayHost?: string | null;
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
  private readonly bounceKey: Buffer;

  constructor(
    private readonly deps: {
      renderer: TemplateRenderer;
      secret: string;
      publicUrl: string;
      /** BOUNCE_DOMAIN: the VERP bounce domain of mail no verified return-path host covers; undefined: no VERP for it. */
      bounceDomain?: string | undefined;
    },
  ) {
    this.trackingKey = trackingKey(deps.secret);
    this.bounceKey = bounceKey(deps.secret);
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
    const relay = this.relayHeaders(input);
    const withRelay = relay ? { ...mail, headers: { ...(mail.headers as Record<string, string>), ...relay } } : mail;
    const key = signingKeyFor(input.sender.fromEmail, input.signingKeys ?? []);
    const envelopeFrom = this.returnPath(input, key);
    const verp = envelopeFrom ? { ...withRelay, envelope: { from: envelopeFrom, to: recipient.email } } : withRelay;
    return key ? { ...verp, dkim: dkimOption(key) } : verp;
  }

  /**
   * `bounces+<token>@<bounce domain>` (bounce-address.ts): the From domain's
   * verified return-path host, aligned with From for DMARC, else
   * BOUNCE_DOMAIN. Neither: the envelope sender stays the From address.
   * The receiving server writes it as `Return-Path` (RFC 5321 §4.4); a
   * sender never sets that header itself.
   */
  private returnPath(input: CampaignMailInput, key: SigningKey | undefined): string | undefined {
    if (input.test || input.messageId === undefined) return undefined;
    const domain = key?.returnPathHost ?? this.deps.bounceDomain;
    return domain ? bounceAddress(this.bounceKey, { tenantId: input.tenantId, messageId: input.messageId }, domain) : undefined;
  }

  /** Campaign emails through Postmark or Mailgun name their message in the relay's metadata, echoed by its bounce webhooks. */
  private relayHeaders(input: CampaignMailInput): Record<string, string> | undefined {
    if (input.test || input.messageId === undefined) return undefined;
    const provider = relayProviderOf(input.relayHost);
    if (!provider) return undefined;
    return relayMetadataHeaders(provider, createBounceToken(this.bounceKey, { tenantId: input.tenantId, messageId: input.messageId }));
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
