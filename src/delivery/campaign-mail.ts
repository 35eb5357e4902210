import type Mail from 'nodemailer/lib/mailer/index.js';
import { buildContext, inert, type RenderContact, type RenderableVersion, type TemplateRenderer } from '../templates/render.js';
import type { TrackingSpec } from '../tracking/track-html.js';
import { NO_CAMPAIGN, trackingKey } from '../tracking/token.js';
import type { TransactionalContent } from './delivery-store.js';
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
    return this.signed(mail, {
      tenantId: input.tenantId,
      to: recipient.email,
      fromEmail: input.sender.fromEmail,
      signingKeys: input.signingKeys ?? [],
      relayHost: input.relayHost ?? null,
      ...(input.test || input.messageId === undefined ? {} : { messageId: input.messageId }),
    });
  }

  /**
   * A transactional email (docs/SENDING.md): its content as it was rendered
   * when accepted; opens and clicks tracked when asked — the tenant's HTML is
   * rewritten in the render pool, like a campaign's, never on this event
   * loop; no list headers — the one-click unsubscribe headers only when the
   * content has an unsubscribe link — signed and given a VERP return path
   * like any email.
   */
  async buildTransactional(input: {
    tenantId: string;
    messageId: number;
    to: string;
    content: TransactionalContent;
    signingKeys: readonly SigningKey[];
    relayHost?: string | null;
  }): Promise<Mail.Options> {
    const { content } = input;
    let html = content.html;
    if (html !== null && (content.trackOpens || content.trackClicks)) {
      const tracking: TrackingSpec = {
        key: this.trackingKey,
        publicUrl: this.deps.publicUrl,
        tenantId: input.tenantId,
        campaignId: NO_CAMPAIGN,
        messageId: input.messageId,
        opens: content.trackOpens,
        clicks: content.trackClicks,
      };
      // Subject and text are not rewritten: empty, so the thread has nothing else to do.
      html = (await this.deps.renderer.renderOnce({ id: `tx-tracking:${input.messageId}`, subject: '', htmlBody: inert(html), textBody: '' }, {}, tracking)).html;
    }
    const mail = composeEmail({
      messageKey: `${NO_CAMPAIGN}.${input.messageId}`,
      to: input.to,
      sender: { fromEmail: content.fromEmail, fromName: content.fromName, replyTo: content.replyTo },
      rendered: { subject: content.subject, html: html ?? '', text: content.text ?? '' },
      unsubscribeUrl: content.unsubscribeUrl,
    });
    if (html === null) delete mail.html;
    if (content.text === null) delete mail.text;
    return this.signed(mail, {
      tenantId: input.tenantId,
      to: input.to,
      fromEmail: content.fromEmail,
      signingKeys: input.signingKeys,
      relayHost: input.relayHost ?? null,
      messageId: input.messageId,
    });
  }

  /**
   * DKIM-signed by the From domain's verified key, if any, and sent from
   * `bounces+<token>@<bounce domain>` (bounce-address.ts) when the email is a
   * queued message: the From domain's verified return-path host, aligned
   * with From for DMARC, else BOUNCE_DOMAIN. Neither: the envelope sender
   * stays the From address. The receiving server writes it as `Return-Path`
   * (RFC 5321 §4.4); a sender never sets that header itself. Through
   * Postmark or Mailgun (by the project's SMTP host) the message token also
   * goes in the relay's metadata header, which its bounce webhooks echo
   * (relay-metadata.ts).
   */
  private signed(
    mail: Mail.Options,
    of: { tenantId: string; to: string; fromEmail: string; signingKeys: readonly SigningKey[]; relayHost: string | null; messageId?: number },
  ): Mail.Options {
    const provider = of.messageId === undefined ? undefined : relayProviderOf(of.relayHost);
    const relay = provider ? relayMetadataHeaders(provider, createBounceToken(this.bounceKey, { tenantId: of.tenantId, messageId: of.messageId! })) : {};
    const withRelay = Object.keys(relay).length > 0 ? { ...mail, headers: { ...(mail.headers as Record<string, string>), ...relay } } : mail;
    const key = signingKeyFor(of.fromEmail, of.signingKeys);
    const domain = of.messageId === undefined ? undefined : (key?.returnPathHost ?? this.deps.bounceDomain);
    const envelopeFrom = domain ? bounceAddress(this.bounceKey, { tenantId: of.tenantId, messageId: of.messageId! }, domain) : undefined;
    const verp = envelopeFrom ? { ...withRelay, envelope: { from: envelopeFrom, to: of.to } } : withRelay;
    return key ? { ...verp, dkim: dkimOption(key) } : verp;
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
